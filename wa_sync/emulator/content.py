"""Content API v1: contents, WhatsApp approval requests, ContentAndApprovals.

Everything acts on the authenticated account. A content is immutable once submitted
(92009); (name, language) is unique per account, and the name of a deleted approved
template is blocked for 30 days at its WhatsApp submission (see the package docstring
for the choices made).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from wa_sync.emulator.errors import (
    CONFLICT,
    CONTENT_SUBMITTED,
    ApiError,
    bad_request,
    not_found,
)
from wa_sync.emulator.store import new_sid
from wa_sync.emulator.wire import Request, Response, iso, list_meta, paging, stored_json

REUSE_BLOCK_SECONDS = 30 * 86400
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}\Z")  # `$` would let a final newline through
SUBMITTED_MESSAGE = (
    "The template associated with this SID has already been submitted for approval. "
    "Please recreate a new template to make any changes."
)
# Content types and the keys each requires (Twilio's OpenAPI description).
TYPES: dict[str, tuple[str, ...]] = {
    "twilio/text": ("body",),
    "twilio/media": ("media",),
    "twilio/location": ("latitude", "longitude"),
    "twilio/list-picker": ("body", "button", "items"),
    "twilio/call-to-action": ("body", "actions"),
    "twilio/quick-reply": ("body", "actions"),
    "twilio/card": (),
    "twilio/catalog": ("body",),
    "twilio/carousel": ("body", "cards"),
    "twilio/flows": (),
    "twilio/schedule": ("id", "title"),
    "whatsapp/card": ("body",),
    "whatsapp/authentication": ("actions",),
    "whatsapp/flows": ("body", "button_text", "flow_id"),
}
CREATE_KEYS = {"friendly_name", "language", "variables", "types"}
STORED_JSON = ("variables", "types")  # the columns that keep JSON
APPROVAL_KEYS = {"name", "category", "send_ttl_seconds", "bid_amount"}


def content_type(types: dict[str, Any]) -> str:
    """The type WhatsApp reviews: the richest one when text has a fallback alongside."""
    keys = list(types)
    rich = [k for k in keys if k != "twilio/text"]
    return (rich or keys or [""])[0]


def approval_json(row: sqlite3.Row, types: dict[str, Any] | None = None) -> dict[str, Any]:
    """The WhatsApp approval of a content row (`types`: its types, if already decoded)."""
    submitted = row["approval_status"] != "unsubmitted"
    if submitted and types is None:
        types = json.loads(row["types"])
    return {
        "name": row["approval_name"] if submitted else "",
        "category": row["approval_category"] if submitted else "",
        "content_type": content_type(types or {}) if submitted else "",
        "status": row["approval_status"],
        "rejection_reason": row["rejection_reason"],
        "allow_category_change": True,
    }


def _base_json(row: sqlite3.Row, stored: dict[str, Any]) -> dict[str, Any]:
    """The content's own fields; `stored`: its STORED_JSON columns, decoded."""
    return {
        "date_created": iso(row["created"]),
        "date_updated": iso(row["updated"]),
        "sid": row["sid"],
        "account_sid": row["account_sid"],
        "friendly_name": row["friendly_name"],
        "language": row["language"],
        "variables": stored["variables"],
        "types": stored["types"],
    }


def content_json(
    req: Request, row: sqlite3.Row, stored: dict[str, Any] | None = None
) -> dict[str, Any]:
    if stored is None:
        stored = stored_json([row], STORED_JSON)[0]
    url = f"{req.base_url}/v1/Content/{row['sid']}"
    return {
        **_base_json(row, stored),
        "url": url,
        "links": {
            "approval_create": f"{url}/ApprovalRequests/whatsapp",
            "approval_fetch": f"{url}/ApprovalRequests",
        },
    }


def _own(req: Request, sid: str) -> sqlite3.Row:
    row = req.store.one(
        "SELECT * FROM contents WHERE sid = ? AND account_sid = ?", (sid, req.account_sid)
    )
    if row is None:
        raise not_found(req.path)
    return row


