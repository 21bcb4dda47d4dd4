"""The plan for people at a terminal: one line per change, grouped by customer,
field-level detail for updates and replacements, one summary line (SPEC §4.1)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from wa_sync.plan.change import Action, Change, Note, NoteKind, Plan, summary_line
from wa_sync.plan.normalise import field_diff
from wa_sync.render import EMULATOR_BANNER
from wa_sync.visible import one_line, visible

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.SUBMIT: ">",
    Action.BLOCKED: "!",
}
NOTE_SYMBOLS = {
    NoteKind.WAITING: "…",
    NoteKind.WARNING: "⚠",
    NoteKind.INFO: "i",
    NoteKind.UNDECLARED: "?",  # not declared, kept: shown always, never a change
    NoteKind.PROTECTED: "=",  # `protect: true` keeps what the plan would delete
    NoteKind.RECATEGORISED: "⚠",  # drift that no apply can undo: a person decides
    NoteKind.UNREAD: "✗",  # Twilio did not answer for the customer: nothing planned
    NoteKind.INACTIVE: "⚠",  # a suspended or closed subaccount: not read, nothing planned
}
_COLORS = {
    Action.CREATE: "32",
    Action.UPDATE: "33",
    Action.REPLACE: "35",
    Action.DELETE: "31",
    Action.SUBMIT: "36",
    Action.BLOCKED: "1;31",
}
MAX_VALUE = 200  # characters of a value shown inline before it is cut


def paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def show_value(value: Any, *, limit: int = MAX_VALUE) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    if value is None:
        text = "(none)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def change_details(change: Change, *, verbose: bool) -> list[str]:
    """The indented lines under a change: what differs, or what it creates."""
    lines: list[str] = []
    before, after = change.before, change.after
    if change.action is Action.BLOCKED and change.blocked_by is not None:
        lines.append(f"blocked at {change.blocked_by.describe()}")
    elif change.reason and change.action is not Action.UPDATE:
        lines.append(change.reason)
    if before is not None and after is not None:
        for path, values in field_diff(before, after).items():
            if path in ("approval_status", "approval_name"):  # Twilio's (content_before)
                continue
            old, new = show_value(values["before"]), show_value(values["after"])
            lines.append(f"{path}: {old} → {new}")
    elif verbose and (after or before):
        for key, value in _flat(after or before or {}).items():
            lines.append(f"{key}: {show_value(value)}")
    if change.cause.value == "drift" and change.action is not Action.BLOCKED:
        lines.append("cause: drift (Twilio was changed outside wa-sync)")
    return lines


def _flat(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat |= _flat(value, path)
        else:
            flat[path] = value
    return flat


def render_text(plan: Plan, *, color: bool = False, verbose: bool = False) -> str:
    """Without `verbose`, what waits on Twilio or Meta is counted, not listed: one line in
    a customer shown for other reasons, one line for all the customers with nothing else
    to show. Changes, blocked items, warnings and undeclared objects are always listed."""
    out: list[str] = []
    if plan.emulator:
        out.append(EMULATOR_BANNER)
        out.append("")
    notes_by_customer = _notes_by_customer(plan)
    customers = sorted({c.customer for c in plan.changes} | set(notes_by_customer))
    quiet: list[Note] = []  # the waiting notes of customers with nothing else to show
    for customer_id in customers:
        changes = plan.for_customer(customer_id)
        notes = notes_by_customer.get(customer_id, [])
        listed = notes if verbose else [n for n in notes if n.kind not in FOLDED]
        if not changes and not verbose and not listed:
            quiet += [n for n in notes if n.kind is NoteKind.WAITING]
            continue
        # a customer id from a subaccount's FriendlyName (one no file manages) is Twilio's text
        out.append(paint(f"customer.{one_line(customer_id)}", "1", color))
        for change in changes:
            symbol = SYMBOLS[change.action]
            out.append(
                f"  {paint(symbol, _COLORS[change.action], color)} {one_line(change.address)}"
            )
            out += [f"      {visible(line)}" for line in change_details(change, verbose=verbose)]
        for note in listed:
            out.append(f"  {NOTE_SYMBOLS[note.kind]} {one_line(f'{note.address}: {note.message}')}")
        waiting = [] if verbose else [n for n in notes if n.kind is NoteKind.WAITING]
        if waiting:
            out.append(f"  {NOTE_SYMBOLS[NoteKind.WAITING]} {visible(waiting_count(waiting))}")
        out.append("")
    if quiet:
        out.append(
            f"{NOTE_SYMBOLS[NoteKind.WAITING]} {visible(quiet_line(plan, quiet))}; -v lists them"
        )
    hidden = sum(1 for n in plan.notes if n.kind is NoteKind.INFO)
    if hidden and not verbose:
        out.append(f"({hidden} informational note(s) hidden; -v shows them)")
    out.append(paint(summary_line(plan), "1", color))
    return "\n".join(out) + "\n"


# Listed only with -v: what no person can act on now. A waiting item is counted instead.
FOLDED = frozenset({NoteKind.INFO, NoteKind.WAITING})


def _notes_by_customer(plan: Plan) -> dict[str, list[Note]]:
    by_customer: dict[str, list[Note]] = {}
    for note in plan.notes:
        by_customer.setdefault(note.customer, []).append(note)
    return by_customer


def _objects(notes: Sequence[Note]) -> str:
    """ "3 templates, 1 sender": what the notes are about, counted by kind of object."""
    kinds = Counter(n.address.partition("/")[2].partition(".")[0] or "subaccount" for n in notes)
    return ", ".join(
        f"{count} {kind}{'' if count == 1 else 's'}" for kind, count in sorted(kinds.items())
    )


def waiting_count(waiting: Sequence[Note]) -> str:
    """One customer's waiting items, counted: "3 waiting on Twilio or Meta (…)"."""
    return f"{len(waiting)} waiting on Twilio or Meta ({_objects(waiting)}); -v lists them"


def quiet_line(plan: Plan, quiet: Sequence[Note]) -> str:
    """The one line for every customer whose only news is what waits on Twilio or Meta
    (WhatsApp's review, a sender's verification, Meta's hourly pacing)."""
    customers = len({n.customer for n in quiet})
    checked = f" of {len(plan.customers)}" if plan.customers else ""
    return (
        f"{customers}{checked} customer(s) wait only on Twilio or Meta: "
        f"{len(quiet)} item(s) ({_objects(quiet)})"
    )
