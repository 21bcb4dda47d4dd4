"""The Tech Provider flow in the emulator (SPEC §6, issue #19.7): a number it does not
own waits for its one-time code; offline reasons; Meta's re-categorisation."""

from __future__ import annotations

from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.emulator.helpers import make_content, make_sender, submit
from tests.emulator.test_senders import update
from wa_sync.emulator import Emulator, EmulatorControl

OWN_NUMBER = "+493055500001"  # not one of the emulator's (+1) numbers


def status_of(client, sid: str) -> str:
    return client.messaging.v2.channels_senders(sid).fetch().status


def test_a_number_the_emulator_does_not_own_waits_for_the_right_code(make_emulator, client_for):
    emu = make_emulator(sender_online_after=30)
    client = client_for(emu.parent_sid, emu.parent_token, on=emu)
    sender = make_sender(client, phone=OWN_NUMBER)
    assert sender.status == "PENDING_VERIFICATION"
    emu.advance_clock(3600)
    assert status_of(client, sender.sid) == "PENDING_VERIFICATION"  # no code, no progress

    with pytest.raises(TwilioRestException) as wrong:
        update(client, sender.sid, {"configuration": {"verification_code": "654321"}})
    assert wrong.value.status == 400
    assert "not the code sent to whatsapp:+493055500001" in wrong.value.msg
    assert status_of(client, sender.sid) == "PENDING_VERIFICATION"

    answer = update(client, sender.sid, {"configuration": {"verification_code": "123456"}})
    assert answer.status == "VERIFYING"
    assert answer.configuration["verification_code"] is None  # never echoed
    emu.advance_clock(30)
    assert status_of(client, sender.sid) == "ONLINE"

    with pytest.raises(TwilioRestException) as again:  # nothing waits for a code now
        update(client, sender.sid, {"configuration": {"verification_code": "123456"}})
    assert "not waiting for a verification code" in again.value.msg


def test_the_expected_code_is_set_by_control_and_never_stored(tmp_path: Path, client_for):
    db = tmp_path / "emulator.db"
    with Emulator(db=str(db)) as emu:
        client = client_for(emu.parent_sid, emu.parent_token, on=emu)
        emu.set_verification_code("90817265")
        sender = make_sender(client, phone=OWN_NUMBER)
        with pytest.raises(TwilioRestException):
            update(client, sender.sid, {"configuration": {"verification_code": "123456"}})
        update(client, sender.sid, {"configuration": {"verification_code": "90817265"}})
        assert status_of(client, sender.sid) == "ONLINE"
        (stored,) = emu.state()["senders"][emu.parent_sid]
        assert "verification_code" not in stored["configuration"]
        with pytest.raises(ValueError, match="4 to 8 digits"):
            emu.set_verification_code("abc")
    # the expected code is the emulator's own setting; the code a client sent is nowhere
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert raw.count(b"90817265") == 1  # the meta row of the expected code
    emu_again = Emulator(db=str(db))
    try:
        emu_again.reset()
        assert emu_again.store.meta("verification_code") is None  # reset: the default again
    finally:
        emu_again.close()


def test_a_number_the_emulator_owns_goes_online_without_a_code(emu, sub):
    sender = make_sender(sub, phone="+14155550100")
    assert sender.status in ("CREATING", "ONLINE")
    assert status_of(sub, sender.sid) == "ONLINE"


def test_offline_with_reasons(emu, sub):
    sender = make_sender(sub)
    emu.set_sender_status(sender.sid, "OFFLINE", ["63101", "63020"])
    fetched = sub.messaging.v2.channels_senders(sender.sid).fetch()
    assert fetched.status == "OFFLINE"
    assert [r["code"] for r in fetched.offline_reasons] == ["63101", "63020"]
    assert "not shared with Twilio" in fetched.offline_reasons[0]["message"]
    assert fetched.offline_reasons[1]["more_info"] == "https://www.twilio.com/docs/errors/63020"
    emu.set_sender_status(sender.sid, "ONLINE")
    assert sub.messaging.v2.channels_senders(sender.sid).fetch().offline_reasons is None
    with pytest.raises(ValueError, match="only an OFFLINE sender"):
        emu.set_sender_status(sender.sid, "ONLINE", ["63101"])


def test_recategorise_an_approved_template(emu, sub):
    content = make_content(sub, "order_update")
    with pytest.raises(ValueError, match="not approved"):
        emu.recategorise(content.sid, "MARKETING")
    submit(sub, content.sid, "order_update", "UTILITY")
    emu.approve(content.sid)
    emu.recategorise(content.sid, "MARKETING")
    whatsapp = sub.content.v1.contents(content.sid).approval_fetch().fetch().whatsapp
    assert (whatsapp["status"], whatsapp["category"]) == ("approved", "MARKETING")
    with pytest.raises(ValueError, match="category must be one of"):
        emu.recategorise(content.sid, "PROMOTIONAL")


def test_the_control_api_drives_the_same_operations(emu, sub):
    control = EmulatorControl(emu.url)
    sender = make_sender(sub, phone=OWN_NUMBER)
    control.set_verification_code("1111")
    update(sub, sender.sid, {"configuration": {"verification_code": "1111"}})
    control.set_sender_status(sender.sid, "OFFLINE", ["63020"])
    assert sub.messaging.v2.channels_senders(sender.sid).fetch().offline_reasons[0]["code"] == (
        "63020"
    )
    content = make_content(sub, "order_update")
    submit(sub, content.sid, "order_update", "UTILITY")
    control.approve(content.sid)
    control.recategorise(content.sid, "MARKETING")
    whatsapp = sub.content.v1.contents(content.sid).approval_fetch().fetch().whatsapp
    assert whatsapp["category"] == "MARKETING"
    with pytest.raises(ValueError, match="4 to 8 digits"):
        control.set_verification_code("12")