# -- validation ------------------------------------------------------------------


def _check_types(types: Any) -> dict[str, Any]:
    if not isinstance(types, dict) or not types:
        raise bad_request("types is required and must be a non-empty object")
    for key, value in types.items():
        if key not in TYPES:
            raise bad_request(f"Unknown content type {key!r}")
        if not isinstance(value, dict):
            raise bad_request(f"types[{key!r}] must be an object")
        missing = [name for name in TYPES[key] if value.get(name) in (None, "", [])]
        if missing:
            raise bad_request(f"types[{key!r}] is missing {', '.join(missing)}")
    return types


def _check_variables(variables: Any) -> dict[str, str]:
    if variables is None:
        return {}
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise bad_request("variables must be an object of strings")
    return variables


def _check_name_free(
    req: Request,
    name: str,
    language: str,
    *,
    except_sid: str | None,
    now: float,
    released: bool = False,
) -> None:
    """(name, language) taken by another content or submission; a submission's name
    (`released`: the name WhatsApp gets) also must not be one WhatsApp still blocks."""
    if not name:
        return
    taken = req.store.one(
        "SELECT sid FROM contents WHERE account_sid = ? AND language = ? AND sid != ? AND"
        " (friendly_name = ? OR (approval_status != 'unsubmitted' AND approval_name = ?))",
        (req.account_sid, language, except_sid or "", name, name),
    )
    if taken is not None:
        raise ApiError(
            409,
            CONFLICT,
            f"A template named {name!r} in language {language!r} already exists"
            f" in this account ({taken['sid']})",
        )
    if released:
        _check_released(req, name, now)


def _check_released(req: Request, name: str, now: float) -> None:
    """WhatsApp's rule on its template names, not Twilio's on FriendlyNames: the name of
    an approved template deleted less than 30 days ago cannot be submitted (Meta's
    template management docs, notes/whatsapp-rules-sources.md 1.9); creating a content
    with that FriendlyName is Twilio's business and is free."""
    retired = req.store.one(
        "SELECT deleted FROM retired_names WHERE account_sid = ? AND name = ? AND deleted > ?",
        (req.account_sid, name, now - REUSE_BLOCK_SECONDS),
    )
    if retired is not None:
        raise ApiError(
            409,
            CONFLICT,
            f"The name {name!r} belonged to an approved template deleted less than 30 days"
            " ago and cannot be reused yet",
        )


# -- handlers --------------------------------------------------------------------


def create_content(req: Request) -> Response:
    body = req.json()
    unknown = sorted(set(body) - CREATE_KEYS)
    if unknown:
        raise bad_request(f"Unknown parameters: {', '.join(unknown)}")
    language = body.get("language")
    if not isinstance(language, str) or not language:
        raise bad_request("language is required")
    name = body.get("friendly_name") or ""
    if not isinstance(name, str):
        raise bad_request("friendly_name must be a string")
    types = _check_types(body.get("types"))
    variables = _check_variables(body.get("variables"))
    sid = new_sid("HX")
    with req.store.lock:
        now = req.store.now()
        _check_name_free(req, name, language, except_sid=None, now=now)
        with req.store.tx() as db:
            db.execute(
                "INSERT INTO contents (sid, account_sid, friendly_name, language, variables, types,"
                " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sid,
                    req.account_sid,
                    name,
                    language,
                    json.dumps(variables),
                    json.dumps(types),
                    now,
                    now,
                ),
            )
    return Response(201, content_json(req, _own(req, sid)))


