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

from wa_sync.plan.change import Action, Change, NoteKind, Plan, summary_line
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
    for level in (_full, _lines_only, _counts_only):
        text = _document(plan, level)
        if len(text) <= LIMIT:
            return text
    return _cut(text, plan)


def _cut(text: str, plan: Plan) -> str:
    """The counts-only document cut at a line to fit (thousands of customers, or of
    blocked items): it holds no HTML block, so any line is a safe place to stop."""
    tail = [
        "",
        "_The rest of the plan does not fit in one comment: run `wa-sync plan` to see it._",
        "",
        f"**{escape(summary_line(plan))}**",
        "",
    ]
    room = LIMIT - len("\n".join(tail)) - 1
    kept: list[str] = []
    for line in text.split("\n"):
        room -= len(line) + 1
        if room < 0:
            break
        kept.append(line)
    return "\n".join([*kept, *tail])


Section = Callable[[Plan, str], list[str]]


def _document(plan: Plan, section: Section) -> str:
    head = [MARKER, "### wa-sync plan", ""]
    if plan.emulator:
        head += [f"_{escape(EMULATOR_BANNER)}_", ""]
    head += [f"**{escape(summary_line(plan))}**", ""]
    if plan.unread:  # above any fold: an error, never counted away
        names = ", ".join(escape(c) for c in plan.unread)
        head += [f"**Not read from Twilio, so nothing is planned for them:** {names}", ""]
    customers = sorted(
        {c.customer for c in plan.changes}
        | {n.customer for n in plan.notes if n.kind not in FOLDED}
    )
    if customers:
        head += _table(plan, customers)
    # customers whose only news waits on Twilio or Meta: one line, not a row each
    quiet = [n for n in plan.notes if n.kind is NoteKind.WAITING and n.customer not in customers]
    if quiet:
        head += [f"_{escape(quiet_line(plan, quiet))}_: `wa-sync plan -v` lists them.", ""]
    body: list[str] = []
    for customer_id in customers:
        body += section(plan, customer_id)
    if section is _counts_only:
        body.insert(
            0,
            "_The plan is too long for one comment: detail is folded away. "
            "Run `wa-sync plan` to see it all._\n",
        )
    return "\n".join(head + body + ["", f"**{escape(summary_line(plan))}**", ""])


def _table(plan: Plan, customers: list[str]) -> list[str]:
    header = "| customer | " + " | ".join(a.value for a in COLUMNS) + " |"
    rows = [header, "|---" * (len(COLUMNS) + 1) + "|"]
    for customer_id in customers:
        counts = Counter(c.action for c in plan.for_customer(customer_id))
        cells = " | ".join(str(counts[a]) if counts[a] else "" for a in COLUMNS)
        rows.append(f"| {escape(customer_id)} | {cells} |")
    return [*rows, ""]


def _line(change: Change) -> str:
    return f"{SYMBOLS[change.action]} {one_line(change.address)}"


def _notes(plan: Plan, customer_id: str) -> list[str]:
    return [
        f"{n.kind.value}: {one_line(f'{n.address}: {n.message}')}"
        for n in plan.notes
        if n.customer == customer_id and n.kind is not NoteKind.INFO
    ]


def _full(plan: Plan, customer_id: str) -> list[str]:
    lines: list[str] = []
    for change in plan.for_customer(customer_id):
        lines.append(_line(change))
        lines += [f"    {d}" for d in change_details(change, verbose=True)]
    lines += _notes(plan, customer_id)
    return _fold(plan, customer_id, lines)


def _lines_only(plan: Plan, customer_id: str) -> list[str]:
    lines = []
    for change in plan.for_customer(customer_id):
        line = _line(change)
        if change.blocked_by is not None:
            line += f"  (blocked at {change.blocked_by.describe()})"
        lines.append(line)
    return _fold(plan, customer_id, lines)


def _counts_only(plan: Plan, customer_id: str) -> list[str]:
    """Blocked items are never dropped; everything else is only counted."""
    blocked = [c for c in plan.for_customer(customer_id) if c.action is Action.BLOCKED]
    if not blocked:
        return []
    lines = [
        f"- {escape(c.address)}: blocked at {escape(c.blocked_by.describe())}"
        for c in blocked
        if c.blocked_by is not None
    ]
    return [f"**{escape(customer_id)}**", *lines, ""]


def _fold(plan: Plan, customer_id: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    counts = Counter(c.action for c in plan.for_customer(customer_id))
    summary = ", ".join(f"{n} {a.value}" for a, n in sorted(counts.items()))
    summary = summary or ("not read from Twilio" if customer_id in plan.unread else "notes only")
    return [
        "<details>",
        f"<summary><b>{pre(unlinked(one_line(customer_id)))}</b>: {pre(summary)}</summary>",
        "",
        "<pre>",
        *[pre(line) for line in lines],
        "</pre>",
        "</details>",
        "",
    ]
