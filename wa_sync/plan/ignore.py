"""`ignore: [...]` on a sender or template (SPEC §4.8, issue #19.6): the customer owns
the WhatsApp Business Account and may edit these fields in WhatsApp Manager, which the
ISV cannot prevent. Drift in them is not a change; the plan still tells it as an `info`
note (shown with `-v`), and an update for other fields leaves them as they are. The
fields that may be ignored are listed in schema/customer.schema.json."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from wa_sync.plan.change import NoteKind
from wa_sync.plan.normalise import field_diff
from wa_sync.plan.out import Out


def is_ignored(path: str, ignore: Iterable[str]) -> bool:
    """`profile.websites[0]` is ignored with `profile.websites`."""
    return any(path == field or path.startswith((f"{field}.", f"{field}[")) for field in ignore)


def changed_fields(
    out: Out, local: str, ignore: Iterable[str], before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[str]:
    """The fields of `before` and `after` that differ and are not ignored; the ignored ones
    that differ are told in an info note."""
    ignore = tuple(ignore)
    changed = list(field_diff(before, after))
    passed = [path for path in changed if is_ignored(path, ignore)]
    if passed:
        out.note(
            local,
            NoteKind.INFO,
            f"changed outside wa-sync in {', '.join(passed)}, which `ignore:` lets pass "
            "(the customer may edit them in WhatsApp Manager)",
        )
    return [path for path in changed if not is_ignored(path, ignore)]
