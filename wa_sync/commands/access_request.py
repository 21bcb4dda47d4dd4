"""`wa-sync access-request ID`: the four fields of Twilio's WhatsApp access-request
form for one customer, checked for the mistakes the seed warns about (SPEC §4.7)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence

from wa_sync.commands.common import EMULATOR_BANNER, check_known, connect, load
from wa_sync.identity import AccountIndex
from wa_sync.model import AccessRequest, Flow
from wa_sync.onboarding import FormField, FormProblem, access_request_form, check_access_request
from wa_sync.plan.ownership import check_ownership
from wa_sync.runtime import Runtime
from wa_sync.visible import visible

# What to do with a form that checks out, by onboarding.access_request.
NEXT = {
    AccessRequest.NOT_SUBMITTED: "All four fields check out: submit the form, then record "
    "`onboarding.access_request: submitted`.",
    AccessRequest.SUBMITTED: "All four fields check out. The request is submitted: when Twilio "
    "approves it, record `onboarding.access_request: approved`.",
    AccessRequest.APPROVED: "All four fields check out. The request is already approved; "
    "nothing to submit.",
    AccessRequest.DENIED: "All four fields check out. The last request was denied: fix what "
    "Twilio's answer names, submit the form again, then record "
    "`onboarding.access_request: submitted`.",
}


# What replaces the access request in the Tech Provider flow (SPEC §1.1).
NO_FORM = (
    "Instead, the ISV is approved once as a Tech Provider (isv.tech_provider.status in "
    "wa-sync.yaml), and the customer completes Meta's Embedded Signup in the ISV's "
    "application, which returns the WABA ID: record `onboarding.signup: completed` and "
    "`waba_id`. `wa-sync status` shows which step is next."
)


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root,
        customer_id=args.id,
        fmt=args.format,
        emulator=args.emulator,
        runtime=runtime,
    )


def run(*, root: str, customer_id: str, fmt: str, emulator: bool, runtime: Runtime) -> int:
    check_known(root, customer_id)
    loaded = load(root, only=[customer_id], err=runtime.stderr)
    customer, isv = loaded.config.customer(customer_id), loaded.config.isv
    assert customer is not None  # load() refused unknown ids
    if customer.onboarding.flow is Flow.EMBEDDED_SIGNUP:
        runtime.stdout.write(_no_form(customer_id, fmt, access_request_form(isv, customer, None)))
        return 0
    with connect(runtime, root=root, emulator=emulator, parallelism=1) as gateway:
        live = gateway.read([])  # the subaccount listing is all the form needs
    check_ownership(loaded.config.customers, live.accounts, known=loaded.known, scope=[customer_id])
    account = AccountIndex(live.accounts).match(customer, live.parent_sid)
    fields = access_request_form(isv, customer, account)
    problems = check_access_request(
        isv,
        customer,
        account,
        parent_sid=live.parent_sid,
        subaccount_sids=[a.sid for a in live.accounts if a.sid != (account and account.sid)],
    )
    state = customer.onboarding.access_request
    next_step = _fix_first(customer_id, problems) if problems else NEXT[state]
    if fmt == "json":
        form = {f.label: f.value for f in fields}
        runtime.stdout.write(
            _json(customer_id, Flow.LEGACY, gateway.emulated, state, form, problems, next_step)
        )
    else:
        text = _text(customer_id, fields, problems, next_step, gateway.emulated)
        runtime.stdout.write(text)
    return 1 if problems else 0


def _fix_first(customer_id: str, problems: Sequence[FormProblem]) -> str:
    """The next step while the form has problems (the text lists them above it)."""
    return (
        f"Do not submit the form yet: fix the {len(problems)} problem(s), each with its fix, "
        f"then run `wa-sync access-request {customer_id}` again."
    )


def _json(
    customer_id: str,
    flow: Flow,
    emulated: bool | None,
    state: AccessRequest | None,
    form: Mapping[str, str | None],
    problems: Sequence[FormProblem],
    next_step: str,
) -> str:
    """The one shape of both flows (docs/commands/access-request.md): every key in both."""
    doc = {
        "customer": customer_id,
        "flow": flow.value,
        "emulator": emulated,
        "valid": not problems,
        "access_request": None if state is None else state.value,
        "fields": dict(form),
        "problems": [
            {"field": p.field, "rule": p.rule, "message": p.message, "fix": p.fix} for p in problems
        ],
        "next": next_step,
    }
    return json.dumps(doc, indent=2) + "\n"


def _no_form(customer_id: str, fmt: str, fields: Sequence[FormField]) -> str:
    """An embedded_signup customer has no access request (SPEC §1.1): Twilio is not read
    (`emulator` null), and the form's four fields are null."""
    if fmt == "json":
        form = dict.fromkeys(f.label for f in fields)
        return _json(customer_id, Flow.EMBEDDED_SIGNUP, None, None, form, [], NO_FORM)
    flow = "is onboarded with the embedded_signup flow: it has no access request."
    return f"{customer_id} {flow}\n{NO_FORM}\n"


def _text(
    customer_id: str,
    fields: Sequence[FormField],
    problems: Sequence[FormProblem],
    next_step: str,
    emulated: bool,
) -> str:
    lines = [EMULATOR_BANNER] if emulated else []
    lines.append(f"WhatsApp access request for {customer_id}:")
    width = max(len(f.label) for f in fields)
    lines += [f"  {f.label.ljust(width)}  {f.value or '(missing)'}" for f in fields]
    if problems:
        lines.append(f"\n{len(problems)} problem(s); do not submit the form yet:")
        for p in problems:
            lines.append(f"  ✗ {p.field}: {p.message} [{p.rule}]\n    fix: {p.fix}")
    else:
        lines.append("\n" + next_step)
    return visible("\n".join(lines)) + "\n"
