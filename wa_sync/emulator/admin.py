"""What tests and demos do to the emulator's state directly: lifecycles, seeds, a snapshot."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from wa_sync.emulator.accounts import MAX_FRIENDLY_NAME, create_account_row
from wa_sync.emulator.content import CATEGORIES, approval_json
from wa_sync.emulator.senders import (
    CODE_KEY,
    DISPLAY_NAME_STATUSES,
    PROFILE,
    SECTIONS,
    STATUSES,
)
from wa_sync.emulator.store import Store, new_secret, new_sid


class UnknownObject(LookupError):
    """No content or sender with that SID."""


def tick(store: Store) -> None:
    """Move lifecycles that are due on the emulated clock: approvals, senders coming online."""
    now = store.now()
    due = store.remembered("next_due", lambda: _next_due(store))
    if due is None or due > now:
        return
    with store.tx() as db:
        db.execute(
            "UPDATE contents SET approval_status = 'approved', approve_at = NULL"
            " WHERE approval_status = 'received' AND approve_at IS NOT NULL AND approve_at <= ?",
            (now,),
        )
        db.execute(
            "UPDATE senders SET status = 'ONLINE', online_at = NULL, updated = ?"
            " WHERE status IN ('CREATING', 'VERIFYING') AND online_at IS NOT NULL"
            " AND online_at <= ?",
            (now, now),
        )
        # Sync Documents past their Ttl are gone (Twilio deletes them some time after)
        db.execute("DELETE FROM sync_documents WHERE expires IS NOT NULL AND expires <= ?", (now,))


def _next_due(store: Store) -> float | None:
    """When the next lifecycle step is due (None: none is waiting). Every request ticks:
    this is remembered until the database changes, only the clock is read each time."""
    row = store.one(
        "SELECT MIN(due) FROM (SELECT MIN(approve_at) AS due FROM contents"
        " WHERE approval_status = 'received' AND approve_at IS NOT NULL"
        " UNION ALL SELECT MIN(online_at) FROM senders"
        " WHERE status IN ('CREATING', 'VERIFYING') AND online_at IS NOT NULL"
        " UNION ALL SELECT MIN(expires) FROM sync_documents WHERE expires IS NOT NULL)"
    )
    return None if row is None or row[0] is None else float(row[0])


def set_approval(store: Store, content_sid: str, status: str, reason: str = "") -> None:
    """Decide a submission as WhatsApp would. An unsubmitted content cannot be decided."""
    with store.lock:
        row = store.one("SELECT approval_status FROM contents WHERE sid = ?", (content_sid,))
        if row is None:
            raise UnknownObject(f"no content {content_sid}")
        if row["approval_status"] == "unsubmitted":
            raise ValueError(f"content {content_sid} has not been submitted for approval")
        with store.tx() as db:
            db.execute(
                "UPDATE contents SET approval_status = ?, rejection_reason = ?, approve_at = NULL"
                " WHERE sid = ?",
                (status, reason, content_sid),
            )


def set_sender_status(
    store: Store, sender_sid: str, status: str, reasons: Sequence[str] = ()
) -> None:
    """Move a sender to `status`; OFFLINE with Twilio's error codes as its reasons
    (e.g. 63101, 63020; none: 30008, an unknown error)."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    if reasons and status != "OFFLINE":
        raise ValueError("only an OFFLINE sender has offline reasons")
    codes = [str(code) for code in reasons]
    if not all(code.isdigit() for code in codes):
        raise ValueError("offline reasons are Twilio error codes, e.g. 63101")
    with store.tx() as db:
        cursor = db.execute(
            "UPDATE senders SET status = ?, online_at = NULL, updated = ? WHERE sid = ?",
            (status, store.now(), sender_sid),
        )
        if cursor.rowcount == 0:
            raise UnknownObject(f"no sender {sender_sid}")
        db.execute("DELETE FROM offline_reasons WHERE sender_sid = ?", (sender_sid,))
        if codes:
            db.execute(
                "INSERT INTO offline_reasons (sender_sid, reasons) VALUES (?, ?)",
                (sender_sid, json.dumps(codes)),
            )


def set_verification_code(store: Store, code: str) -> None:
    """The one-time code the emulator expects from now on (DEFAULT_CODE until set)."""
    if not re.fullmatch(r"[0-9]{4,8}", code):
        raise ValueError("a verification code is 4 to 8 digits")
    store.set_meta(CODE_KEY, code)


def recategorise(store: Store, content_sid: str, category: str) -> None:
    """Meta changes an approved template's category (its `template_category_update`)."""
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
    with store.lock:
        row = store.one("SELECT approval_status FROM contents WHERE sid = ?", (content_sid,))
        if row is None:
            raise UnknownObject(f"no content {content_sid}")
        if row["approval_status"] != "approved":
            raise ValueError(f"content {content_sid} is not approved: Meta re-categorises only "
                             "approved templates")  # fmt: skip
        with store.tx() as db:
            db.execute(
                "UPDATE contents SET approval_category = ? WHERE sid = ?", (category, content_sid)
            )


