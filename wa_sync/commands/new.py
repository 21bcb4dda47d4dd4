"""`wa-sync new customer ID` and `wa-sync new template NAME`: scaffold a commented file.

The files validate as written: a brand-new customer is at the first value of every
onboarding step and declares no sender or template yet (both are shown as commented
examples); a new library template has one `en` localization with a placeholder and its
sample. Each starts with the `# yaml-language-server: $schema=` line so that editors
complete and check it against the schema.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TextIO

from wa_sync.commands.files import adopted_account, settings_flow, write_file
from wa_sync.errors import UsageError
from wa_sync.model import CUSTOMER_ID_PATTERN, TEMPLATE_NAME_PATTERN, Flow, rollout_name_clash
from wa_sync.runtime import Runtime

# Most file systems stop file names at 255 bytes: NAME.yaml leaves 250 for the name.
MAX_FILE_STEM = 250

SCHEMA_LINE = "# yaml-language-server: $schema=../schema/{kind}.schema.json"


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    flow = Flow(args.flow) if args.flow else None
    if args.kind == "customer" and flow is None:
        flow = ask_flow(
            runtime,
            settings_flow(args.root, way_out="or give --flow legacy|embedded_signup"),
        )
    run(
        kind=args.kind,
        name=args.name,
        root=args.root,
        force=args.force,
        out=runtime.stdout,
        flow=flow or Flow.LEGACY,
    )
    return 0


def ask_flow(runtime: Runtime, default: Flow) -> Flow:
    """The new customer's onboarding flow: asked on a terminal, else the setting's."""
    if not runtime.stdin_isatty:
        return default
    choices = " | ".join(f.value for f in Flow)
    while True:
        runtime.stdout.write(
            "How is this customer onboarded? legacy: Twilio's ISV flow (access request); "
            "embedded_signup: the Tech Provider flow (Meta's Embedded Signup in your app).\n"
            f"Flow [{choices}] (default {default.value}): "
        )
        runtime.stdout.flush()
        answer = runtime.stdin.readline()
        if not answer:  # end of input: take the default
            return default
        answer = answer.strip()
        if not answer:
            return default
        if answer in {f.value for f in Flow}:
            return Flow(answer)
        runtime.stdout.write(f"{answer!r} is not a flow: answer {choices}.\n")


def run(
    *, kind: str, name: str, root: str, force: bool, out: TextIO, flow: Flow = Flow.LEGACY
) -> Path:
    """Write the scaffold for `kind` ("customer" or "template") and say what to do next."""
    if kind == "customer":
        check_customer_id(name)
        text, folder = customer_yaml(name, flow), "customers"
    elif kind == "template":
        check_template_name(name)
        text, folder = template_yaml(name), "templates"
    else:
        raise UsageError(f"cannot scaffold a {kind!r}: choose customer or template")
    if not Path(root).is_dir():
        raise UsageError(f"--root {root}: no such directory")
    relative = Path(folder) / f"{name}.yaml"
    target = Path(root) / relative
    existing = next((p for p in (target, target.with_suffix(".yml")) if p.exists()), None)
    if existing is not None and not force:
        raise UsageError(
            f"{relative.parent / existing.name} already exists; edit it, or pass --force to "
            "replace it with a fresh scaffold"
        )
    if kind == "customer" and (sid := adopted_account(target)):
        raise UsageError(
            f"{relative} adopts subaccount {sid} (account_sid): a fresh scaffold would leave it "
            f"in no customer file and make a new subaccount wa-sync:{name}. Edit the file "
            f"instead (`wa-sync import {name} --account-sid {sid} --force` refreshes it from "
            "Twilio)"
        )
    write_file(target, text, force=force, shown=relative)
    out.write(f"Wrote {relative}.\n")
    if kind == "customer":
        out.write(f"Onboarding flow: {flow.value} (another: --flow legacy|embedded_signup).\n")
    out.write(f"\n{next_steps(kind, name, relative, flow)}")
    return target


def check_customer_id(customer_id: str) -> None:
    if CUSTOMER_ID_PATTERN.match(customer_id):
        return
    hint = _suggest(customer_id, "-", CUSTOMER_ID_PATTERN)
    raise UsageError(
        f"{customer_id!r} is not a valid customer id: use 2 to 56 characters from a-z, 0-9 "
        "and -, starting with a letter or digit (the subaccount is named wa-sync:<id>, "
        f"within Twilio's 64 characters){hint}"
    )


def check_template_name(name: str) -> None:
    if not TEMPLATE_NAME_PATTERN.match(name):
        hint = _suggest(name, "_", TEMPLATE_NAME_PATTERN)
        raise UsageError(
            f"{name!r} is not a valid WhatsApp template name: use 1 to 512 characters from "
            f"a-z, 0-9 and _{hint}"
        )
    if len(name) > MAX_FILE_STEM:
        raise UsageError(
            f"a {len(name)}-character name cannot be a library file: file names stop at "
            f"{MAX_FILE_STEM} characters plus .yaml. Declare the template inline in the "
            "customer file instead (WhatsApp allows up to 512 characters there)"
        )
    clash = rollout_name_clash(name)
    if clash:
        raise UsageError(", so ".join(clash))


def _suggest(value: str, separator: str, pattern: re.Pattern[str]) -> str:
    candidate = re.sub(r"[^a-z0-9]+", separator, value.strip().lower()).strip("-_")
    if candidate and candidate != value and pattern.match(candidate):
        return f"; did you mean {candidate!r}?"
    return ""


def _display_name(customer_id: str) -> str:
    return " ".join(word.capitalize() for word in customer_id.split("-") if word)


def customer_yaml(customer_id: str, flow: Flow = Flow.LEGACY) -> str:
    """A new customer: valid as written, every onboarding step of its flow at its first
    value."""
    onboarding = _SIGNUP if flow is Flow.EMBEDDED_SIGNUP else _LEGACY
    text = (
        _CUSTOMER.replace("@ONBOARDING@", onboarding)
        .replace("@ID@", customer_id)
        .replace("@NAME@", _display_name(customer_id))
        .replace("@SNAKE@", customer_id.replace("-", "_"))
    )
    return SCHEMA_LINE.format(kind="customer") + "\n" + text


def template_yaml(name: str) -> str:
    """A new library template: one `en` localization with a placeholder and its sample."""
    return SCHEMA_LINE.format(kind="template") + "\n" + _TEMPLATE.replace("@NAME@", name)


def next_steps(kind: str, name: str, relative: Path, flow: Flow = Flow.LEGACY) -> str:
    if kind == "customer" and flow is Flow.EMBEDDED_SIGNUP:
        steps = [
            f"Edit {relative}: the business's name.",
            f"Check it: wa-sync validate, then wa-sync plan --customer {name} (a new "
            f"subaccount wa-sync:{name} is planned).",
            "Open a pull request; merging it runs apply, which creates the subaccount.",
            "When the customer has completed Embedded Signup in your application: record "
            "`onboarding.signup: completed`, `signup_date` and the `waba_id` it returned.",
            "Uncomment and fill in a sender and its templates; if the number was not bought "
            f"from Twilio, `wa-sync verify {name} PHONE CODE` submits the one-time code.",
        ]
    elif kind == "customer":
        steps = [
            f"Edit {relative}: the business's name, then each onboarding fact as it happens.",
            f"Check it: wa-sync validate, then wa-sync plan --customer {name} (a new "
            f"subaccount wa-sync:{name} is planned).",
            "Open a pull request; merging it runs apply, which creates the subaccount.",
            f"When the customer has accepted WhatsApp's terms: wa-sync access-request {name} "
            "prints the access-request form, checked.",
            "Once access is approved, uncomment and fill in a sender and its templates.",
        ]
    else:
        steps = [
            f"Edit {relative}: the category, and the message in each language, with a "
            "sample value for every {{N}} placeholder.",
            f"Offer it to customers: add `- use: {name}` under `templates:` in their "
            "customers/<id>.yaml.",
            "Check it: wa-sync validate, then wa-sync plan.",
        ]
    numbered = "".join(f"  {i}. {step}\n" for i, step in enumerate(steps, 1))
    return f"Next steps:\n{numbered}"


_CUSTOMER = """\
# Customer @ID@: one business onboarded to WhatsApp on Twilio.
# The file name is the customer id. On the next apply, wa-sync creates (or adopts) the
# Twilio subaccount "wa-sync:@ID@" for it, then its senders and templates once the
# onboarding steps below allow. README.md says how changes reach Twilio.

