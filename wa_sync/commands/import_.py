"""`wa-sync import ID --account-sid AC...`: write customers/ID.yaml from an existing
subaccount's live state (SPEC §3).

What live state implies (an ONLINE sender means the access request and Twilio's
invitation were approved) is filled in with a comment saying so; what Twilio cannot
know (the customer's Business Manager ID and own Account SID) is left out with a
comment asking a person to add it. The file validates as written, and a plan right
after reports no changes for that customer.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wa_sync.commands.common import EMULATOR_BANNER, connect
from wa_sync.commands.files import adopted_account, adopted_in, settings_flow, write_file
from wa_sync.commands.import_templates import (
    dump,
    left_out_lines,
    left_out_said,
    newest,
    scalar,
    template_doc,
    unsubmitted_lines,
    unsubmitted_said,
)
from wa_sync.config.limits import NUMBERS_UNVERIFIED
from wa_sync.config.repo import load_repo
from wa_sync.errors import ConfigInvalid, Problem, UsageError, WaSyncError
from wa_sync.health import INVITATION_NOT_ACCEPTED, offline_reasons
from wa_sync.model import (
    ACCOUNT_SID_PATTERN,
    CUSTOMER_ID_PATTERN,
    Flow,
    LiveAccount,
    LiveCustomer,
    LiveEstate,
    LiveSender,
    thaw,
)
from wa_sync.runtime import Runtime

# Sender statuses of the one-time code step (SPEC §1.1 step 4): only the Tech Provider flow
ONE_TIME_CODE = ("PENDING_VERIFICATION", "VERIFYING")


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root,
        customer_id=args.id,
        account_sid=args.account_sid,
        force=args.force,
        emulator=args.emulator,
        runtime=runtime,
    )


def run(
    *, root: str, customer_id: str, account_sid: str, force: bool, emulator: bool, runtime: Runtime
) -> int:
    target = _target(root, customer_id, account_sid, force=force)
    default_flow = settings_flow(root, way_out="then import")
    with connect(runtime, root=root, emulator=emulator, parallelism=1) as gateway:
        estate = gateway.read([])
        account = _subaccount(estate, account_sid)
        _refuse_managed_elsewhere(root, customer_id, account)
        _refuse_swapping(target, customer_id, account, estate.accounts)
        senders, contents = gateway.read_subaccount(account)
        emulated = gateway.emulated
    live = LiveCustomer(
        customer_id=customer_id, account=account, senders=senders, contents=contents
    )
    text = customer_yaml(
        customer_id,
        live,
        now=datetime.now(UTC),
        emulated=emulated,
        default_flow=default_flow,
    )
    write_file(target, text, force=force)
    refused = _refused(root, target)
    runtime.stdout.write(_written(target, live, emulated, valid=not refused))
    if refused:  # what Twilio holds breaks the rules: the file is the place to fix it
        raise WaSyncError(
            f"customers/{target.name} does not validate as written: what Twilio holds fails "
            "these checks. Fix it in the file, then run `wa-sync validate`:\n"
            + "\n".join(str(p) for p in refused)
        )
    return 0


def _target(root: str, customer_id: str, account_sid: str, *, force: bool) -> Path:
    """customers/ID.yaml, once the arguments and what is already there allow writing it."""
    if not CUSTOMER_ID_PATTERN.match(customer_id):
        raise UsageError(
            f"{customer_id!r} is not a valid customer id: use 2-56 characters "
            "a-z, 0-9 and -, starting with a letter or digit"
        )
    if not ACCOUNT_SID_PATTERN.match(account_sid):
        raise UsageError(
            f"--account-sid {account_sid!r} is not an Account SID: AC and 32 hex digits in "
            "lower case, as Twilio writes it (copy it from the Console)"
        )
    if not Path(root).is_dir():
        raise UsageError(f"--root {root}: no such directory")
    target = Path(root) / "customers" / f"{customer_id}.yaml"
    if (target.exists() or target.is_symlink()) and not force:
        raise UsageError(f"{target} already exists; pass --force to overwrite it")
    if target.with_suffix(".yml").exists():  # wa-sync reads no .yml: two files for one id
        raise UsageError(
            f"customers/{customer_id}.yml is this customer's file under an extension wa-sync "
            f"does not read: rename it to customers/{customer_id}.yaml, then import with "
            "--force to refresh it from the subaccount"
        )
    return target


def _written(target: Path, live: LiveCustomer, emulated: bool, *, valid: bool) -> str:
    banner = [EMULATOR_BANNER] if emulated else []
    said = (
        f"Wrote {target}: {len(live.senders)} sender(s), {len(newest(live))} "
        f"template(s){unsubmitted_said(live)}{left_out_said(live)}. Add what the lines "
        "marked ACTION NEEDED "
        "ask for" + (", then run `wa-sync plan`." if valid else ".")
    )
    return "\n".join([*banner, said]) + "\n"


def _refused(root: str, target: Path) -> list[Problem]:
    """The errors `validate` finds in the file just written (Twilio keeps content that
    WhatsApp's rules refuse: a body that ends with a variable, a variable without a
    sample)."""
    try:
        load_repo(root)
    except ConfigInvalid as exc:
        where = f"customers/{target.name}"
        return [p for p in exc.problems if p.is_error and p.where.file == where]
    return []


def _subaccount(estate: LiveEstate, account_sid: str) -> LiveAccount:
    account = next((a for a in estate.accounts if a.sid.lower() == account_sid.lower()), None)
    if account is None and account_sid.lower() == estate.parent_sid.lower():
        raise UsageError(
            f"--account-sid {account_sid} is the parent account itself, not a subaccount: "
            "import reads one customer's subaccount"
        )
    if account is None:
        raise UsageError(
            f"--account-sid {account_sid} is not a subaccount of the parent account whose "
            "credentials are in use: import reads an existing subaccount of that parent"
        )
    if account.status != "active":
        raise UsageError(
            f"subaccount {account.sid} is {account.status}: Twilio refuses its credentials, "
            "so its senders and templates cannot be read"
            + ("; reactivate it first" if account.status == "suspended" else "")
        )
    return account


def _refuse_managed_elsewhere(root: str, customer_id: str, account: LiveAccount) -> None:
    """One subaccount, one customer file: another file that adopts or names this
    subaccount would make two customers fight over it."""
    for path in sorted((Path(root) / "customers").glob("*.yaml")):
        if path.stem == customer_id or not path.is_file():  # a FIFO would block
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # `validate` says what is wrong with it
        if path.stem != account.customer_id and account.sid not in text:
            continue  # it can adopt only a SID it names: most files need no parsing
        adopted = adopted_in(text)
        if account.customer_id == path.stem and adopted not in (None, account.sid):
            raise UsageError(
                f"subaccount {account.sid} is named {account.friendly_name!r}, the name of "
                f"customer {path.stem}'s subaccount, though {path} adopts {adopted}: two "
                "customer files would claim it. Rename it in the Twilio Console (any "
                f"FriendlyName but {account.friendly_name!r}), then import it"
            )
        if adopted == account.sid or account.customer_id == path.stem:
            raise UsageError(
                f"subaccount {account.sid} ({account.shown_name}) already belongs to "
                f"{path}: run `wa-sync import {path.stem} --account-sid {account.sid} "
                "--force` to refresh that file instead"
            )


def _refuse_swapping(
    target: Path, customer_id: str, account: LiveAccount, accounts: Sequence[LiveAccount]
) -> None:
    """--force refreshes a file from its own subaccount; over a file that manages another
    one, that subaccount would be left without a customer file, in no plan."""
    if not target.is_file():  # never read a FIFO or a device (they block or never end)
        return
    adopted = adopted_account(target)
    named = [a for a in accounts if a.customer_id == customer_id and a.status != "closed"]
    managed = next((a for a in accounts if a.sid == adopted), named[0] if len(named) == 1 else None)
    if managed is None or managed.sid == account.sid:
        return
    raise UsageError(
        f"{target} manages subaccount {managed.sid} ({managed.shown_name}), not "
        f"{account.sid}: written over, it would leave {managed.sid} without a customer file. "
        "Import the other subaccount under another id, or remove the file first if that is "
        "what you mean"
    )


def customer_yaml(
    customer_id: str,
    live: LiveCustomer,
    *,
    now: datetime,
    emulated: bool = False,
    default_flow: Flow = Flow.LEGACY,
) -> str:
    """The customer file for a live subaccount: a pure function of live state (and of
    the flow to assume where live state does not tell)."""
    assert live.account is not None
    name, source = _business_name(live)
    where = "the wa-sync emulator" if emulated else "Twilio"
    lines = [
        "# yaml-language-server: $schema=../schema/customer.schema.json",
        f"# Imported by `wa-sync import {customer_id} --account-sid {live.account.sid}` "
        f"on {now:%Y-%m-%d} from the live subaccount in {where}.",
        f"name: {scalar(name)}  # the business's name, {source}: check it",
        *_onboarding_lines(live, default_flow),
    ]
    if live.senders:
        senders = sorted(live.senders, key=lambda s: s.sender_id)
        lines += _names_in_review(senders)
        lines.append(dump({"senders": [_sender(s) for s in senders]}).rstrip())
    if newest(live):
        lines.append(
            "# Templates as Twilio holds them (the newest _vN of each name and language), "
            "inline:\n# where one is a library template, `use:` it from templates/ instead."
        )
        lines += unsubmitted_lines(live)
        templates = {"templates": [template_doc(c) for c in newest(live)]}
        lines.append(dump(templates).rstrip())
    return "\n".join(lines + left_out_lines(live)) + "\n"


def _business_name(live: LiveCustomer) -> tuple[str, str]:
    assert live.account is not None
    display = sorted((s.sender_id, s.display_name) for s in live.senders if s.display_name)
    if display:
        return display[0][1], "from the sender's display name"
    return live.account.customer_id or live.account.friendly_name, "from the subaccount's name"


def _onboarding_lines(live: LiveCustomer, default_flow: Flow) -> list[str]:
    """The account, the WABA and the onboarding record of the customer's flow."""
    assert live.account is not None
    flow, why = infer_flow(live, default_flow)
    lines = []
    if flow is Flow.LEGACY:
        lines += [
            "# ACTION NEEDED: Twilio's API does not know these; the access request needs them:",
            '# facebook_business_manager_id: "..."  # the CUSTOMER\'s Business Manager ID',
            "# customer_account_sid: AC...  # the customer's own Twilio project (where ToS was "
            "accepted)",
        ]
    lines.append(f"account_sid: {live.account.sid}  # adopt this existing subaccount")
    waba_id = next((s.waba_id for s in live.senders if s.waba_id), None)
    if waba_id:
        lines.append(f"waba_id: {scalar(waba_id)}  # from the sender's configuration")
    registered = bool(live.senders)
    verified = _verified_by_numbers(live)
    if flow is Flow.EMBEDDED_SIGNUP:
        return lines + _signup_onboarding(why, registered=registered) + verified
    return lines + _onboarding(live, flow_why=why, verified=verified)


