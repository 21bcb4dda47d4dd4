"""Senders API v2 (WhatsApp): register, list, fetch, update and delete senders.

A new sender for a number the emulator sells (TWILIO_NUMBERS) is CREATING and goes
ONLINE `sender_online_after` seconds later on the emulated clock (or when a test sets
its status). Any other number is the customer's own: it waits in PENDING_VERIFICATION
until an update posts `configuration.verification_code` equal to the emulator's
expected code (DEFAULT_CODE unless set), then is VERIFYING and goes ONLINE as above
(notes/twilio-api.md 4.3). The code is never stored. Updates merge per key within each
section; an empty string clears a key (the SDK can never send null).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from wa_sync.emulator.auth import same_secret
from wa_sync.emulator.errors import CONFLICT, ApiError, bad_request, not_found
from wa_sync.emulator.store import new_sid
from wa_sync.emulator.wire import Request, Response, iso, list_meta, paging, stored_json

STATUSES = (
    "CREATING",
    "ONLINE",
    "OFFLINE",
    "PENDING_VERIFICATION",
    "VERIFYING",
    "ONLINE:UPDATING",
    "TWILIO_REVIEW",
    "DRAFT",
    "STUBBED",
)
# A display-name change under Meta's review (`pending_display_name_status`), as the SDK's
# ChannelsSenderInstance documents it: made by an update of an ONLINE sender's name
# (_review_name), decided by tests through `set_display_name_status`.
REVIEW = "PENDING_REVIEW"
DISPLAY_NAME_STATUSES = ("PENDING_REVIEW", "APPROVED", "DECLINED", "PIN_MISMATCH",
                         "REGISTRATION_FAILED", "EXPIRED", "COMPLETED")  # fmt: skip
SENDER_ID = re.compile(r"^whatsapp:\+[1-9][0-9]{6,14}$")
CONFIGURATION = ("waba_id", "verification_method", "verification_code", "voice_application_sid",
                 "account_type")  # fmt: skip
WEBHOOK = ("callback_url", "callback_method", "fallback_url", "fallback_method",
           "status_callback_url", "status_callback_method")  # fmt: skip
PROFILE = ("name", "about", "address", "description", "logo_url", "banner_url", "privacy_url",
           "terms_of_service_url", "accent_color", "vertical", "websites", "emails",
           "phone_numbers", "use_case")  # fmt: skip
LISTS = {"websites": "website", "emails": "email", "phone_numbers": "phone_number"}
ENUMS = {
    "verification_method": ("sms", "voice"),
    "account_type": ("ISV", "ISVSubAccount"),
    "callback_method": ("POST", "PUT"),
    "fallback_method": ("POST", "PUT"),
    "status_callback_method": ("POST", "PUT"),
}
VERTICALS = ("Alcohol", "Automotive", "Beauty, Spa and Salon", "Clothing and Apparel", "Education",
             "Entertainment", "Event Planning and Service", "Finance and Banking",
             "Food and Grocery", "Hotel and Lodging", "Matrimony Service", "Medical and Health",
             "Non-profit", "Online Gambling", "OTC Drugs", "Other", "Physical Gambling",
             "Professional Services", "Public Service", "Restaurant", "Shopping and Retail",
             "Travel and Transportation")  # fmt: skip
# WhatsApp Business Profile limits (Meta), enforced as the stricter choice.
MAX_LENGTH = {"about": 139, "description": 512, "address": 256}
MAX_WEBSITES = 2
SECTIONS = {"configuration": CONFIGURATION, "webhook": WEBHOOK, "profile": PROFILE}
# The emulator's own numbers: as Twilio numbers with SMS, they are verified at once.
TWILIO_NUMBERS = ("whatsapp:+1",)
DEFAULT_CODE = "123456"  # the one-time code the emulator expects until one is set
CODE_KEY = "verification_code"  # in the meta table
# Twilio's offline reason codes (twilio.com/docs/errors/<code>) and their messages.
OFFLINE_MESSAGES = {
    "30008": "The sender is offline",
    "63020": "Twilio's invitation to the business has not been accepted",
    "63101": "The WhatsApp Business Account is not shared with Twilio, is linked to another "
    "account, or the Solution ID is wrong",
}


def sender_json(
    req: Request, row: sqlite3.Row, sections: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`sections`: the row's SECTIONS, decoded (when a listing decoded them already)."""
    if sections is None:
        sections = stored_json([row], tuple(SECTIONS))[0]
    online = row["status"] == "ONLINE"
    configuration = {key: sections["configuration"].get(key) for key in CONFIGURATION}
    configuration["verification_method"] = configuration["verification_method"] or "sms"
    if configuration["account_type"] is None:  # a nullable enum without null: Twilio
        del configuration["account_type"]  # leaves it out while it is unset
    webhook = {key: sections["webhook"].get(key) for key in WEBHOOK}
    for method in ("callback_method", "fallback_method"):
        webhook[method] = webhook[method] or "POST"  # Twilio's default, never null
    doc = {
        "sid": row["sid"],
        "status": row["status"],
        "sender_id": row["sender_id"],
        "friendly_name": row["friendly_name"],
        "configuration": configuration,
        "webhook": webhook,
        "profile": {key: sections["profile"].get(key) for key in PROFILE if key != "use_case"},
        "properties": {
            "quality_rating": "HIGH" if online else None,
            "messaging_limit": "1K Customers/24hr" if online else None,
        },
        "offline_reasons": _offline_reasons(req, row["sid"])
        if row["status"] == "OFFLINE"
        else None,
        "compliance": None,
        "url": f"{req.base_url}/v2/Channels/Senders/{row['sid']}",
    }
    return doc | _display_name_change(req, row["sid"])