def update_content(req: Request) -> Response:
    body = req.json()
    unknown = sorted(set(body) - CREATE_KEYS)
    if unknown:
        raise bad_request(f"Unknown parameters: {', '.join(unknown)}")
    with req.store.lock:
        row = _own(req, req.params["Sid"])
        if row["approval_status"] != "unsubmitted":
            raise ApiError(400, CONTENT_SUBMITTED, SUBMITTED_MESSAGE)
        types = _check_types(body.get("types"))
        variables = _check_variables(body.get("variables", json.loads(row["variables"])))
        language = body.get("language") or row["language"]
        name = body.get("friendly_name", row["friendly_name"]) or ""
        if not isinstance(language, str) or not isinstance(name, str):
            raise bad_request("language and friendly_name must be strings")
        now = req.store.now()
        _check_name_free(req, name, language, except_sid=row["sid"], now=now)
        with req.store.tx() as db:
            db.execute(
                "UPDATE contents SET friendly_name = ?, language = ?, variables = ?, types = ?,"
                " updated = ? WHERE sid = ?",
                (name, language, json.dumps(variables), json.dumps(types), now, row["sid"]),
            )
    return Response(200, content_json(req, _own(req, row["sid"])))


def fetch_content(req: Request) -> Response:
    return Response(200, content_json(req, _own(req, req.params["Sid"])))


def delete_content(req: Request) -> Response:
    with req.store.lock:
        row = _own(req, req.params["Sid"])
        now = req.store.now()
        with req.store.tx() as db:
            if row["approval_status"] == "approved":
                db.execute(
                    "INSERT INTO retired_names (account_sid, name, language, deleted)"
                    " VALUES (?, ?, ?, ?)",
                    (row["account_sid"], row["approval_name"], row["language"], now),
                )
            db.execute("DELETE FROM contents WHERE sid = ?", (row["sid"],))
    return Response(204)


def list_contents(req: Request) -> Response:
    pg = paging(req)
    sl = req.store.page("contents", "account_sid = ?", [req.account_sid], pg.size, pg.token)
    stored = stored_json(sl.rows, STORED_JSON)
    items = [content_json(req, row, columns) for row, columns in zip(sl.rows, stored, strict=True)]
    return Response(200, list_meta(req, "contents", items, pg, sl, {}))


def list_content_and_approvals(req: Request) -> Response:
    pg = paging(req)
    sl = req.store.page("contents", "account_sid = ?", [req.account_sid], pg.size, pg.token)
    items = []
    for row, stored in zip(sl.rows, stored_json(sl.rows, STORED_JSON), strict=True):
        item = _base_json(row, stored)
        item["approval_requests"] = approval_json(row, item["types"])
        items.append(item)
    return Response(200, list_meta(req, "contents", items, pg, sl, {}))


def submit_whatsapp(req: Request) -> Response:
    body = req.json()
    unknown = sorted(set(body) - APPROVAL_KEYS)
    if unknown:
        raise bad_request(f"Unknown parameters: {', '.join(unknown)}")
    name = body.get("name")
    category = body.get("category")
    if not isinstance(name, str) or not TEMPLATE_NAME.match(name):
        raise bad_request("name is required: lowercase letters, digits and underscores, 1-512")
    if category not in CATEGORIES:
        raise bad_request(f"category is required: one of {', '.join(CATEGORIES)}")
    with req.store.lock:
        row = _own(req, req.params["Sid"])
        if row["approval_status"] != "unsubmitted":
            raise ApiError(400, CONTENT_SUBMITTED, SUBMITTED_MESSAGE)
        now = req.store.now()
        _check_name_free(req, name, row["language"], except_sid=row["sid"], now=now, released=True)
        after = req.settings.approve_after
        with req.store.tx() as db:
            db.execute(
                "UPDATE contents SET approval_status = 'received', approval_name = ?,"
                " approval_category = ?, rejection_reason = '', submitted = ?, approve_at = ?"
                " WHERE sid = ?",
                (name, category, now, None if after is None else now + after, row["sid"]),
            )
    return Response(201, approval_json(_own(req, row["sid"])))


def fetch_approvals(req: Request) -> Response:
    row = _own(req, req.params["Sid"])
    return Response(
        200,
        {
            "sid": row["sid"],
            "account_sid": row["account_sid"],
            "url": f"{req.base_url}/v1/Content/{row['sid']}/ApprovalRequests",
            "whatsapp": {"type": "whatsapp", **approval_json(row)},
        },
    )
