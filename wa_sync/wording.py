"""The small pieces wa-sync's messages are made of, written once."""

from __future__ import annotations

from collections.abc import Sequence


def listed(ids: Sequence[str], most: int = 5) -> str:
    """ "a, b, c, d, e and 3 more": customer ids in a message, at most `most` of them."""
    shown = ", ".join(ids[:most]) + (f" and {len(ids) - most} more" if len(ids) > most else "")
    return shown or "no customer"
