"""The names WhatsApp blocks (SPEC §4.8; docs/concepts.md): once an approved template is
deleted, its name cannot be used for NAME_REUSE_DAYS days.

Twilio does not say which names are blocked, and wa-sync keeps no state file: so apply,
before it deletes an approved template, leaves a record in the subaccount, a content
named `wa-sync:deleted:<name>:<time>` that is never submitted. Twilio's date of that
record's creation is when the block began; plans read the records with the contents
(model.LiveCustomer.retired), block a re-declared name until the date, and (with
prune) delete a record once its block is over.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from wa_sync.model import (
    NAME_REUSE_DAYS,
    RETIRED_PREFIX,
    ApprovalStatus,
    LiveContent,
    Template,
    freeze,
)
from wa_sync.plan.change import STEPS, Actor, Cause, Gate, NoteKind
from wa_sync.plan.normalise import content_before
from wa_sync.plan.out import Out

NAME_BLOCK = timedelta(days=NAME_REUSE_DAYS)


def deleted_at(record: LiveContent) -> datetime | None:
    """When the approved template that `record` stands for was deleted: the record's
    creation, by Twilio's clock (the one that enforces the block)."""
    return record.created_at


def blocked_names(records: tuple[LiveContent, ...], now: datetime) -> dict[str, datetime]:
    """Name -> the moment WhatsApp lets it be used again, for the names still blocked."""
    blocked: dict[str, datetime] = {}
    for record in records:
        start = deleted_at(record)
        if start is None or record.retired_name is None or start + NAME_BLOCK <= now:
            continue
        until = start + NAME_BLOCK
        blocked[record.retired_name] = max(until, blocked.get(record.retired_name, until))
    return blocked


def name_block_warning(content: LiveContent, now: datetime) -> str:
    """What deleting `content` costs: nothing, unless it was approved."""
    if not content.approval_status.was_approved:
        return ""
    return (
        f"WhatsApp then blocks the name {content.shown_whatsapp_name} for {NAME_REUSE_DAYS} days, "
        f"until about {now + NAME_BLOCK:%Y-%m-%d}: a template declared under that name "
        "meanwhile is blocked"
    )


def name_gate(name: str, until: datetime) -> Gate:
    return Gate(
        step=8,
        name=STEPS[8],
        actor=Actor.META,
        action=f"release the name {name} by {until:%Y-%m-%d %H:%M} UTC (WhatsApp blocks the "
        f"name of a deleted approved template for {NAME_REUSE_DAYS} days); to send it "
        "sooner, declare the template under another name",
    )


def plan_retired(
    out: Out, records: tuple[LiveContent, ...], *, prune: bool, when: datetime
) -> None:
    """wa-sync's records of deleted approved templates: shown while the name is blocked
    (-v); once the block is over, undeclared: kept, or deleted with prune."""
    for record in records:
        start = deleted_at(record)
        local = f"retired.{record.retired_name}[{record.language}]"
        if start is not None and start + NAME_BLOCK > when:
            out.note(
                local,
                NoteKind.INFO,
                f"WhatsApp blocks the name {record.shown_retired_name} until "
                f"{start + NAME_BLOCK:%Y-%m-%d %H:%M} UTC: an approved template of that name "
                f"was deleted (wa-sync's record {record.sid})",
            )
        else:
            out.unwanted(
                local,
                prune=prune,
                protected=False,  # bookkeeping, not one of the customer's objects
                what=f"wa-sync's record {record.sid} of the deleted template "
                f"{record.shown_retired_name}",
                why=f"no longer needed: WhatsApp's {NAME_REUSE_DAYS}-day block is over",
                before=content_before(record),
                ref=record.sid,
                cause=Cause.CONFIG,
            )


def retired_record(before: Mapping[str, Any], deleted: datetime) -> tuple[Template, str] | None:
    """The record apply leaves in the subaccount when it has deleted the content
    `before` (a Change's before), with its friendly name: None unless that content was
    approved, as only then does WhatsApp block the name. The record is a content that is
    never submitted; Twilio's date of its creation is when the block began."""
    status = before.get("approval_status")
    # WhatsApp blocks the name it approved, which a Console-made content may not share
    # with its FriendlyName
    name = str(before.get("approval_name") or before.get("friendly_name") or "")
    if status not in set(ApprovalStatus) or not ApprovalStatus(status).was_approved or not name:
        return None
    body = (
        f"wa-sync deleted the approved WhatsApp template {name} on {deleted:%Y-%m-%d}; WhatsApp "
        f"blocks its name for {NAME_REUSE_DAYS} days. This record is never submitted."
    )
    return _record(name, str(before.get("language") or ""), deleted, body)


def refused_record(name: str, language: str, refused: datetime) -> tuple[Template, str]:
    """The record apply leaves when WhatsApp refused to take `name` at submission (the
    name of an approved template deleted outside wa-sync, in the Twilio console, within
    NAME_REUSE_DAYS): Twilio does not say when that was, so the block is recorded from
    the refusal, the latest it can end."""
    body = (
        f"WhatsApp refused the template name {name} on {refused:%Y-%m-%d}: an approved "
        f"template of that name was deleted outside wa-sync less than {NAME_REUSE_DAYS} days "
        "before. This record is never submitted."
    )
    return _record(name, language, refused, body)


def _record(name: str, language: str, when: datetime, body: str) -> tuple[Template, str]:
    record = Template(
        name=name,
        language=language,
        category="UTILITY",
        types=freeze({"twilio/text": {"body": body}}),
    )
    return record, f"{RETIRED_PREFIX}{name}:{when:%Y%m%dT%H%M%SZ}"
