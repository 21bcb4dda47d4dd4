"""`wa-sync status`: per customer, the onboarding stage, who must act next, sender
status, template approvals with Twilio's rejection reasons, and the Twilio limits
that bite ISVs (SPEC §3)."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from wa_sync.commands.common import EMULATOR_BANNER, connect, load
from wa_sync.model import Customer, LiveCustomer, LiveEstate
from wa_sync.onboarding import ONBOARDED, onboarding_stage
from wa_sync.runtime import Runtime

SUBACCOUNT_LIMIT = 1000  # Twilio's default per parent (error 21480), raised on request
TEMPLATE_LIMITS = (250, 6000)  # per WABA: unverified portfolio / verified (LC-LIMIT-COUNT)
NEAR = 0.9  # warn at 90% of a limit
DECLINED = {"DECLINED", "REJECTED"}


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root, only=args.customer, fmt=args.format, emulator=args.emulator, runtime=runtime
    )


def run(
    *, root: str, only: Sequence[str] | None, fmt: str, emulator: bool, runtime: Runtime
) -> int:
    loaded = load(root, only=only, err=runtime.stderr)
    customers = [c for c in loaded.config.customers if c.id in loaded.scope]
    parallelism = loaded.config.settings.parallelism
    with connect(runtime, root=root, emulator=emulator, parallelism=parallelism) as gateway:
        live = gateway.read(customers)
        report = status_report(customers, live, emulated=gateway.emulated)
    runtime.stdout.write(
        json.dumps(report, indent=2, sort_keys=True) + "\n" if fmt == "json" else render(report)
    )
    return 0


def status_report(customers: Sequence[Customer], live: LiveEstate, *, emulated: bool) -> dict:
    rows = [_customer_status(c, live.customers[c.id]) for c in customers]
    warnings = []
    count = len(live.accounts)
    if count >= NEAR * SUBACCOUNT_LIMIT:
        warnings.append(
            f"the parent account has {count} subaccounts; Twilio's default limit is "
            f"{SUBACCOUNT_LIMIT} (error 21480): ask Twilio support to raise it before it is reached"
        )
    return {"emulator": emulated, "subaccounts": count, "customers": rows, "warnings": warnings}


def _customer_status(customer: Customer, live: LiveCustomer) -> dict[str, Any]:
    stage = onboarding_stage(customer, live)
    approvals = Counter(c.approval_status.value for c in live.contents)
    return {
        "id": customer.id,
        "name": customer.name,
        "subaccount_sid": live.account.sid if live.account else None,
        "stage": {
            "step": stage.step if stage.step != ONBOARDED else None,
            "name": stage.name,
            "next_action": stage.next_action,
            "actor": stage.actor.value if stage.actor else None,
            "waiting": stage.waiting,
        },
        "senders": [
            {
                "phone_number": s.phone_number,
                "status": s.status,
                "display_name": s.display_name,
                "pending_display_name": s.pending_display_name,
                "pending_display_name_status": s.pending_display_name_status,
                "offline_reasons": list(s.offline_reasons),
            }
            for s in live.senders
        ],
        "templates": dict(sorted(approvals.items())),
        "rejections": [
            {"name": c.friendly_name, "language": c.language, "reason": c.rejection_reason}
            for c in live.contents
            if c.approval_status.value == "rejected"
        ],
        "warnings": _customer_warnings(live),
    }


def _customer_warnings(live: LiveCustomer) -> list[str]:
    warnings = []
    for sender in live.senders:
        if (sender.pending_display_name_status or "").upper() in DECLINED:
            warnings.append(
                f"{sender.phone_number}: display name {sender.pending_display_name!r} was "
                "rejected; the sender is capped at 250 business-initiated messages a day until "
                "an approved name is registered"
            )
    count = len(live.contents)
    for limit in TEMPLATE_LIMITS:
        if NEAR * limit <= count < limit or count >= limit == TEMPLATE_LIMITS[-1]:
            warnings.append(
                f"{count} templates: a WhatsApp account may hold {limit} "
                f"({'unverified' if limit == TEMPLATE_LIMITS[0] else 'verified'} business)"
            )
    return warnings


def render(report: dict) -> str:
    lines = [EMULATOR_BANNER] if report["emulator"] else []
    header = ("CUSTOMER", "STAGE", "NEXT ACTION", "SENDERS", "TEMPLATES")
    table = [header] + [_row(c) for c in report["customers"]]
    widths = [min(max(len(r[i]) for r in table), 60) for i in range(len(header) - 1)]
    for row in table:
        cells = [cell[:60].ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    for customer in report["customers"]:
        for rejection in customer["rejections"]:
            lines.append(
                f"{customer['id']}: template {rejection['name']}[{rejection['language']}] "
                f'rejected: "{rejection["reason"]}"'
            )
        lines += [f"{customer['id']}: warning: {w}" for w in customer["warnings"]]
    lines += [f"warning: {w}" for w in report["warnings"]]
    onboarded = sum(c["stage"]["step"] is None for c in report["customers"])
    lines.append(f"{onboarded} of {len(report['customers'])} customers fully onboarded.")
    return "\n".join(lines) + "\n"


def _row(customer: dict) -> tuple[str, str, str, str, str]:
    stage = customer["stage"]
    step = f"{stage['step']}/8 {stage['name']}" if stage["step"] else "onboarded"
    who = f"{stage['actor']}: " if stage["actor"] else ""
    wait = " (waiting)" if stage["waiting"] else ""
    senders = ", ".join(f"{s['phone_number']} {s['status']}" for s in customer["senders"]) or "-"
    templates = ", ".join(f"{n} {k}" for k, n in customer["templates"].items()) or "-"
    return (customer["id"], step, f"{who}{stage['next_action']}{wait}", senders, templates)