def _verified_by_numbers(live: LiveCustomer) -> list[str]:
    """`business_verification: verified` when the subaccount holds more senders than
    Meta registers for an unverified business (config/limits.py), else nothing."""
    count = len(live.senders)
    if count <= NUMBERS_UNVERIFIED:
        return []
    return [
        f"  business_verification: verified  # implied: {count} senders are registered, and "
        f"Meta allows a business {NUMBERS_UNVERIFIED} until it is verified"
    ]


def infer_flow(live: LiveCustomer, default: Flow) -> tuple[Flow, str]:
    """The customer's onboarding flow as far as live state tells, and why: a sender
    waiting for (or checking) its one-time code is the Tech Provider flow's step 4;
    otherwise the two flows leave the same traces, and the setting decides."""
    coded = next((s for s in live.senders if s.status in ONE_TIME_CODE), None)
    if coded is not None:
        return Flow.EMBEDDED_SIGNUP, (
            f"inferred: sender {coded.phone_number} is {coded.status}, the one-time code "
            "step of the Tech Provider flow"
        )
    return default, (
        f"assumed: settings.onboarding_flow is {default.value}; live state does not tell the "
        "flows apart"
    )


def _signup_onboarding(why: str, *, registered: bool) -> list[str]:
    lines = ["onboarding:", f"  flow: embedded_signup  # {why}"]
    if registered:
        lines.append(
            "  signup: completed  # implied: a sender is registered with the WABA that "
            "Embedded Signup returned"
        )
    else:
        lines.append("  signup: not_started  # no sender is registered yet: record it when done")
    return lines


