"""Per-account rate limits by endpoint class (SPEC §6): off by default, Twilio's
published Content API figures or others when asked (constructor, control API, CLI),
429 with Twilio's error body and a Retry-After past them, nothing done."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import assert_error, raw
from tests.emulator.test_command import serve  # noqa: F401 (fixture)
from wa_sync.emulator import EmulatorControl
from wa_sync.emulator.ratelimit import PUBLISHED


def body(n: int) -> dict:
    return {"friendly_name": f"x{n}", "language": "en", "types": {"twilio/text": {"body": "Hi"}}}


def burst(emu, auth, count: int, method: str = "GET", path: str = "/v1/ContentAndApprovals"):
    sent = ({"json": body(n)} if method == "POST" else {} for n in range(count))
    return [raw(emu.url, method, path, auth, **kw) for kw in sent]


def test_no_limits_unless_asked(emu, sub):
    auth = (sub.username, sub.password)
    assert {r.status_code for r in burst(emu, auth, 30)} == {200}


def test_past_a_classes_limit_the_answer_is_429_with_retry_after(make_emulator, client_for):
    emu = make_emulator(rate_limits={"list": 3, "create": 2})
    parent = client_for(emu.parent_sid, emu.parent_token, on=emu)
    one = parent.api.v2010.accounts.create(friendly_name="wa-sync:one")
    two = parent.api.v2010.accounts.create(friendly_name="wa-sync:two")
    lists = burst(emu, (one.sid, one.auth_token), 5)
    assert [r.status_code for r in lists] == [200, 200, 200, 429, 429]
    assert_error(lists[3], 429, 20429)
    assert lists[3].headers["Retry-After"] == "1"
    creates = burst(emu, (one.sid, one.auth_token), 3, "POST", "/v1/Content")
    assert [r.status_code for r in creates] == [201, 201, 429]  # its own class, its own budget
    assert len(emu.state()["contents"][one.sid]) == 2  # the refused one was not made
    # another account has its own budget; the 2010 API and Senders have no published limit
    assert burst(emu, (two.sid, two.auth_token), 1)[0].status_code == 200
    accounts = burst(emu, (emu.parent_sid, emu.parent_token), 10, path="/2010-04-01/Accounts.json")
    assert {r.status_code for r in accounts} == {200}
    assert [e["status"] for e in emu.request_log()].count(429) == 3


def test_the_control_api_turns_them_on_and_off(emu, sub):
    control = EmulatorControl(emu.url)
    control.set_rate_limits({"list": 1})
    assert raw(emu.url, "GET", "/__emulator/rate-limits", None).json() == {"list": 1.0}
    auth = (sub.username, sub.password)
    assert [r.status_code for r in burst(emu, auth, 2)] == [200, 429]
    control.set_rate_limits(None)
    assert {r.status_code for r in burst(emu, auth, 5)} == {200}
    with pytest.raises(ValueError, match="unknown endpoint class 'lists'"):
        control.set_rate_limits({"lists": 1})


def test_the_command_enforces_the_published_limits_when_asked(serve):  # noqa: F811
    served = serve("--rate-limits")
    assert "rate limits per account, requests a second: list 20, fetch 100" in served.text
    assert raw(served.url, "GET", "/__emulator/rate-limits", None).json() == PUBLISHED
    served = serve("--rate-limits", "list=5,create=50")
    limits = raw(served.url, "GET", "/__emulator/rate-limits", None).json()
    assert limits == {**PUBLISHED, "list": 5.0, "create": 50.0}
