"""What the emulator keeps between requests (answers to GETs, credentials, the clock's
offset, the next lifecycle step) is forgotten as soon as the database changes: through
this emulator, another Store on the same file, or another process."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any

import pytest

from wa_sync.emulator import admin
from wa_sync.emulator import store as store_module
from wa_sync.emulator.app import App
from wa_sync.emulator.store import Store

CONTENT = {"friendly_name": "hello", "language": "en", "variables": {"1": "Maria"},
           "types": {"twilio/text": {"body": "Hi {{1}}"}}}  # fmt: skip
SENDER = {"sender_id": "whatsapp:+14155550100", "configuration": {"waba_id": "104000000000001"},
          "profile": {"name": "Acme Dental"}}  # fmt: skip
LIST_CONTENTS = "/v1/ContentAndApprovals?PageSize=50"
LIST_SENDERS = "/v2/Channels/Senders?Channel=whatsapp&PageSize=50"


class Caller:
    """Requests to an App as one subaccount, the way the HTTP layer hands them over."""

    def __init__(self, app: App, sid: str, token: str) -> None:
        self.app = app
        self.auth = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()

    def call(self, method: str, target: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": self.auth, "Host": "content.twilio.com"}
        data = b""
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        outcome = self.app.handle(method, target, headers, data)
        return outcome.status, json.loads(outcome.body) if outcome.body else None

    def get(self, target: str) -> Any:
        status, body = self.call("GET", target)
        assert status == 200, body
        return body


def _app(db: Path, **settings: Any) -> tuple[App, Caller]:
    app = App(db=str(db), **settings)
    account = app.create_subaccount("wa-sync:cached")
    return app, Caller(app, account["sid"], account["auth_token"])


def _statuses(caller: Caller) -> list[str]:
    return [c["approval_requests"]["status"] for c in caller.get(LIST_CONTENTS)["contents"]]


def _submitted(caller: Caller) -> str:
    status, content = caller.call("POST", "/v1/Content", CONTENT)
    assert status == 201
    submit = {"name": "hello", "category": "UTILITY"}
    status, _ = caller.call(
        "POST", f"/v1/Content/{content['sid']}/ApprovalRequests/whatsapp", submit
    )
    assert status == 201
    return str(content["sid"])


@pytest.fixture
def received(tmp_path):
    """An emulator on a database file, with one content submitted (and read once as
    "received", so that its answer is kept): (db, app, caller, the content's sid)."""
    db = tmp_path / "e.db"
    app, caller = _app(db)
    sid = _submitted(caller)
    assert _statuses(caller) == ["received"]
    yield db, app, caller, sid
    app.close()


def test_the_same_get_gets_the_same_answer(tmp_path):
    app, caller = _app(tmp_path / "e.db")
    _submitted(caller)
    first = app.handle("GET", LIST_CONTENTS, {"Authorization": caller.auth, "Host": "h"}, b"")
    second = app.handle("GET", LIST_CONTENTS, {"Authorization": caller.auth, "Host": "h"}, b"")
    assert (second.status, second.body, second.headers) == (first.status, first.body, first.headers)
    other_host = app.handle("GET", LIST_CONTENTS, {"Authorization": caller.auth, "Host": "x"}, b"")
    assert b"http://x/v1/ContentAndApprovals" in other_host.body
    app.close()


def test_own_writes_are_seen_by_the_next_get(tmp_path):
    app, caller = _app(tmp_path / "e.db")
    assert caller.get(LIST_CONTENTS)["contents"] == []
    sid = _submitted(caller)
    assert _statuses(caller) == ["received"]
    app.approve(sid)
    assert _statuses(caller) == ["approved"]
    assert caller.call("DELETE", f"/v1/Content/{sid}")[0] == 204
    assert caller.get(LIST_CONTENTS)["contents"] == []
    app.close()


def test_a_write_through_another_store_on_the_file_is_seen_by_the_next_get(received):
    db, _, caller, sid = received
    other = Store(str(db))
    admin.set_approval(other, sid, "rejected", "INVALID_FORMAT")
    assert _statuses(caller) == ["rejected"]
    caller.call("POST", "/v2/Channels/Senders", SENDER)
    assert [s["status"] for s in caller.get(LIST_SENDERS)["senders"]] == ["ONLINE"]
    with other.tx() as conn:
        conn.execute("UPDATE senders SET status = 'OFFLINE'")
    assert [s["status"] for s in caller.get(LIST_SENDERS)["senders"]] == ["OFFLINE"]
    other.close()


def test_a_write_from_another_process_is_seen_by_the_next_get(received):
    db, _, caller, sid = received
    script = (
        "import sys; from wa_sync.emulator import admin; from wa_sync.emulator.store import Store;"
        "admin.set_approval(Store(sys.argv[1]), sys.argv[2], 'approved')"
    )
    subprocess.run([sys.executable, "-c", script, str(db), sid], check=True)
    assert _statuses(caller) == ["approved"]


def test_credentials_are_checked_again_after_a_change_elsewhere(tmp_path):
    db = tmp_path / "e.db"
    app, caller = _app(db)
    assert caller.call("GET", LIST_CONTENTS)[0] == 200
    other = Store(str(db))
    with other.tx() as conn:
        conn.execute("UPDATE accounts SET status = 'suspended' WHERE auth_token IS NOT NULL")
    status, body = caller.call("GET", LIST_CONTENTS)
    assert (status, body["code"]) == (401, 20005)
    other.close()
    app.close()


def test_the_clock_moved_by_another_store_makes_approvals_due(tmp_path):
    db = tmp_path / "e.db"
    app, caller = _app(db, approve_after=3600, sender_online_after=60)
    _submitted(caller)
    caller.call("POST", "/v2/Channels/Senders", SENDER)
    assert _statuses(caller) == ["received"]
    assert [s["status"] for s in caller.get(LIST_SENDERS)["senders"]] == ["CREATING"]
    other = Store(str(db))
    other.advance(60)
    assert [s["status"] for s in caller.get(LIST_SENDERS)["senders"]] == ["ONLINE"]
    assert _statuses(caller) == ["received"]
    other.advance(3540)
    assert _statuses(caller) == ["approved"]
    other.close()
    app.close()


def test_time_passing_without_any_write_makes_approvals_due(tmp_path, monkeypatch):
    clock = [1_800_000_000.0]
    monkeypatch.setattr(store_module, "time", types.SimpleNamespace(time=lambda: clock[0]))
    app, caller = _app(tmp_path / "e.db", approve_after=3600, sender_online_after=60)
    _submitted(caller)
    caller.call("POST", "/v2/Channels/Senders", SENDER)
    assert _statuses(caller) == ["received"]
    clock[0] += 60
    assert [s["status"] for s in caller.get(LIST_SENDERS)["senders"]] == ["ONLINE"]
    assert _statuses(caller) == ["received"]
    clock[0] += 3540
    assert _statuses(caller) == ["approved"]
    app.close()


def test_remembered_values_are_forgotten_when_the_database_changes(tmp_path):
    db = str(tmp_path / "e.db")
    store, other = Store(db), Store(db)
    calls: list[int] = []

    def count() -> int:
        calls.append(1)
        return len(calls)

    assert store.remembered("k", count) == 1
    assert store.remembered("k", count) == 1
    other.set_meta("x", "1")  # another connection commits
    assert store.remembered("k", count) == 2
    store.set_meta("x", "2")  # this one does
    assert store.remembered("k", count) == 3
    with pytest.raises(RuntimeError), store.tx():
        raise RuntimeError("rolled back")
    assert store.remembered("k", count) == 4
    store.close()
    other.close()


def test_remembered_values_stay_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "MEMO_LIMIT", 3)
    store = Store(str(tmp_path / "e.db"))
    for key in range(10):
        store.remembered(key, lambda: 0)
    assert len(store._memo) <= 3
    store.close()


def test_one_version_asks_sqlite_once_per_block_and_counts_own_writes_at_once(tmp_path):
    db = str(tmp_path / "e.db")
    store, other = Store(db), Store(db)
    with store.one_version():
        pinned = store.version()
        other.set_meta("x", "1")
        assert store.version() == pinned  # another connection's commit: the next block
        seen_by_another_thread: list[tuple[int, int]] = []
        thread = threading.Thread(target=lambda: seen_by_another_thread.append(store.version()))
        thread.start()
        thread.join()
        assert seen_by_another_thread[0] != pinned  # the pin is this thread's only
        store.set_meta("y", "1")
        assert store.version() != pinned  # this connection's own commit: at once
    after = store.version()
    with store.one_version():
        assert store.version() == after
    assert after[0] != pinned[0]
    store.close()
    other.close()
