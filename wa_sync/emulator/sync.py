"""Sync (v1): Services and their Documents, the store of wa-sync's apply lock.

As Twilio does (https://www.twilio.com/docs/sync/api/document-resource): a Document
is a JSON object up to 16 KiB, named by its SID (`ET...`) or its `UniqueName`, which
is unique in its Service (a second create is 409 54301); every update moves its
`revision` (returned as the ETag too), and an update whose `If-Match` names another
revision is 412 54103. `Ttl` (seconds, 0 = never) sets `date_expires`; an expired
Document is gone. Twilio deletes it "eventually" after that date; the emulator at
once, on the emulated clock (admin.tick). Services and Documents belong to the
account whose credentials are presented.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from wa_sync.emulator.errors import ApiError, bad_request
from wa_sync.emulator.store import new_sid
from wa_sync.emulator.wire import Request, Response, iso, list_meta, paging

# Twilio's Sync error codes (https://www.twilio.com/docs/api/errors/<code>)
DOCUMENT_NOT_FOUND = 54100
REVISION_MISMATCH = 54103
UNIQUE_NAME_EXISTS = 54301
SERVICE_NOT_FOUND = 20404
MAX_DATA_BYTES = 16 * 1024
MAX_TTL = 31_536_000  # a year, Twilio's limit
MAX_UNIQUE_NAME = 320
SERVICE_LINKS = ("documents", "lists", "maps", "streams")


def service_json(req: Request, row: sqlite3.Row) -> dict[str, Any]:
    url = f"{req.base_url}/v1/Services/{row['sid']}"
    return {
        "account_sid": row["account_sid"],
        "acl_enabled": False,
        "date_created": iso(row["created"]),
        "date_updated": iso(row["updated"]),
        "friendly_name": row["friendly_name"],
        "links": {name: f"{url}/{name.capitalize()}" for name in SERVICE_LINKS},
        "reachability_debouncing_enabled": False,
        "reachability_debouncing_window": 5000,
        "reachability_webhooks_enabled": False,
        "sid": row["sid"],
        "unique_name": None,
        "url": url,
        "webhook_url": None,
        "webhooks_from_rest_enabled": False,
    }


def document_json(req: Request, row: sqlite3.Row) -> dict[str, Any]:
    url = f"{req.base_url}/v1/Services/{row['service_sid']}/Documents/{row['sid']}"
    return {
        "account_sid": row["account_sid"],
        "created_by": "system",
        "data": json.loads(row["data"]),
        "date_created": iso(row["created"]),
        "date_expires": None if row["expires"] is None else iso(row["expires"]),
        "date_updated": iso(row["updated"]),
        "links": {"permissions": f"{url}/Permissions"},
        "revision": str(row["revision"]),
        "service_sid": row["service_sid"],
        "sid": row["sid"],
        "unique_name": row["unique_name"],
        "url": url,
    }


def _document_response(req: Request, status: int, row: sqlite3.Row) -> Response:
    return Response(status, document_json(req, row), {"ETag": str(row["revision"])})


# --- services ---------------------------------------------------------------------------


def list_services(req: Request) -> Response:
    pg = paging(req)
    sl = req.store.page("sync_services", "account_sid = ?", [req.account_sid], pg.size, pg.token)
    items = [service_json(req, row) for row in sl.rows]
    return Response(200, list_meta(req, "services", items, pg, sl, {}))


def create_service(req: Request) -> Response:
    form = req.form()
    sid, now = new_sid("IS"), req.store.now()
    with req.store.tx() as db:
        db.execute(
            "INSERT INTO sync_services (sid, account_sid, friendly_name, created, updated)"
            " VALUES (?, ?, ?, ?, ?)",
            (sid, req.account_sid, form.get("FriendlyName") or "", now, now),
        )
    return Response(201, service_json(req, _service(req, sid)))


def fetch_service(req: Request) -> Response:
    return Response(200, service_json(req, _service(req, req.params["Sid"])))


def _service(req: Request, sid: str) -> sqlite3.Row:
    row = req.store.one(
        "SELECT * FROM sync_services WHERE sid = ? AND account_sid = ?", (sid, req.account_sid)
    )
    if row is None:
        raise ApiError(404, SERVICE_NOT_FOUND, f"The requested resource {req.path} was not found")
    return row


# --- documents --------------------------------------------------------------------------


def list_documents(req: Request) -> Response:
    service = _service(req, req.params["ServiceSid"])
    pg = paging(req)
    sl = req.store.page("sync_documents", "service_sid = ?", [service["sid"]], pg.size, pg.token)
    items = [document_json(req, row) for row in sl.rows]
    return Response(200, list_meta(req, "documents", items, pg, sl, {}))


def create_document(req: Request) -> Response:
    form = req.form()
    service = _service(req, req.params["ServiceSid"])
    name = form.get("UniqueName") or None
    if name is not None and (len(name) > MAX_UNIQUE_NAME or name.startswith("ET")):
        raise bad_request(f"UniqueName must be 1-{MAX_UNIQUE_NAME} characters, not an ET SID")
    data = _data(form.get("Data", "{}"))
    now = req.store.now()
    expires = _expires(form, now)
    sid = new_sid("ET")
    with req.store.tx() as db:  # BEGIN IMMEDIATE: one writer at a time, across processes
        taken = db.execute(
            "SELECT 1 FROM sync_documents WHERE service_sid = ? AND unique_name = ?",
            (service["sid"], name),
        ).fetchone()
        if taken is not None:
            raise ApiError(409, UNIQUE_NAME_EXISTS, f"Unique name already exists: {name}")
        db.execute(
            "INSERT INTO sync_documents (sid, service_sid, account_sid, unique_name, data,"
            " revision, created, updated, expires) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
            (sid, service["sid"], req.account_sid, name, data, now, now, expires),
        )
    return _document_response(req, 201, _document(req, service["sid"], sid))


def fetch_document(req: Request) -> Response:
    service = _service(req, req.params["ServiceSid"])
    return _document_response(req, 200, _document(req, service["sid"], req.params["Sid"]))


def update_document(req: Request) -> Response:
    form = req.form()
    service = _service(req, req.params["ServiceSid"])
    if "Data" not in form and "Ttl" not in form:
        raise bad_request("Data or Ttl is required")
    if_match = req.headers.get("if-match")
    with req.store.tx() as db:
        row = _document(req, service["sid"], req.params["Sid"], db)
        if if_match is not None and if_match != str(row["revision"]):
            raise ApiError(
                412,
                REVISION_MISMATCH,
                f"The revision of the Document ({row['revision']}) does not match {if_match}",
            )
        now = req.store.now()
        data = _data(form["Data"]) if "Data" in form else row["data"]
        expires = _expires(form, now) if "Ttl" in form else row["expires"]
        db.execute(
            "UPDATE sync_documents SET data = ?, revision = revision + 1, updated = ?,"
            " expires = ? WHERE sid = ?",
            (data, now, expires, row["sid"]),
        )
    return _document_response(req, 200, _document(req, service["sid"], row["sid"]))


def delete_document(req: Request) -> Response:
    service = _service(req, req.params["ServiceSid"])
    with req.store.tx() as db:
        row = _document(req, service["sid"], req.params["Sid"], db)
        db.execute("DELETE FROM sync_documents WHERE sid = ?", (row["sid"],))
    return Response(204)


def _document(
    req: Request, service_sid: str, key: str, db: sqlite3.Connection | None = None
) -> sqlite3.Row:
    """The Document named `key`: its SID, or its unique name."""
    column = "sid" if key.startswith("ET") else "unique_name"
    sql = f"SELECT * FROM sync_documents WHERE service_sid = ? AND {column} = ?"  # noqa: S608
    row = (
        db.execute(sql, (service_sid, key)).fetchone()
        if db is not None
        else req.store.one(sql, (service_sid, key))
    )
    if row is None:
        raise ApiError(404, DOCUMENT_NOT_FOUND, f"Document not found: {key}")
    return row


def _data(text: str) -> str:
    """The Data form field: a JSON object of at most 16 KiB, kept as compact JSON."""
    if len(text.encode("utf-8")) > MAX_DATA_BYTES:
        raise bad_request(f"Data must be at most {MAX_DATA_BYTES} bytes")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise bad_request("Data must be a JSON object") from exc
    if not isinstance(value, dict):
        raise bad_request("Data must be a JSON object")
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _expires(form: dict[str, str], now: float) -> float | None:
    raw = form.get("Ttl", "0")
    if not raw.isdigit() or int(raw) > MAX_TTL:
        raise bad_request(f"Ttl must be a whole number of seconds from 0 to {MAX_TTL}")
    return None if int(raw) == 0 else now + int(raw)
