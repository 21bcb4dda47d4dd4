"""The emulator's state: one SQLite database (a file, or memory) behind one lock.

Every read goes to the database, so two processes sharing a file (a served emulator and
a script approving templates) see each other's writes. Values derived from it may be
kept (`remembered`) only while its `version` stays the same: that version moves when
another connection (another Store, another process) commits, and when this one does.
Times are seconds on the emulated clock: the wall clock plus an offset kept in the
database (`advance`).
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from wa_sync.emulator.errors import bad_request

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT UNIQUE NOT NULL,
    owner_sid TEXT NOT NULL,
    friendly_name TEXT NOT NULL,
    status TEXT NOT NULL,
    auth_token TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    sid TEXT PRIMARY KEY,
    account_sid TEXT NOT NULL,
    secret TEXT NOT NULL,
    main INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS contents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT UNIQUE NOT NULL,
    account_sid TEXT NOT NULL,
    friendly_name TEXT NOT NULL,
    language TEXT NOT NULL,
    variables TEXT NOT NULL,
    types TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    approval_status TEXT NOT NULL DEFAULT 'unsubmitted',
    approval_name TEXT NOT NULL DEFAULT '',
    approval_category TEXT NOT NULL DEFAULT '',
    rejection_reason TEXT NOT NULL DEFAULT '',
    submitted REAL,
    approve_at REAL
);
CREATE INDEX IF NOT EXISTS contents_account ON contents (account_sid, seq);
-- what admin.tick looks for on every request: only the few rows in a lifecycle
CREATE INDEX IF NOT EXISTS contents_due ON contents (approve_at)
    WHERE approval_status = 'received' AND approve_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS retired_names (
    account_sid TEXT NOT NULL,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    deleted REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS senders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT UNIQUE NOT NULL,
    account_sid TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    status TEXT NOT NULL,
    friendly_name TEXT,
    configuration TEXT NOT NULL,
    webhook TEXT NOT NULL,
    profile TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    online_at REAL
);
CREATE INDEX IF NOT EXISTS senders_account ON senders (account_sid, seq);
CREATE TABLE IF NOT EXISTS display_names (
    sender_sid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    changed REAL NOT NULL
);
-- the senders due to go ONLINE (CREATING or VERIFYING): admin.py's tick and next due
DROP INDEX IF EXISTS senders_due;
CREATE INDEX IF NOT EXISTS senders_going_online ON senders (online_at)
    WHERE online_at IS NOT NULL;
-- why an OFFLINE sender is offline (a control call's codes, a JSON list)
CREATE TABLE IF NOT EXISTS offline_reasons (
    sender_sid TEXT PRIMARY KEY,
    reasons TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_services (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT UNIQUE NOT NULL,
    account_sid TEXT NOT NULL,
    friendly_name TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_documents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT UNIQUE NOT NULL,
    service_sid TEXT NOT NULL,
    account_sid TEXT NOT NULL,
    unique_name TEXT,
    data TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    expires REAL,
    UNIQUE (service_sid, unique_name)
);
"""

RESET_TABLES = (
    "api_keys",
    "contents",
    "retired_names",
    "senders",
    "display_names",
    "offline_reasons",
    "sync_services",
    "sync_documents",
)

_TOKEN = re.compile(r"^P([AB])([0-9]{1,18})$")
# Values kept per database version: about three per subaccount (its credentials and its
# two listings) in a plan; past this, forget them all rather than grow without bound.
MEMO_LIMIT = 8192

T = TypeVar("T")


def new_sid(prefix: str) -> str:
    """A Twilio SID: two letters and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def new_secret() -> str:
    return secrets.token_hex(16)


@dataclass
class Slice:
    """One page of rows, with the tokens of its neighbours (None at either end)."""

    rows: list[sqlite3.Row]
    next_token: str | None
    previous_token: str | None


class StateError(Exception):
    """The state file cannot be the emulator's database (a directory, another kind of
    file, a directory that does not exist); the message is SQLite's."""


