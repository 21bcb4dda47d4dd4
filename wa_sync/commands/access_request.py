"""`wa-sync access-request ID`: the four fields of Twilio's WhatsApp access-request
form for one customer, checked for the mistakes the seed warns about (SPEC §4.7)."""

from __future__ import annotations

import argparse
import json

from wa_sync.commands.common import EMULATOR_BANNER, connect, load
from wa_sync.onboarding import access_request_form, check_access_request
from wa_sync.runtime import Runtime


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root,
        customer_id=args.id,
        fmt=args.format,
        emulator=args.emulator,
        runtime=runtime,
    )


def run(*, root: str, customer_id: str, fmt: str, emulator: bool, runtime: Runtime) -> int:
    loaded = load(root, only=[customer_id], err=runtime.stderr)
    customer = loaded.config.customer(customer_id)
    assert customer is not None  # load() refused unknown ids
    with connect(runtime, root=root, emulator=emulator, parallelism=1) as gateway:
        live = gateway.read([customer])
    account = live.customers[customer_id].account
    fields = access_request_form(loaded.config.isv, customer, account)
    problems = check_access_request(
        loaded.config.isv,
        customer,
        account,
        parent_sid=live.parent_sid,
        subaccount_sids=[a.sid for a in live.accounts if a.sid != (account and account.sid)],
    )
    if fmt == "json":
        doc = {
            "customer": customer_id,
            "emulator": gateway.emulated,
            "valid": not problems,
            "fields": {f.label: f.value for f in fields},
            "problems": [{"field": p.field, "message": p.message, "fix": p.fix} for p in problems],
        }
        runtime.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        runtime.stdout.write(_text(customer_id, fields, problems, gateway.emulated))
    return 1 if problems else 0


def _text(customer_id, fields, problems, emulated: bool) -> str:
    lines = [EMULATOR_BANNER] if emulated else []
    lines.append(f"WhatsApp access request for {customer_id}:")
    width = max(len(f.label) for f in fields)
    lines += [f"  {f.label.ljust(width)}  {f.value or '(missing)'}" for f in fields]
    if problems:
        lines.append(f"\n{len(problems)} problem(s); do not submit the form yet:")
        for p in problems:
            lines.append(f"  ✗ {p.field}: {p.message}\n    fix: {p.fix}")
    else:
        lines.append(
            "\nAll four fields check out; submit the form, then record "
            "`onboarding.access_request: submitted`."
        )
    return "\n".join(lines) + "\n"