name: "@NAME@"  # the business's name, as the customer writes it (required)

@ONBOARDING@
# WhatsApp senders (registered once the onboarding steps above allow). The display name
# must follow WhatsApp's rules: a rejected name caps the number at 250 business-initiated
# messages a day.
# senders:
#   - phone_number: "+14155550123"  # E.164, as a string
#     display_name: @NAME@
#     verification: sms  # sms | voice: how Meta sends the one-time code for a number
#                        # not bought from Twilio (submit it with `wa-sync verify`)
#     profile:
#       about: What the business does, in one line
#       address: 1 Main St, San Francisco, CA
#       emails: [hello@example.com]
#       websites: [https://example.com]
#       vertical: Other
#     webhook:
#       callback_url: https://hooks.example.com/whatsapp/@ID@

# Message templates: from the library in templates/, or written inline.
# templates:
#   - use: appointment_reminder  # templates/appointment_reminder.yaml
#     with: {clinic_name: "@NAME@"}  # values for the library template's params
#   - name: @SNAKE@_welcome  # an inline template
#     language: en
#     category: UTILITY
#     body: "Hi {{1}}, welcome to @NAME@. Reply here with any questions."
#     variables: {"1": "Maria"}
"""

_LEGACY = """\
# Needed for the WhatsApp access request (`wa-sync access-request @ID@`):
# facebook_business_manager_id: "123456789012345"  # the CUSTOMER's Business Manager ID
# customer_account_sid: AC...  # the customer's own Twilio project, where they accepted the terms