def _onboarding(live: LiveCustomer, *, flow_why: str, verified: list[str]) -> list[str]:
    """The legacy flow's record. A sender registered in the subaccount means steps 2-5
    are done (SPEC §1: the ISV registers it once the access request is approved); an
    ONLINE one means the invitation was approved too, and Twilio's 63020 that it is out."""
    if not live.senders:
        return [
            "onboarding:  # no sender is registered yet: record each step as it happens",
            f"  flow: legacy  # {flow_why}",
            "  terms_accepted: false",
            "  business_verification: not_started",
            "  access_request: not_submitted",
            "  invitation: not_sent",
        ]
    online = any(s.status == "ONLINE" for s in live.senders)
    implied = (
        "implied: a sender is ONLINE in the subaccount"
        if online
        else "implied: a sender is registered in the subaccount, which follows the access "
        "request's approval"
    )
    verification = [f"  business_verification: verified  # {implied}"]
    if verified and not online:  # the number of senders says it more plainly
        verification = verified
    lines = [
        "onboarding:",
        f"  flow: legacy  # {flow_why}",
        f"  terms_accepted: true  # {implied}",
        *verification,
        f"  access_request: approved  # {implied}",
    ]
    if online:
        return [*lines, f"  invitation: approved  # {implied}"]
    if any(r.code == INVITATION_NOT_ACCEPTED for s in live.senders for r in offline_reasons(s)):
        return [
            *lines,
            f"  invitation: pending  # implied: Twilio reports {INVITATION_NOT_ACCEPTED}, "
            "the business has not accepted Twilio's invitation yet",
        ]
    return [*lines, "  invitation: not_sent  # record it when Twilio sends the invitation"]


