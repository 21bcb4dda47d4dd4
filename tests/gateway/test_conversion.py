"""Twilio's content JSON to LiveContent: the fast, in-place conversion of a listing gives
what a deep, copying `freeze` gives, read-only at every level."""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

import pytest

from wa_sync.gateway.shapes import live_content as _live_content
from wa_sync.model import ApprovalStatus, LiveContent, freeze

CONTENT = {
    "sid": "HX" + "1" * 32,
    "friendly_name": "order_update_v2",
    "language": "pt_BR",
    "date_created": "2026-01-02T03:04:05Z",
    "types": {
        "twilio/text": {"body": "Olá {{1}}"},
        "twilio/card": {
            "title": "Pedido {{2}}",
            "media": ["https://x.example/{{3}}.png"],
            "actions": [
                {"type": "URL", "title": "Ver", "url": "https://x.example/{{2}}"},
                {"type": "QUICK_REPLY", "title": "Ajuda", "id": "help"},
            ],
            "nested": [["a", 1], [{"b": None}, True, 2.5]],
            "empty": {},
        },
    },
    "variables": {"1": "Maria", "2": "A-1", "3": "img"},
    "approval_requests": {
        "name": "order_update",
        "category": "UTILITY",
        "status": "rejected",
        "rejection_reason": "Too\nmany   variables",
    },
}


def reference(data: dict[str, Any]) -> LiveContent:
    """The conversion spelled out with the model's own copying `freeze`."""
    approval = data.get("approval_requests") or {}
    variables = data.get("variables") or {}
    status = ApprovalStatus(approval["status"]) if approval else ApprovalStatus.UNSUBMITTED
    return LiveContent(
        sid=data["sid"],
        friendly_name=data.get("friendly_name") or "",
        language=data.get("language") or "",
        types=freeze(data.get("types") or {}),
        variables=MappingProxyType({str(k): str(v) for k, v in variables.items()}),
        approval_status=status,
        approval_name=str(approval.get("name") or ""),
        approval_category=str(approval.get("category") or ""),
        rejection_reason=" ".join(str(approval.get("rejection_reason") or "").split()),
        date_created=data.get("date_created") or "",
    )


def read_only_throughout(value: Any) -> None:
    if isinstance(value, MappingProxyType):
        with pytest.raises(TypeError):
            value["new"] = 1  # type: ignore[index]
        for item in value.values():
            read_only_throughout(item)
    elif isinstance(value, tuple):
        for item in value:
            read_only_throughout(item)
    else:
        assert value is None or isinstance(value, str | int | float | bool)


VARIANTS = [
    CONTENT,
    {**CONTENT, "variables": {"1": 7, "2": None, "3": "x"}},
    {**CONTENT, "variables": {}, "types": {}, "approval_requests": None},
    {"sid": "HX" + "2" * 32, "types": {"twilio/quick-reply": {"body": "b", "actions": []}}},
]


@pytest.mark.parametrize("data", VARIANTS)
def test_a_listed_content_is_what_a_copying_freeze_makes(data):
    text = json.dumps(data)
    converted = _live_content(json.loads(text))
    assert converted == reference(json.loads(text))
    read_only_throughout(converted.types)
    read_only_throughout(converted.variables)
    assert all(type(v) is str for v in converted.variables.values())


def test_each_content_of_a_page_owns_its_own_mappings():
    page = json.loads(json.dumps({"contents": [CONTENT, CONTENT]}))["contents"]
    first, second = (_live_content(record) for record in page)
    assert first == second
    assert first.types is not second.types
    assert first.types["twilio/card"]["actions"] == second.types["twilio/card"]["actions"]
