"""Twilio's JSON shapes and the model's, one into the other (pure functions).

Where Twilio's records become the model, its text is made safe to show, field by field
(SPEC §4.8, hostile answers): a line break in it must not start a line of wa-sync's
output (a CI log reads a line `::error::...` as a command), a control character must
not be obeyed. Text that is only shown (a rejection reason, an offline reason, a display
name in review, a status) is put on one line here (`one_line`). Text that is compared
with the configuration or identifies an object (a FriendlyName, a WhatsApp name, a
language, a body, a sender's profile) is kept exactly as Twilio sent it, or a plan would
show false changes or miss real ones; the model gives its display form (`shown_name`).
A SID, a sender id and a category are in the form Twilio gives them, or the record is
not Twilio's: they are shown as they are.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from wa_sync.model import (
    ApprovalStatus,
    LiveAccount,
    LiveContent,
    LiveSender,
    Sender,
    freeze,
    thaw,
)
from wa_sync.visible import one_line, without_password

_log = logging.getLogger("wa_sync.gateway")

PROFILE_TEXT_KEYS = ("about", "description", "address", "vertical", "logo_url")
PROFILE_LIST_KEYS = {"emails": ("email", "Email"), "websites": ("website", "Website")}
WEBHOOK_URL_KEYS = ("callback_url", "fallback_url", "status_callback_url")
WEBHOOK_METHOD_KEYS = ("callback_method", "fallback_method", "status_callback_method")


def sender_body(sender: Sender, waba_id: str | None) -> dict[str, Any]:
    """The Senders API body for `sender`: a registration's with `waba_id`, an update's
    without (None). An update sends the keys the sender does not declare empty, so that
    it removes them (the SDK can never send null), and leaves out the fields it ignores
    and the configuration: Twilio keeps them as they are, the sender its WhatsApp
    Business Account (a `waba_id` that differs is a warning of the plan's, never a move)."""
    clear = waba_id is None
    declared = thaw(sender.profile)
    profile: dict[str, Any] = {"name": sender.display_name}
    for key in PROFILE_TEXT_KEYS:
        value = declared.get(key)
        if value not in (None, ""):
            profile[key] = value
        elif clear:
            profile[key] = ""
    for key, (field, label) in PROFILE_LIST_KEYS.items():
        values = declared.get(key) or []
        if values or clear:
            profile[key] = [{field: v, "label": label} for v in values]
    if clear:  # `ignore:` (SPEC §4.8): the customer's own edits in WhatsApp Manager stay
        ignored = {f.removeprefix("profile.") for f in sender.ignore}
        profile = {k: v for k, v in profile.items() if k not in ignored}
        if "display_name" in sender.ignore:
            del profile["name"]
    webhook = {k: v for k, v in thaw(sender.webhook).items() if v not in (None, "")}
    if clear:
        for key in WEBHOOK_URL_KEYS:
            webhook.setdefault(key, "")
    body: dict[str, Any] = {"profile": profile}
    if waba_id is not None:
        body["configuration"] = {"waba_id": waba_id}
        if sender.verification:  # how Meta sends the one-time code (SPEC §1.1)
            body["configuration"]["verification_method"] = sender.verification
    if webhook:
        body["webhook"] = webhook
    return body


class NotTwilios(ValueError):
    """A record with a field of another type than Twilio's description gives it."""


# The fields each conversion reads, and their types in Twilio's description (null aside)
SENDER_FIELDS = {"sender_id": str, "status": str, "profile": Mapping, "configuration": Mapping,
                 "webhook": Mapping, "properties": Mapping, "offline_reasons": list}  # fmt: skip
CONTENT_FIELDS = {"friendly_name": str, "language": str, "types": Mapping,
                  "variables": Mapping, "approval_requests": Mapping}  # fmt: skip
ACCOUNT_FIELDS = {"friendly_name": str, "status": str, "auth_token": str}
_KINDS: dict[type, str] = {str: "a string", Mapping: "an object", list: "a list"}
SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}\Z")  # Twilio's description: ^HX[0-9a-fA-F]{32}$...


def _check(data: Mapping[str, Any], fields: Mapping[str, type]) -> None:
    """NotTwilios unless its SID is in Twilio's form and each field read is null or of
    its type: a record of another shape is an answer that cannot be Twilio's, not a
    crash further on (nor a SID that starts a line of output)."""
    sid = data.get("sid")
    if not isinstance(sid, str) or not SID.match(sid):
        raise NotTwilios(f"a record's SID is not in Twilio's form: {one_line(repr(sid))[:80]}")
    for key, kind in fields.items():
        value = data.get(key)
        if value is not None and not isinstance(value, kind):
            raise NotTwilios(
                f"{data.get('sid')}'s {key} is {type(value).__name__}, not {_KINDS[kind]}"
            )


