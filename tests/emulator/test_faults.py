"""Injected faults: latency, 429 with Retry-After, 5xx, dropped connections, lost responses."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from tests.emulator.helpers import assert_error, make_content, raw


def test_latency_applies_to_the_chosen_methods_only(emu, parent):
    emu.set_faults(latency_ms=300, methods=["POST"])
    started = time.monotonic()
    parent.content.v1.contents.list()
    assert time.monotonic() - started < 0.25
    started = time.monotonic()
    make_content(parent, "slow")
    assert time.monotonic() - started >= 0.3
    emu.set_faults()
    started = time.monotonic()
    make_content(parent, "fast")
    assert time.monotonic() - started < 0.25


def test_latency_is_the_time_to_answer_with_the_work_done_first(emu, parent):
    """Latency models a remote API's response time: the emulator does the work at once
    and holds the answer back, so its own processing is inside the latency, not on top."""
    emu.set_faults(latency_ms=1500, methods=["POST"])
    answered = threading.Event()
    worker = threading.Thread(target=lambda: (make_content(parent, "held"), answered.set()))
    started = time.monotonic()
    worker.start()
    deadline = started + 1.2
    while time.monotonic() < deadline and not emu.state()["contents"][emu.parent_sid]:
        time.sleep(0.02)
    committed = [c["friendly_name"] for c in emu.state()["contents"][emu.parent_sid]]
    waiting = not answered.is_set()
    worker.join(timeout=10)
    assert committed == ["held"]  # the write is done before the answer is sent
    assert waiting  # ...and the answer waits for the latency
    assert time.monotonic() - started >= 1.5
    entry = emu.request_log()[-1]
    assert entry["finished"] - entry["started"] >= 1.5
    assert "answer_at" not in entry


def test_rate_limit_is_429_with_retry_after_and_does_nothing(emu, parent):
    emu.set_faults(rate_limit_rate=1.0, retry_after=7)
    response = raw(
        emu.url, "POST", "/2010-04-01/Accounts.json", parent.auth, data={"FriendlyName": "x"}
    )
    assert_error(response, 429, 20429)
    assert response.headers["Retry-After"] == "7"
    with pytest.raises(TwilioRestException) as caught:
        make_content(parent, "limited")
    assert caught.value.status == 429
    emu.set_faults()
    assert emu.state()["accounts"] == []
    assert emu.state()["contents"][emu.parent_sid] == []


def test_server_errors_at_a_rate(emu, parent):
    emu.set_faults(error_rate=1.0, error_status=503)
    assert_error(raw(emu.url, "GET", "/v1/Content", parent.auth), 503, 20503)
    emu.set_faults(error_rate=0.5)
    statuses = [raw(emu.url, "GET", "/v1/Content", parent.auth).status_code for _ in range(200)]
    assert 40 < statuses.count(500) < 160
    assert statuses.count(500) + statuses.count(200) == 200


def test_fault_rate_setting_is_a_5xx_rate(make_emulator):
    emu = make_emulator(fault_rate=1.0)
    response = raw(emu.url, "GET", "/v1/Content", (emu.parent_sid, emu.parent_token))
    assert_error(response, 500, 20500)


def test_dropped_connection_does_nothing(emu, parent):
    emu.set_faults(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        make_content(parent, "dropped")
    emu.set_faults()
    assert emu.state()["contents"][emu.parent_sid] == []
    assert emu.request_log()[-1]["status"] == 0


def test_commit_then_drop_writes_but_the_client_sees_a_dropped_connection(emu, parent):
    emu.fail_next("POST", r"^/v1/Content$", mode="commit_then_drop")
    with pytest.raises(requests.ConnectionError):
        make_content(parent, "lost_response")
    (content,) = emu.state()["contents"][emu.parent_sid]
    assert content["friendly_name"] == "lost_response"
    entry = emu.request_log()[-1]
    assert entry["started"] <= entry["finished"]
    assert {k: v for k, v in entry.items() if k not in ("started", "finished")} == {
        "method": "POST",
        "path": "/v1/Content",
        "template": "/v1/Content",
        "status": 0,
        "account_sid": emu.parent_sid,
    }
    # the rule was used up: the same request now succeeds (and meets the uniqueness rule)
    with pytest.raises(TwilioRestException) as caught:
        make_content(parent, "lost_response")
    assert caught.value.status == 409


def test_commit_then_error_writes_and_answers_an_error(emu, parent):
    emu.fail_next("POST", r"^/2010-04-01/Accounts\.json$", status=502, mode="commit_then_error")
    with pytest.raises(TwilioRestException) as caught:
        parent.api.v2010.accounts.create(friendly_name="wa-sync:half")
    assert (caught.value.status, caught.value.code) == (502, 20502)
    assert [a["friendly_name"] for a in emu.state()["accounts"]] == ["wa-sync:half"]


def test_fail_next_counts_and_matches_method_and_path(emu, parent):
    emu.fail_next("GET", r"^/v1/Content$", status=503, count=2)
    assert raw(emu.url, "POST", "/v1/Content", parent.auth, json={}).status_code == 400
    assert raw(emu.url, "GET", "/v1/ContentAndApprovals", parent.auth).status_code == 200
    assert raw(emu.url, "GET", "/v1/Content", parent.auth).status_code == 503
    assert raw(emu.url, "GET", "/v1/Content", parent.auth).status_code == 503
    assert raw(emu.url, "GET", "/v1/Content", parent.auth).status_code == 200
    emu.fail_next("*", r"/Accounts", mode="drop")
    with pytest.raises(requests.ConnectionError):
        parent.api.v2010.accounts.create(friendly_name="never")
    assert emu.state()["accounts"] == []


def test_fail_next_for_one_account_leaves_the_others_alone(emu, parent):
    sub = parent.api.v2010.accounts.create(friendly_name="wa-sync:one")
    emu.fail_next("GET", r"^/v1/ContentAndApprovals$", status=503, account=sub.sid)
    assert raw(emu.url, "GET", "/v1/ContentAndApprovals", parent.auth).status_code == 200
    sub_auth = (sub.sid, sub.auth_token)
    assert raw(emu.url, "GET", "/v1/ContentAndApprovals", sub_auth).status_code == 503
    assert raw(emu.url, "GET", "/v1/ContentAndApprovals", sub_auth).status_code == 200


def test_bad_fault_settings_are_refused(emu):
    with pytest.raises(ValueError):
        emu.set_faults(error_rate=1.5)
    with pytest.raises(ValueError):
        emu.set_faults(error_rate=0.6, rate_limit_rate=0.6)
    with pytest.raises(ValueError):
        emu.set_faults(error_status=404)
    with pytest.raises(ValueError):
        emu.fail_next("GET", ".*", mode="explode")
