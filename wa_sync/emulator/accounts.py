"""2010 Accounts API: the parent lists, creates, fetches and updates its subaccounts."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from wa_sync.emulator.errors import (
    AUTHENTICATE,
    SUBACCOUNT_LIMIT,
    ApiError,
    bad_request,
    not_found,
)
from wa_sync.emulator.store import Store, new_secret, new_sid
from wa_sync.emulator.wire import Request, Response, list_2010, paging, rfc2822

STATUSES = ("active", "suspended", "closed")
MAX_FRIENDLY_NAME = 64
SUBRESOURCES = (
    "addresses",
    "applications",
    "authorized_connect_apps",
    "available_phone_numbers",
    "balance",
    "calls",
    "conferences",
    "connect_apps",
    "incoming_phone_numbers",
    "keys",
    "messages",
    "notifications",
    "outgoing_caller_ids",
    "queues",
    "recordings",
    "short_codes",
    "signing_keys",
    "sip",
    "transcriptions",
    "usage",
)


def account_json(row: sqlite3.Row, token: str) -> dict[str, Any]:
    sid = row["sid"]
    base = f"/2010-04-01/Accounts/{sid}"
    return {
        "auth_token": token,
        "date_created": rfc2822(row["created"]),
        "date_updated": rfc2822(row["updated"]),
        "friendly_name": row["friendly_name"],
        "owner_account_sid": row["owner_sid"],
        "sid": sid,
        "status": row["status"],
        "subresource_uris": {
            name: f"{base}/{name}.json" if name != "sip" else f"{base}/SIP.json"
            for name in SUBRESOURCES
        },
        "type": "Full",
        "uri": f"{base}.json",
    }


def create_account_row(store: Store, owner_sid: str, friendly_name: str, now: float) -> str:
    sid = new_sid("AC")
    with store.tx() as db:
        db.execute(
            "INSERT INTO accounts (sid, owner_sid, friendly_name, status, auth_token, created,"
            " updated) VALUES (?, ?, ?, 'active', ?, ?, ?)",
            (sid, owner_sid, friendly_name, new_secret(), now, now),
        )
    return sid


def _token(req: Request, row: sqlite3.Row) -> str:
    return req.settings.parent_token if row["sid"] == req.settings.parent_sid else row["auth_token"]


def _deny_standard_key(req: Request) -> None:
    assert req.principal is not None
    if req.principal.standard_key:
        raise ApiError(401, AUTHENTICATE, "Authenticate")


def _friendly_name(value: str) -> str:
    if len(value) > MAX_FRIENDLY_NAME:
        raise bad_request(f"FriendlyName must be at most {MAX_FRIENDLY_NAME} characters")
    return value


def _visible(req: Request, sid: str) -> sqlite3.Row:
    """The account itself or one it owns; anything else is not found."""
    row = req.store.one(
        "SELECT * FROM accounts WHERE sid = ? AND (sid = ? OR owner_sid = ?)",
        (sid, req.account_sid, req.account_sid),
    )
    if row is None:
        raise not_found(req.path)
    return row


def list_accounts(req: Request) -> Response:
    _deny_standard_key(req)
    pg = paging(req)
    where = "(sid = ? OR owner_sid = ?)"
    params: list[Any] = [req.account_sid, req.account_sid]
    filters: dict[str, str] = {}
    if "FriendlyName" in req.query:
        where += " AND friendly_name = ?"
        params.append(req.query["FriendlyName"])
        filters["FriendlyName"] = req.query["FriendlyName"]
    if "Status" in req.query:
        status = req.query["Status"]
        if status not in STATUSES:
            raise bad_request(f"Status must be one of {', '.join(STATUSES)}")
        where += " AND status = ?"
        params.append(status)
        filters["Status"] = status
    sl = req.store.page("accounts", where, params, pg.size, pg.token)
    items = [account_json(row, _token(req, row)) for row in sl.rows]
    return Response(200, list_2010(req, "accounts", items, pg, sl, filters))


def create_account(req: Request) -> Response:
    _deny_standard_key(req)
    form = req.form()
    me = _visible(req, req.account_sid)
    if me["owner_sid"] != me["sid"]:
        raise ApiError(401, AUTHENTICATE, "Subaccounts cannot create subaccounts")
    now = req.store.now()
    name = _friendly_name(
        form.get("FriendlyName")
        or "SubAccount Created at " + time.strftime("%Y-%m-%d %I:%M %p", time.gmtime(now)).lower()
    )
    with req.store.lock:
        (count,) = req.store.one(
            "SELECT COUNT(*) FROM accounts WHERE owner_sid = ? AND sid != ?",
            (req.account_sid, req.account_sid),
        ) or (0,)
        if count >= req.settings.subaccount_limit:
            raise ApiError(
                400,
                SUBACCOUNT_LIMIT,
                f"Subaccount limit reached: this account may have {req.settings.subaccount_limit}",
            )
        sid = create_account_row(req.store, req.account_sid, name, now)
    row = req.store.one("SELECT * FROM accounts WHERE sid = ?", (sid,))
    assert row is not None
    return Response(201, account_json(row, _token(req, row)))


def fetch_account(req: Request) -> Response:
    _deny_standard_key(req)
    row = _visible(req, req.params["Sid"])
    return Response(200, account_json(row, _token(req, row)))


def update_account(req: Request) -> Response:
    _deny_standard_key(req)
    form = req.form()
    row = _visible(req, req.params["Sid"])
    name = row["friendly_name"]
    status = row["status"]
    if "FriendlyName" in form:
        name = _friendly_name(form["FriendlyName"])
    if "Status" in form and form["Status"] != status:
        status = form["Status"]
        if status not in STATUSES:
            raise bad_request(f"Status must be one of {', '.join(STATUSES)}")
        if row["sid"] == row["owner_sid"]:
            raise bad_request("The main account cannot be suspended or closed")
        if row["owner_sid"] != req.account_sid:
            raise ApiError(401, AUTHENTICATE, "Only the owner may change a subaccount's status")
        if row["status"] == "closed":
            raise bad_request("A closed account cannot be reopened")
    now = req.store.now()
    with req.store.tx() as db:
        db.execute(
            "UPDATE accounts SET friendly_name = ?, status = ?, updated = ? WHERE sid = ?",
            (name, status, now, row["sid"]),
        )
    fresh = req.store.one("SELECT * FROM accounts WHERE sid = ?", (row["sid"],))
    assert fresh is not None
    return Response(200, account_json(fresh, _token(req, fresh)))
