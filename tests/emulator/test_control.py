"""The control API over HTTP (EmulatorControl), the request log, reset, and persistence."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import make_content, make_sender, raw, submit
from wa_sync.emulator import Emulator, EmulatorControl


def test_control_over_http_drives_the_same_state(emu, parent):
    control = EmulatorControl(emu.url)
    assert control.parent_sid == emu.parent_sid
    account = control.create_subaccount("wa-sync:seeded")
    assert account["auth_token"]
    content = make_content(parent, "ctl")
    submit(parent, content.sid, "ctl")
    control.reject(content.sid, reason="TAG_CONTENT_MISMATCH")
    approval = control.state()["contents"][emu.parent_sid][0]["approval"]
    assert approval == {
        "status": "rejected", "name": "ctl", "category": "UTILITY",
        "rejection_reason": "TAG_CONTENT_MISMATCH", "content_type": "twilio/text",
    }  # fmt: skip
    control.approve(content.sid)
    assert emu.state()["contents"][emu.parent_sid][0]["approval"]["status"] == "approved"
    sender = make_sender(parent)
    control.set_sender_status(sender.sid, "OFFLINE")
    assert emu.state()["senders"][emu.parent_sid][0]["status"] == "OFFLINE"
    control.set_display_name_status(sender.sid, "DECLINED", name="Cheapest Deals")
    fetched = parent.messaging.v2.channels_senders(sender.sid).fetch()
    assert (fetched.pending_display_name, fetched.pending_display_name_status) == (
        "Cheapest Deals",
        "DECLINED",
    )
    key_sid, secret = control.create_api_key(main=True)
    assert raw(emu.url, "GET", "/2010-04-01/Accounts.json", (key_sid, secret)).status_code == 200
    counts = control.request_counts()
    assert counts["POST /v1/Content"] == 1
    assert counts["GET /2010-04-01/Accounts.json"] == 1
    assert all("__emulator" not in e["path"] for e in control.request_log())
    control.clear_request_log()
    assert control.request_log() == []


def test_control_faults_and_clock(emu, parent):
    control = EmulatorControl(emu.url)
    control.set_faults(error_rate=1.0, error_status=500)
    assert raw(emu.url, "GET", "/v1/Content", parent.auth).status_code == 500
    assert control.state()["accounts"] == []  # control endpoints are never faulted
    control.set_faults()
    control.fail_next("GET", "^/v1/Content$", status=429)
    assert raw(emu.url, "GET", "/v1/Content", parent.auth).status_code == 429
    content = make_content(parent, "gone_soon")
    submit(parent, content.sid, "gone_soon")
    control.approve(content.sid)
    parent.content.v1.contents(content.sid).delete()
    control.advance_clock(31 * 86400)
    assert make_content(parent, "gone_soon").friendly_name == "gone_soon"


def test_control_errors(emu):
    control = EmulatorControl(emu.url)
    with pytest.raises(LookupError):
        control.approve("HX" + "0" * 32)
    with pytest.raises(ValueError):
        control.set_faults(error_rate=2.0)
    with pytest.raises(ValueError):
        control.advance_clock(-1)


def test_approving_an_unsubmitted_content_is_refused(emu, parent):
    content = make_content(parent, "draft")
    with pytest.raises(ValueError):
        emu.approve(content.sid)


def test_reset_keeps_only_the_parent(emu, parent):
    account = parent.api.v2010.accounts.create(friendly_name="wa-sync:x")
    make_content(parent, "x")
    emu.set_faults(error_rate=1.0)
    EmulatorControl(emu.url).reset()
    assert emu.state() == {
        "accounts": [],
        "contents": {emu.parent_sid: []},
        "senders": {emu.parent_sid: []},
    }
    assert emu.request_log() == []
    assert parent.api.v2010.accounts.list(friendly_name="wa-sync:x") == []
    assert (
        raw(emu.url, "GET", f"/2010-04-01/Accounts/{account.sid}.json", parent.auth).status_code
        == 404
    )


def test_state_survives_in_a_database_file(tmp_path, client_for):
    db = str(tmp_path / "emulator.db")
    with Emulator(db=db) as first:
        parent = client_for(first.parent_sid, first.parent_token, on=first)
        account = parent.api.v2010.accounts.create(friendly_name="wa-sync:kept")
        sub = client_for(account.sid, account.auth_token, on=first)
        content = make_content(sub, "kept")
        submit(sub, content.sid, "kept")
        first.advance_clock(100)
        before = first.state()
        creds = (first.parent_sid, first.parent_token)
    with Emulator(db=db) as second:
        assert (second.parent_sid, second.parent_token) == creds
        assert second.state() == before
        sub = client_for(account.sid, account.auth_token, on=second)
        assert [c.sid for c in sub.content.v1.contents.list()] == [content.sid]
        second.approve(content.sid)
    with Emulator(db=db) as third:
        assert third.state()["contents"][account.sid][0]["approval"]["status"] == "approved"


def test_a_parent_token_given_from_outside_is_never_written(tmp_path):
    db = tmp_path / "emulator.db"
    sid, token = "AC" + "ab" * 16, "f0" * 16
    with Emulator(db=str(db), parent_sid=sid, parent_token=token) as emu:
        emu.create_subaccount("wa-sync:x")
        assert raw(emu.url, "GET", "/v1/Content", (sid, token)).status_code == 200
    written = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert token.encode() not in written
    with pytest.raises(ValueError, match="same parent_token"):
        Emulator(db=str(db), parent_sid=sid)
    with pytest.raises(ValueError, match="belongs to parent"):
        Emulator(db=str(db), parent_sid="AC" + "cd" * 16, parent_token=token)
    with Emulator(db=str(db), parent_sid=sid, parent_token=token) as again:
        assert len(again.state()["accounts"]) == 1