def _in_review(sender: LiveSender) -> str | None:
    """The display name in Meta's review: the newest word on the sender's name. Declared,
    the plan waits for Meta; the name in service declared instead would be put back by
    the plan after Meta approves the new one."""
    if (sender.pending_display_name_status or "").upper() != "PENDING_REVIEW":
        return None
    return sender.pending_display_name or None


def _names_in_review(senders: Sequence[LiveSender]) -> list[str]:
    said = [
        f"#   {s.phone_number}: {name!r}; {s.display_name!r} stays in service until Meta "
        "approves it"  # repr: Twilio's text can end no comment
        for s in senders
        if (name := _in_review(s)) and name != s.display_name
    ]
    if not said:
        return []
    return ["# Display names in Meta's review, declared as the names to keep:", *said]


def _sender(sender: LiveSender) -> dict[str, Any]:
    name = _in_review(sender) or sender.display_name
    doc: dict[str, Any] = {"phone_number": sender.phone_number, "display_name": name}
    profile = {k: v for k, v in thaw(sender.profile).items() if v not in (None, "", [])}
    if profile:
        doc["profile"] = profile
    webhook = {k: v for k, v in thaw(sender.webhook).items() if v not in (None, "", [])}
    if webhook:
        doc["webhook"] = webhook
    return doc
