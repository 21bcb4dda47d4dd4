"""The plan as a pull-request comment: a summary table, a folded section per
customer, under GitHub's 65,536-character comment limit (SPEC §4.1).

Every piece of user text (names, template bodies, profile fields, Twilio's
rejection reasons) is escaped: a customer name full of markdown or HTML must not
become a link, an image or markup in the comment. Detail goes inside
<pre> blocks, where GitHub renders no markdown and escaped HTML stays text.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from wa_sync.plan.change import Action, Change, Note, NoteKind, Plan, summary_line
from wa_sync.render.text import EMULATOR_BANNER, FOLDED, SYMBOLS, change_details, quiet_line
from wa_sync.visible import one_line, visible

LIMIT = 65_000
MARKER = "<!-- wa-sync-plan -->"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
COLUMNS = (
    Action.CREATE,
    Action.UPDATE,
    Action.REPLACE,
    Action.DELETE,
    Action.SUBMIT,
    Action.BLOCKED,
)


# Outside code, GitHub turns @name into a mention, #12 into a reference and bare URLs,
# www. names and e-mail addresses into links, whatever escaping markdown saw; an
# invisible WORD JOINER after the sign (or inside "://" and "www.") stops each.
_LINKING = re.compile(r"[@#](?=[A-Za-z0-9])|:(?=//)|(?<![A-Za-z0-9])www(?=\.)", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def unlinked(text: str) -> str:
    """Text in which GitHub finds no mention, reference or link to make."""
    return _LINKING.sub(lambda match: match.group(0) + _WORD_JOINER, text)


def escape(text: str) -> str:
    """User text for markdown outside code: HTML-escaped, markdown specials
    backslash-escaped, line breaks flattened, mentions and references broken."""
    flat = visible(" ".join(str(text).split()))
    return _MD_SPECIAL.sub(r"\\\1", html.escape(unlinked(flat), quote=True))


_PRE_SPECIAL: dict[str, str | int | None] = {c: f"&#{ord(c)};" for c in "[]()*_`!|~\\"}


def pre(text: str) -> str:
    """User text inside <pre>: HTML-escaped, and the characters markdown could still
    read as links or emphasis turned into entities (they render the same)."""
    return html.escape(visible(text), quote=False).translate(str.maketrans(_PRE_SPECIAL)) or " "


def render_markdown(plan: Plan) -> str:
    """The fullest rendering that fits in LIMIT characters."""
    customers = _customers(plan)  # gathered once for every level tried
    quiet = _quiet(plan, customers)
    for level in (_full, _lines_only, _counts_only):
        text = _document(plan, customers, quiet, level)
        if len(text) <= LIMIT:
            return text
    return _cut(plan, customers, quiet)


UNREAD = "**Not read from Twilio, so nothing is planned for them:** "
TAIL_ROOM = 600  # the closing note and the summary line, whatever they count


def _cut(plan: Plan, customers: list[Customer], quiet: str) -> str:
    """The counts-only plan cut to fit (thousands of customers, of blocked items or of
    customers not read): what matters most is kept first — the customers not read (an
    error), then the blocked items (SPEC §4.1), then the table's rows — and what is left
    out is counted at the end. It holds no HTML block."""
    header, separator, *rows, _ = _table(customers)
    blocked = [_blocked_line(c) for c in plan.blocked]
    fixed = [*_opening(plan), UNREAD, header, separator, quiet, _not_named(plan)]
    room = LIMIT - len("\n\n".join(fixed)) - TAIL_ROOM
    names, room = _fill([escape(c) for c in plan.unread], room, separator=", ")
    items, room = _fill(blocked, room)
    kept_rows, room = _fill(rows, room)
    lines = _opening(plan)
    if plan.unread:
        more = len(plan.unread) - len(names)
        lines += [UNREAD + ", ".join(names) + (f" … and {more:,} more" if more else ""), ""]
    if kept_rows:
        lines += [header, separator, *kept_rows, ""]
    if quiet:
        lines += [quiet, ""]
    lines += [_not_named(plan), ""]
    if items:
        lines += [*items, ""]
    left_out = [
        (len(plan.unread) - len(names), "customer(s) not read from Twilio"),
        (len(blocked) - len(items), "blocked item(s)"),
        (len(rows) - len(kept_rows), "row(s) of the table"),
    ]
    said = ", ".join(f"{n:,} {what}" for n, what in left_out if n) or "nothing named"
    return "\n".join(
        [
            *lines,
            f"_The rest of the plan does not fit in one comment; left out: {said}. "
            "Run `wa-sync plan` to see it all._",
            "",
            f"**{escape(summary_line(plan))}**",
            "",
        ]
    )


def _fill(lines: list[str], room: int, separator: str = "\n") -> tuple[list[str], int]:
    """The first of `lines` that fit in `room` characters, and the room left."""
    kept: list[str] = []
    for line in lines:
        if len(line) + len(separator) > room:
            break
        room -= len(line) + len(separator)
        kept.append(line)
    return kept, room


def _not_named(plan: Plan) -> str:
    """What a counts-only plan counts and does not name (SPEC §4.8, nothing hidden); the
    customers not read are named above it."""
    notes = Counter(n.kind for n in plan.notes if n.kind not in (NoteKind.INFO, NoteKind.UNREAD))
    counted = [
        (len(plan.changes) - len(plan.blocked), "change(s)"),
        (notes.pop(NoteKind.UNDECLARED, 0), "undeclared object(s)"),
        (sum(notes.values()), "other note(s)"),
    ]
    said = [f"{n:,} {what}" for n, what in counted if n]
    both = ", ".join(said[:-1]) + " and " + said[-1] if len(said) > 1 else "".join(said)
    unnamed = f"; {both} are counted, not named" if said else ""
    return (
        f"_The plan is too long for one comment: only blocked items are listed{unnamed}. "
        "Run `wa-sync plan` to see them all._"
    )


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer's part of the plan, gathered once (a plan holds thousands)."""

    id: str
    changes: list[Change] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # INFO aside