# account_sid: AC...  # optional: adopt this existing subaccount instead of creating one
# waba_id: "104000000000001"  # the WhatsApp Business Account ID, once known (senders need it)

# What people did outside Twilio's API. Update each line as it happens; wa-sync shows
# the senders and templates that wait on a step as "blocked" until then.
onboarding:
  flow: legacy  # Twilio's ISV flow: Terms of Service, access request, invitation
  terms_accepted: false  # false | true: the customer accepted WhatsApp's Terms of Service
  business_verification: not_started  # not_started | pending | verified | rejected
  access_request: not_submitted  # not_submitted | submitted | approved | denied
  invitation: not_sent  # not_sent | pending | approved: Twilio's invitation in Business Manager
"""

_SIGNUP = """\
# account_sid: AC...  # optional: adopt this existing subaccount instead of creating one
# waba_id: "104000000000001"  # the WABA ID that Embedded Signup returned (senders need it)

# What people did outside Twilio's API. The customer signs up through Meta's Embedded
# Signup in your application; there is no access request, Terms-of-Service record or
# invitation. wa-sync shows the senders and templates that wait on a step as "blocked".
onboarding:
  flow: embedded_signup  # Twilio's Tech Provider flow (isv.tech_provider in wa-sync.yaml)
  signup: not_started  # not_started | completed: the customer finished Embedded Signup
  # signup_date: "2026-11-30"  # the day they did (Meta's 7-day onboarding limit counts it)
  business_verification: not_started  # Meta business verification: 2 phone numbers until verified
"""

_TEMPLATE = """\
# Library template @NAME@: shared by every customer that lists `- use: @NAME@`.
# A customer's copy is named @NAME@ in its WhatsApp Business Account, one per language.

name: @NAME@  # the WhatsApp template name: a-z, 0-9 and _ only
category: UTILITY  # UTILITY | MARKETING | AUTHENTICATION: WhatsApp may re-categorise it

# Values each customer supplies with `with:`, used in the text as ${{ param }}:
# params: [company_name]

# One entry per language (WhatsApp codes: en, en_US, es, pt_BR...). {{1}}, {{2}}... are
# WhatsApp placeholders, filled in when a message is sent: number them from 1 without
# gaps, never start or end the body with one, and give each a sample in `variables`.
localizations:
  en:
    body: "Hi {{1}}, this is an update about your request. Reply here with any questions."
    variables: {"1": "Maria"}
  # es:
  #   body: "Hola {{1}}, le escribimos sobre su solicitud. Responda aquí con sus preguntas."
  #   variables: {"1": "María"}
"""