def offline_reason(code: str) -> dict[str, str]:
    return {
        "code": code,
        "message": OFFLINE_MESSAGES.get(code, "The sender is offline"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
    }


def _offline_reasons(req: Request, sid: str) -> list[dict[str, str]]:
    """The reasons a control call gave, else Twilio's unknown error."""
    row = req.store.one("SELECT reasons FROM offline_reasons WHERE sender_sid = ?", (sid,))
    codes = json.loads(row["reasons"]) if row is not None else ["30008"]
    return [offline_reason(code) for code in codes]


def _display_name_change(req: Request, sid: str) -> dict[str, Any]:
    """The three `pending_display_name*` fields: present together, or absent when no
    display-name change was made."""
    change = req.store.one("SELECT * FROM display_names WHERE sender_sid = ?", (sid,))
    if change is None:
        return {}
    return {
        "pending_display_name": change["name"],
        "pending_display_name_status": change["status"],
        "pending_display_name_status_date": iso(change["changed"]),
    }


def _own(req: Request, sid: str) -> sqlite3.Row:
    row = req.store.one(
        "SELECT * FROM senders WHERE sid = ? AND account_sid = ?", (sid, req.account_sid)
    )
    if row is None:
        raise not_found(req.path)
    return row


def _section(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name, {})
    if not isinstance(value, dict):
        raise bad_request(f"{name} must be an object")
    unknown = sorted(set(value) - set(SECTIONS[name]))
    if unknown:
        raise bad_request(f"Unknown {name} parameters: {', '.join(unknown)}")
    for key, item in value.items():
        if key in ENUMS and item not in (*ENUMS[key], ""):
            raise bad_request(f"{name}.{key} must be one of {', '.join(ENUMS[key])}")
        if key in LISTS:
            _check_list(key, item)
        elif not isinstance(item, str):
            raise bad_request(f"{name}.{key} must be a string")
    return value


def _check_list(key: str, items: Any) -> None:
    field = LISTS[key]
    if not isinstance(items, list) or not all(
        isinstance(i, dict)
        and set(i) == {field, "label"}
        and isinstance(i[field], str)
        and isinstance(i["label"], str)
        for i in items
    ):
        raise bad_request(f"profile.{key} must be a list of {{{field}, label}} objects")


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = {**old, **new}
    return {key: value for key, value in merged.items() if value not in ("", None)}


def _check_profile(profile: dict[str, Any]) -> None:
    if not profile.get("name"):
        raise bad_request("profile.name (the display name) is required for WhatsApp senders")
    vertical = profile.get("vertical")
    if vertical and vertical not in VERTICALS:
        raise bad_request(f"profile.vertical must be one of: {'; '.join(VERTICALS)}")
    for key, limit in MAX_LENGTH.items():
        if len(profile.get(key) or "") > limit:
            raise bad_request(f"profile.{key} must be at most {limit} characters")
    if len(profile.get("websites") or []) > MAX_WEBSITES:
        raise bad_request(f"profile.websites takes at most {MAX_WEBSITES} websites")


def create_sender(req: Request) -> Response:
    body = req.json()
    unknown = sorted(set(body) - {"sender_id", "friendly_name", *SECTIONS})
    if unknown:
        raise bad_request(f"Unknown parameters: {', '.join(unknown)}")
    sender_id = body.get("sender_id")
    if not isinstance(sender_id, str) or not SENDER_ID.match(sender_id):
        raise bad_request("sender_id is required: whatsapp:<E.164 phone number>")
    sections = {name: _merge({}, _section(body, name)) for name in SECTIONS}
    sections["configuration"].pop("verification_code", None)  # a secret: never stored
    if not sections["configuration"].get("waba_id"):
        raise bad_request("configuration.waba_id is required to register a WhatsApp sender")
    _check_profile(sections["profile"])
    friendly_name = body.get("friendly_name")
    if friendly_name is not None and not isinstance(friendly_name, str):
        raise bad_request("friendly_name must be a string")
    sid = new_sid("XE")
    with req.store.lock:
        taken = req.store.one("SELECT sid FROM senders WHERE sender_id = ?", (sender_id,))
        if taken is not None:
            raise ApiError(409, CONFLICT, f"Sender {sender_id} is already registered")
        now = req.store.now()
        owned = sender_id.startswith(TWILIO_NUMBERS)
        status = "CREATING" if owned else "PENDING_VERIFICATION"
        online_at = now + req.settings.sender_online_after if owned else None
        with req.store.tx() as db:
            db.execute(
                "INSERT INTO senders (sid, account_sid, sender_id, status, friendly_name,"
                " configuration, webhook, profile, created, updated, online_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, req.account_sid, sender_id, status, friendly_name or None,
                 json.dumps(sections["configuration"]), json.dumps(sections["webhook"]),
                 json.dumps(sections["profile"]), now, now, online_at),
            )  # fmt: skip
    return Response(202, sender_json(req, _own(req, sid)))


