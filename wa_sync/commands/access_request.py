"""`wa-sync access-request ID`: the four fields of Twilio's WhatsApp access-request
form for one customer, checked for the mistakes the seed warns about (SPEC §4.7)."""

from __future__ import annotations

import argparse
import difflib
import json
from collections.abc import Sequence
from pathlib import Path

from wa_sync.commands.common import EMULATOR_BANNER, connect, customer_file_ids, load
from wa_sync.errors import UsageError
from wa_sync.model import AccessRequest
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


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root,
        customer_id=args.id,
        fmt=args.format,
        emulator=args.emulator,
        runtime=runtime,
    )


def run(*, root: str, customer_id: str, fmt: str, emulator: bool, runtime: Runtime) -> int:
    _check_known(root, customer_id)
    loaded = load(root, only=[customer_id], err=runtime.stderr)
    customer = loaded.config.customer(customer_id)
    assert customer is not None  # load() refused unknown ids
    with connect(runtime, root=root, emulator=emulator, parallelism=1) as gateway:
        live = gateway.read([customer])
    check_ownership(loaded.config.customers, live.accounts, known=loaded.known, scope=[customer_id])
    account = live.customers[customer_id].account
    fields = access_request_form(loaded.config.isv, customer, account)
    problems = check_access_request(
        loaded.config.isv,
        customer,
        account,
        parent_sid=live.parent_sid,
        subaccount_sids=[a.sid for a in live.accounts if a.sid != (account and account.sid)],
    )
    state = customer.onboarding.access_request
    if fmt == "json":
        doc = {
            "customer": customer_id,
            "emulator": gateway.emulated,
            "valid": not problems,
            "access_request": state.value,
            "fields": {f.label: f.value for f in fields},
            "problems": [
                {"field": p.field, "rule": p.rule, "message": p.message, "fix": p.fix}
                for p in problems
            ],
        }
        runtime.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        text = _text(customer_id, fields, problems, NEXT[state], gateway.emulated)
        runtime.stdout.write(text)
    return 1 if problems else 0


def _check_known(root: str, customer_id: str) -> None:
    known = customer_file_ids(root)
    if customer_id in known or not (Path(root) / "customers").is_dir():
        return  # load() reports a missing repository
    close = difflib.get_close_matches(customer_id, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UsageError(
        f"no customer {customer_id!r}: there is no file customers/{customer_id}.yaml.{hint} "
        f"Known customers: {', '.join(sorted(known)) or 'none'}."
    )


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
