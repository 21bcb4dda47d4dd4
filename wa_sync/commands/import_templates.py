"""What `wa-sync import` writes of a subaccount's templates (the newest version of each,
what apply would submit, what no template can declare), and the YAML text it writes a
customer file with: a pure function of live state."""

from __future__ import annotations

import math
from typing import Any

import yaml

from wa_sync.model import (
    TEMPLATE_NAME_PATTERN,
    ApprovalStatus,
    LiveContent,
    LiveCustomer,
    thaw,
)


def newest(live: LiveCustomer) -> list[LiveContent]:
    """One content per (name, language) that a template can declare: the newest `_vN`
    version of each."""
    keys = {(c.base_name_and_version[0], c.language) for c in live.contents if _declarable(c)}
    return [live.versions(*key)[-1] for key in sorted(keys)]


def _unsubmitted(live: LiveCustomer) -> list[LiveContent]:
    """The declared contents never submitted: a declared template is one to submit, so
    the plan right after submits them."""
    return [c for c in newest(live) if c.approval_status is ApprovalStatus.UNSUBMITTED]


def unsubmitted_said(live: LiveCustomer) -> str:
    count = len(_unsubmitted(live))
    if not count:
        return ""
    return f", {count} never submitted to WhatsApp, which apply submits (the file says which)"


def unsubmitted_lines(live: LiveCustomer) -> list[str]:
    contents = _unsubmitted(live)
    if not contents:
        return []
    return [
        "# Never submitted to WhatsApp; declared here, apply submits them:",
        *(f"#   {c.base_name_and_version[0]} [{_shown(c.language)}]" for c in contents),
        "# Twilio has no category for them before a submission: UTILITY is assumed, check it.",
        "# Remove any that should not be submitted: plans then show it as undeclared, and keep it.",
    ]


def _declarable(content: LiveContent) -> bool:
    """A template declares a content by its FriendlyName (SPEC §4.3): `Order Update`, made
    in the Console, is no template name, so no declaration names that content."""
    return TEMPLATE_NAME_PATTERN.match(content.base_name_and_version[0]) is not None


def _left_out(live: LiveCustomer) -> list[LiveContent]:
    return sorted((c for c in live.contents if not _declarable(c)), key=lambda c: c.sid)


def left_out_said(live: LiveCustomer) -> str:
    count = len(_left_out(live))
    if not count:
        return ""
    return (
        f"; {count} content(s) left out, whose FriendlyName is not a WhatsApp template name "
        "(the file lists them)"
    )


def left_out_lines(live: LiveCustomer) -> list[str]:
    """The contents no template can declare, as comments: Twilio's text escaped (repr),
    so that none of it can end the comment and become YAML."""
    contents = _left_out(live)
    if not contents:
        return []
    lines = [
        "# Left out: these contents' FriendlyNames are not WhatsApp template names (a-z, 0-9",
        "# and _), so no template here can declare them. Plans show them as undeclared and",
        "# leave them alone (delete them in the Twilio Console, or declare their text under",
        "# a new name, which makes a new content):",
    ]
    for c in contents:
        status = c.approval_status.value
        if c.approval_name:
            status += f" as {_shown(c.approval_name)}"
        lines.append(
            f"#   {c.sid} {_shown(c.friendly_name, quoted=True)} [{_shown(c.language)}]: {status}"
        )
    return lines


def _shown(text: str, *, quoted: bool = False) -> str:
    """Twilio's text on one line of a comment, every character that is not printable
    escaped as in Python."""
    shown = repr(text)
    return shown if quoted else shown[1:-1]


def template_doc(content: LiveContent) -> dict[str, Any]:
    base, _ = content.base_name_and_version
    category = content.approval_category or "UTILITY"  # assumed, and said (unsubmitted_lines)
    doc: dict[str, Any] = {"name": base, "language": content.language, "category": category}
    types = thaw(content.types)
    if list(types) == ["twilio/text"] and list(types["twilio/text"]) == ["body"]:
        doc["body"] = types["twilio/text"]["body"]
    else:
        doc["types"] = types
    if content.variables:
        doc["variables"] = thaw(content.variables)
    return doc


def scalar(value: str) -> str:
    """`value` as YAML on one line, for a line that ends with a comment."""
    unicode = value.isprintable()  # else escaped: a U+2028 would end the line in YAML
    return dump(value, width=math.inf, unicode=unicode).removesuffix("\n...\n").strip()


def dump(value: Any, *, width: float = 100, unicode: bool = True) -> str:
    """YAML that reads back as `value`, with its letters as they are (Café, not Caf\\xE9);
    escaped where PyYAML would write them raw and read them back otherwise (a NEL folds
    into a space): a changed body would be a new version of an approved template."""
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=unicode, width=width)
    if yaml.safe_load(text) == value:
        return text
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=False, width=width)
