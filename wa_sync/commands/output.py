"""`wa-sync output`: per customer, template and language, the ContentSid the sending
application should use — the approved version while a `_vN` rollout is in review —
with its approval status and WhatsApp name (SPEC §3, §4.4)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass

from wa_sync.commands.common import EMULATOR_BANNER, load_and_connect
from wa_sync.errors import TwilioError, WaSyncError
from wa_sync.model import ApprovalStatus, Customer, LiveContent, LiveCustomer
from wa_sync.plan.ownership import check_ownership
from wa_sync.progress import read_with_progress
from wa_sync.runtime import Runtime


@dataclass(frozen=True, slots=True)
class SendTarget:
    customer: str
    template: str
    language: str
    content: LiveContent | None  # what to send with; None when nothing exists yet
    # the newest version when it is newer than the one in service, whatever its status
    # (in review, rejected, unsubmitted): the one the rollout works on (plan/templates.py).
    # Versions in between, left by a rollout superseded before approval, are not shown.
    pending: LiveContent | None
    # why there is no content when one may exist: Twilio refuses a suspended or closed
    # subaccount's credentials, so its templates cannot be read
    unread: str | None = None


def send_target(customer: Customer, live: LiveCustomer, name: str, language: str) -> SendTarget:
    """The approved version in service if there is one, else the newest version."""
    if live.account is not None and live.account.status != "active":
        return SendTarget(
            customer.id, name, language, None, None, f"subaccount_{live.account.status}"
        )
    versions = live.versions(name, language)
    approved = [c for c in versions if c.approval_status is ApprovalStatus.APPROVED]
    serving = approved[-1] if approved else (versions[-1] if versions else None)
    newest = versions[-1] if versions else None
    pending = newest if newest is not None and newest is not serving else None
    return SendTarget(customer.id, name, language, serving, pending)


def send_targets(customers: Sequence[Customer], live: dict[str, LiveCustomer]) -> list[SendTarget]:
    return [
        send_target(customer, live[customer.id], *template.key)
        for customer in customers
        for template in sorted(customer.templates, key=lambda t: t.key)
    ]


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root, only=args.customer, fmt=args.format, emulator=args.emulator, runtime=runtime
    )


def run(
    *, root: str, only: Sequence[str] | None, fmt: str, emulator: bool, runtime: Runtime
) -> int:
    connected = load_and_connect(runtime, root=root, only=only, shard=None, emulator=emulator)
    with connected as (loaded, gateway):
        unread: dict[str, TwilioError] = {}
        live = read_with_progress(runtime, gateway, loaded.in_scope, on_unread=unread.__setitem__)
        check_ownership(
            loaded.config.customers, live.accounts, known=loaded.known, scope=loaded.scope
        )
        emulated = gateway.emulated
    if unread:  # a map without a customer's templates would hide them (SPEC §4.8)
        named = ", ".join(f"{cid} ({exc})" for cid, exc in sorted(unread.items()))
        raise WaSyncError(
            f"output prints no map while Twilio does not answer for {len(unread)} "
            f"customer(s), whose templates it would leave out: {named}. Run it again once "
            "Twilio answers for them (or limit it to other customers with --customer)"
        )
    targets = send_targets(loaded.in_scope, dict(live.customers))
    text = as_json(targets, emulated) if fmt == "json" else as_text(targets, emulated)
    runtime.stdout.write(text)
    return 0


def _version(content: LiveContent | None) -> dict | None:
    if content is None:
        return None
    return {
        "content_sid": content.sid,
        "status": content.approval_status.value,
        "whatsapp_name": content.whatsapp_name,
    }


def as_json(targets: Sequence[SendTarget], emulated: bool) -> str:
    """{"customers": {id: {template: {language: {content_sid, status, whatsapp_name,
    pending}}}}}: what a sending application reads."""
    tree: dict[str, dict[str, dict[str, object]]] = {}
    for t in targets:
        entry = _version(t.content) or {
            "content_sid": None,
            "status": t.unread or "not_created",
            "whatsapp_name": None,
        }
        entry["pending"] = _version(t.pending)
        tree.setdefault(t.customer, {}).setdefault(t.template, {})[t.language] = entry
    return json.dumps({"emulator": emulated, "customers": tree}, indent=2, sort_keys=True) + "\n"


def as_text(targets: Sequence[SendTarget], emulated: bool) -> str:
    """One row per template and language, and one `(next: SID)` row under it while a
    newer version than the one in service exists. Each cell is on one line: the
    customer, template and language are the configuration's (their patterns allow no
    space), the SID and status are in Twilio's form (gateway/shapes.py), the WhatsApp
    name is its display form (`shown_whatsapp_name`): a line break in Twilio's text must
    not start a line of the table, where a CI log could read `::error::` (SPEC §4.8)."""
    rows = [("CUSTOMER", "TEMPLATE", "LANG", "CONTENT SID", "STATUS", "WHATSAPP NAME")]
    for t in targets:
        c = t.content
        rows.append(
            (
                t.customer,
                t.template,
                t.language,
                c.sid if c else "-",
                c.approval_status.value if c else (t.unread or "not created"),
                c.shown_whatsapp_name if c else "-",
            )
        )
        if t.pending is not None:
            p = t.pending
            status = p.approval_status.value
            rows.append(("", "", "", f"(next: {p.sid})", status, p.shown_whatsapp_name))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [EMULATOR_BANNER] if emulated else []
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    return "\n".join(lines) + "\n"