class Store:
    def __init__(self, path: str | None = None) -> None:
        self.path = path or ":memory:"
        self.lock = threading.RLock()
        self._writes = 0  # this connection's commits: SQLite's data_version counts the others'
        self._memo: dict[Hashable, Any] = {}
        self._memo_version: tuple[int, int] | None = None
        self._pinned = threading.local()  # data_version read at the start of a request
        self._db = self._open(path)

    def _open(self, path: str | None) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
        except sqlite3.Error as exc:  # "unable to open database file"
            raise StateError(str(exc)) from exc
        db.row_factory = sqlite3.Row
        try:
            with self.lock:
                if path:
                    db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA busy_timeout=30000")
                db.executescript(SCHEMA)
        except sqlite3.Error as exc:  # "file is not a database"
            db.close()
            raise StateError(str(exc)) from exc
        return db

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; rolled back when the block raises."""
        with self.lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            finally:  # counted even when rolled back: a needless recomputation is harmless
                self._writes += 1

    def version(self) -> tuple[int, int]:
        """Changes whenever the data may have: SQLite's `data_version` moves when another
        connection commits to the file, the second number when this one does."""
        by_others = getattr(self._pinned, "data_version", None)
        if by_others is None:
            by_others = self._data_version()
        return by_others, self._writes

    @contextmanager
    def one_version(self) -> Iterator[None]:
        """A block (one request) in which `version` asks SQLite only once, at the start:
        another connection's commit after that is seen by the next block. Values computed
        in the block come from data at least that new, so they are never kept too long."""
        self._pinned.data_version = self._data_version()
        try:
            yield
        finally:
            del self._pinned.data_version

    def _data_version(self) -> int:
        with self.lock:
            (by_others,) = self._db.execute("PRAGMA data_version").fetchone()
            return int(by_others)

    def remembered(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`'s value, kept under `key` until the database's version changes.

        `compute` must read only the database (never the clock) and must not write."""
        with self.lock:
            version = self.version()
            if version != self._memo_version or len(self._memo) >= MEMO_LIMIT:
                self._memo = {}
                self._memo_version = version
            if key in self._memo:
                return self._memo[key]  # type: ignore[no-any-return]
            value = self._memo[key] = compute()
            return value

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self._db.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self.lock:
            return self._db.execute(sql, params).fetchone()

    # -- meta and clock -------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.tx() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def now(self) -> float:
        """Seconds since the epoch on the emulated clock (whole seconds, as Twilio shows)."""
        offset = self.remembered("clock_offset", lambda: float(self.meta("clock_offset") or 0.0))
        return float(int(time.time() + offset))

    def advance(self, seconds: float) -> None:
        with self.tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'clock_offset'").fetchone()
            offset = float(row["value"]) if row else 0.0
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('clock_offset', ?)",
                (repr(offset + float(seconds)),),
            )

    def clear(self, keep_account: str) -> None:
        """Everything but one account (the parent) goes; the clock starts again."""
        with self.tx() as db:
            for table in RESET_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            db.execute("DELETE FROM accounts WHERE sid != ?", (keep_account,))
            db.execute("DELETE FROM meta WHERE key IN ('clock_offset', 'verification_code')")

    # -- pagination -------------------------------------------------------------

    def page(
        self, table: str, where: str, params: Sequence[Any], size: int, token: str | None
    ) -> Slice:
        """Keyset pagination over `seq`: PA<seq> = rows after seq, PB<seq> = rows before it."""
        base = f"SELECT * FROM {table} WHERE {where}"  # noqa: S608 - callers pass fixed SQL
        with self.lock:
            if token is None:  # the first page: one more row tells whether there is a next
                rows = self._db.execute(
                    f"{base} ORDER BY seq ASC LIMIT ?", (*params, size + 1)
                ).fetchall()
                if len(rows) <= size:
                    return Slice(rows, None, None)
                rows = rows[:size]
                return Slice(rows, f"PA{rows[-1]['seq']}", None)
            match = _TOKEN.match(token)
            if not match:
                raise bad_request(f"Invalid PageToken: {token}")
            direction, seq = match.group(1), int(match.group(2))
            if direction == "A":
                rows = self._db.execute(
                    f"{base} AND seq > ? ORDER BY seq ASC LIMIT ?", (*params, seq, size)
                ).fetchall()
            else:
                rows = self._db.execute(
                    f"{base} AND seq < ? ORDER BY seq DESC LIMIT ?", (*params, seq, size)
                ).fetchall()
                rows.reverse()
            if not rows:
                return Slice([], None, _before(token))
            first, last = rows[0]["seq"], rows[-1]["seq"]
            more = self._db.execute(f"{base} AND seq > ? LIMIT 1", (*params, last)).fetchone()
            less = self._db.execute(f"{base} AND seq < ? LIMIT 1", (*params, first)).fetchone()
        return Slice(
            rows,
            f"PA{last}" if more else None,
            f"PB{first}" if less else None,
        )


def _before(token: str) -> str | None:
    """An empty page reached by a token still leads back to where it came from."""
    match = _TOKEN.match(token)
    if match and match.group(1) == "A":
        return f"PB{int(match.group(2)) + 1}"
    return None