Section = Callable[[Customer], list[str]]


def _opening(plan: Plan) -> list[str]:
    head = [MARKER, "### wa-sync plan", ""]
    if plan.emulator:
        head += [f"_{escape(EMULATOR_BANNER)}_", ""]
    return [*head, f"**{escape(summary_line(plan))}**", ""]


def _customers(plan: Plan) -> list[Customer]:
    """The customers with a row and a section: a change or a note not folded away."""
    shown = {c.customer for c in plan.changes} | {
        n.customer for n in plan.notes if n.kind not in FOLDED
    }
    customers = {cid: Customer(cid) for cid in sorted(shown)}
    for change in plan.changes:
        customers[change.customer].changes.append(change)
    for note in plan.notes:
        if note.customer in customers and note.kind is not NoteKind.INFO:
            customers[note.customer].notes.append(note)
    return list(customers.values())


def _quiet(plan: Plan, customers: list[Customer]) -> str:
    """One line for the customers whose only news waits on Twilio or Meta ("" if none)."""
    shown = {c.id for c in customers}
    quiet = [n for n in plan.notes if n.kind is NoteKind.WAITING and n.customer not in shown]
    if not quiet:
        return ""
    return f"_{escape(quiet_line(plan, quiet))}_: `wa-sync plan -v` lists them."


def _document(plan: Plan, customers: list[Customer], quiet: str, section: Section) -> str:
    head = _opening(plan)
    if plan.unread:  # above any fold: an error, never counted away
        head += [UNREAD + ", ".join(escape(c) for c in plan.unread), ""]
    if customers:
        head += _table(customers)
    if quiet:
        head += [quiet, ""]
    body: list[str] = []
    for customer in customers:
        body += section(customer)
    if section is _counts_only:
        body.insert(0, _not_named(plan) + "\n")
    return "\n".join(head + body + ["", f"**{escape(summary_line(plan))}**", ""])


def _table(customers: list[Customer]) -> list[str]:
    header = "| customer | " + " | ".join(a.value for a in COLUMNS) + " |"
    rows = [header, "|---" * (len(COLUMNS) + 1) + "|"]
    for customer in customers:
        counts = Counter(c.action for c in customer.changes)
        cells = " | ".join(str(counts[a]) if counts[a] else "" for a in COLUMNS)
        rows.append(f"| {escape(customer.id)} | {cells} |")
    return [*rows, ""]


def _line(change: Change) -> str:
    return f"{SYMBOLS[change.action]} {one_line(change.address)}"


def _full(customer: Customer) -> list[str]:
    lines: list[str] = []
    for change in customer.changes:
        lines.append(_line(change))
        lines += [f"    {d}" for d in change_details(change, verbose=True)]
    lines += [f"{n.kind.value}: {one_line(f'{n.address}: {n.message}')}" for n in customer.notes]
    return _fold(customer, lines)


def _lines_only(customer: Customer) -> list[str]:
    """A line per change and per note, without their detail: every name stays."""
    lines = []
    for change in customer.changes:
        line = _line(change)
        if change.blocked_by is not None:
            line += f"  (blocked at {change.blocked_by.describe()})"
        lines.append(line)
    lines += [f"{n.kind.value}: {one_line(n.address)}" for n in customer.notes]
    return _fold(customer, lines)


def _counts_only(customer: Customer) -> list[str]:
    """Blocked items are never dropped; everything else is only counted."""
    blocked = [c for c in customer.changes if c.action is Action.BLOCKED]
    if not blocked:
        return []
    return [f"**{escape(customer.id)}**", *map(_blocked_line, blocked), ""]


def _blocked_line(change: Change) -> str:
    gate = f" at {change.blocked_by.describe()}" if change.blocked_by is not None else ""
    return f"- {escape(change.address)}: {escape('blocked' + gate)}"


def _fold(customer: Customer, lines: list[str]) -> list[str]:
    if not lines:
        return []
    counts = Counter(c.action for c in customer.changes)
    summary = ", ".join(f"{n} {a.value}" for a, n in sorted(counts.items()))
    unread = any(n.kind is NoteKind.UNREAD for n in customer.notes)
    summary = summary or ("not read from Twilio" if unread else "notes only")
    return [
        "<details>",
        f"<summary><b>{pre(unlinked(one_line(customer.id)))}</b>: {pre(summary)}</summary>",
        "",
        "<pre>",
        *[pre(line) for line in lines],
        "</pre>",
        "</details>",
        "",
    ]
