"""One canonical form for each object, desired or live, so the diff compares like
with like and never shows a spurious change.

Twilio echoes back what it was sent, but fills absent fields with null, empty
strings or empty lists; the canonical form drops every such empty value, keeps
list order (it is meaningful: buttons, websites) and turns every scalar sample
value into a string, as Twilio stores them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent

from wa_sync.model import LiveContent, LiveSender, Sender, Template, thaw

# Twilio's defaults for webhook methods: declaring them or not is the same thing.
_WEBHOOK_DEFAULTS = {"callback_method": "POST", "fallback_method": "POST"}


def prune_empty(value: Any) -> Any:
    """`value` without None, "", [] and {} anywhere inside it (plain JSON out): frozen
    mappings and tuples come out as dicts and lists, so no `thaw` is needed first."""
    kind = type(value)
    if kind is str or value is None or kind is int or kind is bool or kind is float:
        return value
    if kind is dict or kind is MappingProxyType or isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if type(item) is not str:  # strings, most leaves, are kept unless empty
                item = prune_empty(item)
                if not item and not _kept_falsy(item):
                    continue
            elif not item:
                continue
            out[key if type(key) is str else str(key)] = item
        return out
    if kind is tuple or kind is list:
        return [item for item in map(prune_empty, value) if item or _kept_falsy(item)]
    return value


def _kept_falsy(value: Any) -> bool:
    """False, 0 and 0.0 are values; None, "", [] and {} are not."""
    return not _is_empty(value)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _webhook(webhook: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = prune_empty(webhook)
    return {k: v for k, v in cleaned.items() if _WEBHOOK_DEFAULTS.get(k) != v}


def sender_state(sender: Sender | LiveSender) -> dict[str, Any]:
    """What wa-sync manages of a sender: its display name, profile and webhook."""
    return {
        "display_name": sender.display_name,
        "profile": prune_empty(sender.profile),
        "webhook": _webhook(sender.webhook),
    }


def _variables(variables: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in sorted(variables.items(), key=lambda kv: _num(kv[0]))}


def _num(key: Any) -> tuple[int, str]:
    text = str(key)
    return (int(text), "") if text.isdigit() else (1 << 30, text)


def content_state(item: Template | LiveContent) -> dict[str, Any]:
    """What makes two contents the same: language, types and sample variables.
    The friendly name is identity, not content, and is compared separately.
    Within `remembering_states()` each object's state is computed once (and shared:
    callers must not change it)."""
    memo = _STATES.get()
    if memo is not None:
        hit = memo.get(id(item))
        if hit is not None and hit[0] is item:
            return hit[1]
    state = {
        "language": item.language,
        "types": prune_empty(item.types),
        "variables": _variables(item.variables),
    }
    if memo is not None:
        memo[id(item)] = (item, state)  # the item is kept alive, so its id stays its own
    return state


@contextmanager
def remembering_states(memo: dict[int, Any] | None = None) -> Iterator[None]:
    """Compute each template's and content's state once in this block: a plan needs
    each one for the diff and again for its digests. Pass the same `memo` (a dict) to
    blocks that belong to one plan."""
    token = _STATES.set({} if memo is None else memo)
    try:
        yield
    finally:
        _STATES.reset(token)


_STATES: ContextVar[dict[int, tuple[object, dict[str, Any]]] | None] = ContextVar(
    "wa_sync_content_states", default=None
)


def field_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that differ, as {"profile.about": {"before": ..., "after": ...}};
    a field absent on one side is None there."""
    diff = DeepDiff(thaw(before), thaw(after), verbose_level=2, view="tree")
    changed: dict[str, Any] = {}
    for level in sorted(_levels(diff), key=_path):
        old, new = level.t1, level.t2
        changed[_path(level)] = {
            "before": None if isinstance(old, NotPresent) else old,
            "after": None if isinstance(new, NotPresent) else new,
        }
    return changed


def _levels(diff: Any) -> list[Any]:
    return [level for levels in diff.values() for level in levels]


def _path(level: Any) -> str:
    """deepdiff's root['profile']['websites'][0] as profile.websites[0]."""
    parts = []
    for step in level.path(output_format="list"):
        if isinstance(step, int):
            parts.append(f"[{step}]")
        else:
            parts.append(f".{step}" if parts else str(step))
    return "".join(parts)


def content_after(template: Template, friendly_name: str) -> dict[str, Any]:
    return {"friendly_name": friendly_name, **content_state(template)}


def content_before(content: LiveContent) -> dict[str, Any]:
    """What a change replaces or deletes; its approval (status, and the WhatsApp name it
    was submitted under, which a Console-made content may not share with its
    FriendlyName) is Twilio's to say, never a difference to show."""
    return {
        "friendly_name": content.friendly_name,
        **content_state(content),
        "approval_status": str(content.approval_status),
        "approval_name": content.approval_name,
    }