def _webhook_value(value: Any) -> Any:
    """A webhook URL or method as Twilio sent it, but a password in a URL (basic auth
    set in the Console): a secret, which no plan, status or import may show. The
    configuration cannot hold one (validate refuses it), so such a URL differs from the
    declared one all the same, and the update is planned."""
    return without_password(value) if isinstance(value, str) else value


def _code(data: Mapping[str, Any], key: str, value: Any) -> str:
    """A code Twilio checks when it is set (a sender id, E.164; a category, one of three;
    a WhatsApp Business Account ID) exactly as it is: it is compared with the
    configuration, so never changed for display, and holds no line break or control
    character, or it is not Twilio's."""
    text = str(value or "")
    if one_line(text) != text:
        raise NotTwilios(f"{data.get('sid')}'s {key} is not a code on one line: {repr(text)[:80]}")
    return text


def account_record(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A subaccount's record as Twilio sent it, once its fields are checked."""
    _check(data, ACCOUNT_FIELDS)
    return data


def live_account(data: Mapping[str, Any]) -> LiveAccount:
    """The FriendlyName as it is: `wa-sync:<id>` identifies a customer's subaccount."""
    return LiveAccount(
        sid=str(data.get("sid") or ""),
        friendly_name=str(data.get("friendly_name") or ""),
        status=one_line(str(data.get("status") or "active")),
    )


def _profile(raw: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Twilio's profile as the model has it: known keys, lists of strings, nothing empty."""
    raw = raw or {}
    out: dict[str, Any] = {k: raw[k] for k in PROFILE_TEXT_KEYS if raw.get(k) not in (None, "")}
    for key, (field, _label) in PROFILE_LIST_KEYS.items():
        items = [i.get(field) if isinstance(i, Mapping) else i for i in raw.get(key) or []]
        values = [str(item) for item in items if item not in (None, "")]
        if values:
            out[key] = values
    return freeze(out)


def live_sender(data: Mapping[str, Any]) -> LiveSender:
    _check(data, SENDER_FIELDS)
    profile = data.get("profile") or {}
    configuration = data.get("configuration") or {}
    webhook = data.get("webhook") or {}
    properties = data.get("properties") or {}
    keys = (*WEBHOOK_URL_KEYS, *WEBHOOK_METHOD_KEYS)
    return LiveSender(
        sid=data["sid"],
        sender_id=_code(data, "sender_id", data.get("sender_id")),
        status=one_line(str(data.get("status") or "")),
        display_name=str(profile.get("name") or ""),
        profile=_profile(profile),
        webhook=freeze(
            {k: _webhook_value(webhook[k]) for k in keys if webhook.get(k) not in (None, "")}
        ),
        waba_id=_code(data, "waba_id", configuration.get("waba_id")) or None,
        verification=_text_or_none(configuration.get("verification_method")),
        pending_display_name=_text_or_none(data.get("pending_display_name")),
        pending_display_name_status=_text_or_none(data.get("pending_display_name_status")),
        offline_reasons=tuple(_reason(r) for r in data.get("offline_reasons") or []),
        quality_rating=_text_or_none(properties.get("quality_rating")),
        messaging_limit=_text_or_none(properties.get("messaging_limit")),
    )


def _text_or_none(value: Any) -> str | None:
    return one_line(str(value)) if value not in (None, "") else None


def _reason(reason: Any) -> str:
    if isinstance(reason, Mapping):
        code, message = reason.get("code"), reason.get("message")
        return one_line(": ".join(str(p) for p in (code, message) if p))
    return one_line(str(reason))


def live_content(data: Mapping[str, Any]) -> LiveContent:
    _check(data, CONTENT_FIELDS)
    approval = data.get("approval_requests") or {}
    reason = approval.get("rejection_reason")
    variables = data.get("variables") or {}
    return LiveContent(
        sid=data["sid"],
        friendly_name=data.get("friendly_name") or "",
        language=data.get("language") or "",
        types=freeze(data.get("types") or {}),
        variables=MappingProxyType({str(k): str(v) for k, v in variables.items()}),
        approval_status=_approval_status(approval.get("status")),
        approval_name=str(approval.get("name") or ""),
        approval_category=_code(data, "category", approval.get("category")),
        rejection_reason=one_line(str(reason)) if reason else "",
        date_created=_iso(data.get("date_created")),
    )


def _approval_status(value: Any) -> ApprovalStatus:
    try:
        return ApprovalStatus(str(value or "").strip().lower() or "unsubmitted")
    except ValueError:  # unknown: "in review", so submitted, locked, never re-submitted
        _log.warning("unknown WhatsApp approval status %r, treated as pending", value)
        return ApprovalStatus.PENDING


def _iso(value: Any) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` (in UTC) from Twilio's ISO 8601 text or the SDK's datetime,
    or Twilio's text as it is when it is not a date."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        zoned = value if value.tzinfo else value.replace(tzinfo=UTC)
        return zoned.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value or "")


def same_json(a: Any, b: Any) -> bool:
    return _drop_empty(thaw(a)) == _drop_empty(thaw(b))


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value