def set_display_name_status(
    store: Store, sender_sid: str, status: str | None, name: str | None = None
) -> None:
    """Meta's review of a display-name change: `name` (default: the sender's current
    profile name) with `status` (PENDING_REVIEW, DECLINED...); None forgets the change.
    APPROVED puts the name in service (`profile.name`)."""
    if status is not None and status not in DISPLAY_NAME_STATUSES:
        raise ValueError(f"status must be one of {', '.join(DISPLAY_NAME_STATUSES)}")
    with store.tx() as db:
        row = db.execute("SELECT profile FROM senders WHERE sid = ?", (sender_sid,)).fetchone()
        if row is None:
            raise UnknownObject(f"no sender {sender_sid}")
        profile = json.loads(row["profile"])
        name = name or profile.get("name") or ""
        db.execute("DELETE FROM display_names WHERE sender_sid = ?", (sender_sid,))
        if status is not None:
            db.execute(
                "INSERT INTO display_names (sender_sid, name, status, changed) VALUES (?, ?, ?, ?)",
                (sender_sid, name, status, store.now()),
            )
        if status == "APPROVED":
            db.execute(
                "UPDATE senders SET profile = ? WHERE sid = ?",
                (json.dumps({**profile, "name": name}), sender_sid),
            )


def create_api_key(store: Store, account_sid: str, *, main: bool) -> tuple[str, str]:
    if store.one("SELECT 1 FROM accounts WHERE sid = ?", (account_sid,)) is None:
        raise UnknownObject(f"no account {account_sid}")
    sid, secret = new_sid("SK"), new_secret()
    with store.tx() as db:
        db.execute(
            "INSERT INTO api_keys (sid, account_sid, secret, main, created) VALUES (?, ?, ?, ?, ?)",
            (sid, account_sid, secret, int(main), store.now()),
        )
    return sid, secret


def create_subaccount(store: Store, parent_sid: str, friendly_name: str) -> dict[str, Any]:
    if len(friendly_name) > MAX_FRIENDLY_NAME:
        raise ValueError(f"friendly_name must be at most {MAX_FRIENDLY_NAME} characters")
    sid = create_account_row(store, parent_sid, friendly_name, store.now())
    return _account(store, sid)


def _account(store: Store, sid: str) -> dict[str, Any]:
    row = store.one("SELECT * FROM accounts WHERE sid = ?", (sid,))
    assert row is not None
    return {
        "sid": row["sid"],
        "friendly_name": row["friendly_name"],
        "status": row["status"],
        "auth_token": row["auth_token"],
        "owner_account_sid": row["owner_sid"],
    }


def snapshot(store: Store, parent_sid: str) -> dict[str, Any]:
    """The whole state in plain data: subaccounts, and contents and senders per account."""
    tick(store)
    with store.lock:
        subs = store.query(
            "SELECT sid FROM accounts WHERE owner_sid = ? AND sid != ? ORDER BY seq",
            (parent_sid, parent_sid),
        )
        contents = store.query("SELECT * FROM contents ORDER BY seq")
        senders = store.query("SELECT * FROM senders ORDER BY seq")
        accounts = [_account(store, row["sid"]) for row in subs]
    per_account: dict[str, Any] = {parent_sid: [], **{a["sid"]: [] for a in accounts}}
    state: dict[str, Any] = {
        "accounts": accounts,
        "contents": {sid: [] for sid in per_account},
        "senders": {sid: [] for sid in per_account},
    }
    for row in contents:
        approval = approval_json(row)
        state["contents"].setdefault(row["account_sid"], []).append(
            {
                "sid": row["sid"],
                "friendly_name": row["friendly_name"],
                "language": row["language"],
                "types": json.loads(row["types"]),
                "variables": json.loads(row["variables"]),
                "approval": {
                    "status": approval["status"],
                    "name": row["approval_name"],
                    "category": row["approval_category"],
                    "rejection_reason": row["rejection_reason"],
                    "content_type": approval["content_type"],
                },
            }
        )
    for row in senders:
        sections = {name: json.loads(row[name]) for name in SECTIONS}
        state["senders"].setdefault(row["account_sid"], []).append(
            {
                "sid": row["sid"],
                "sender_id": row["sender_id"],
                "status": row["status"],
                "friendly_name": row["friendly_name"],
                "profile": {key: sections["profile"].get(key) for key in PROFILE},
                "webhook": sections["webhook"],
                "configuration": sections["configuration"],
            }
        )
    return state