def update_sender(req: Request) -> Response:
    body = req.json()
    unknown = sorted(set(body) - {"friendly_name", *SECTIONS})
    if unknown:
        raise bad_request(f"Unknown parameters: {', '.join(unknown)}")
    with req.store.lock:
        row = _own(req, req.params["Sid"])
        given = {name: _section(body, name) for name in SECTIONS}
        code = given["configuration"].pop("verification_code", None)  # never stored
        sections = {name: _merge(json.loads(row[name]), given[name]) for name in SECTIONS}
        _check_profile(sections["profile"])
        if code not in (None, ""):
            _verify(req, row, code)
        _review_name(req, row, sections["profile"])
        friendly_name = body.get("friendly_name", row["friendly_name"])
        if friendly_name is not None and not isinstance(friendly_name, str):
            raise bad_request("friendly_name must be a string")
        with req.store.tx() as db:
            db.execute(
                "UPDATE senders SET friendly_name = ?, configuration = ?, webhook = ?, profile = ?,"
                " updated = ? WHERE sid = ?",
                (friendly_name or None, json.dumps(sections["configuration"]),
                 json.dumps(sections["webhook"]), json.dumps(sections["profile"]),
                 req.store.now(), row["sid"]),
            )  # fmt: skip
    return Response(202, sender_json(req, _own(req, row["sid"])))


def _review_name(req: Request, row: sqlite3.Row, profile: dict[str, Any]) -> None:
    """A new display name for an ONLINE sender goes to Meta's review: `profile.name`
    keeps the name in service, the new one is `pending_display_name` (PENDING_REVIEW)
    until `set_display_name_status` approves it (notes/twilio-api.md 4.2). The same name
    sent again while in review leaves the review as it is."""
    active = json.loads(row["profile"]).get("name")
    wanted = profile["name"]
    if row["status"] != "ONLINE" or wanted == active:
        return
    profile["name"] = active
    pending = req.store.one("SELECT * FROM display_names WHERE sender_sid = ?", (row["sid"],))
    if pending is not None and (pending["name"], pending["status"]) == (wanted, REVIEW):
        return
    with req.store.tx() as db:
        db.execute("DELETE FROM display_names WHERE sender_sid = ?", (row["sid"],))
        db.execute(
            "INSERT INTO display_names (sender_sid, name, status, changed) VALUES (?, ?, ?, ?)",
            (row["sid"], wanted, REVIEW, req.store.now()),
        )


def _verify(req: Request, row: sqlite3.Row, code: str) -> None:
    """The one-time code for a sender waiting for it: right, and it is VERIFYING."""
    if row["status"] != "PENDING_VERIFICATION":
        raise bad_request(
            f"Sender {row['sender_id']} is {row['status']}, not waiting for a verification code"
        )
    expected = req.store.meta(CODE_KEY) or DEFAULT_CODE
    if not same_secret(expected, code):
        raise bad_request(
            f"configuration.verification_code is not the code sent to {row['sender_id']}"
        )
    now = req.store.now()
    with req.store.tx() as db:
        db.execute(
            "UPDATE senders SET status = 'VERIFYING', online_at = ?, updated = ? WHERE sid = ?",
            (now + req.settings.sender_online_after, now, row["sid"]),
        )


def fetch_sender(req: Request) -> Response:
    return Response(200, sender_json(req, _own(req, req.params["Sid"])))


def delete_sender(req: Request) -> Response:
    with req.store.lock:
        row = _own(req, req.params["Sid"])
        with req.store.tx() as db:
            db.execute("DELETE FROM senders WHERE sid = ?", (row["sid"],))
            db.execute("DELETE FROM display_names WHERE sender_sid = ?", (row["sid"],))
            db.execute("DELETE FROM offline_reasons WHERE sender_sid = ?", (row["sid"],))
    return Response(204)


def list_senders(req: Request) -> Response:
    channel = req.query.get("Channel")
    if channel not in ("whatsapp", "rcs"):
        raise bad_request("Channel is required: whatsapp or rcs")
    pg = paging(req, default_size=20)
    sl = req.store.page(
        "senders",
        "account_sid = ? AND sender_id LIKE ?",
        [req.account_sid, f"{channel}:%"],
        pg.size,
        pg.token,
    )
    decoded = stored_json(sl.rows, tuple(SECTIONS))
    items = [
        sender_json(req, row, sections) for row, sections in zip(sl.rows, decoded, strict=True)
    ]
    return Response(200, list_meta(req, "senders", items, pg, sl, {"Channel": channel}))
