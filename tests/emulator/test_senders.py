"""Senders API: 202s, the Channel filter, the CREATING -> ONLINE lifecycle, merges, deletes."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

from tests.emulator.helpers import assert_error, make_sender, raw


def update(client, sid, body):
    request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsUpdate(body)
    return client.messaging.v2.channels_senders(sid).update(request)


def test_create_is_202_creating_then_online_after_the_delay(make_emulator, client_for):
    emu = make_emulator(sender_online_after=60)
    client = client_for(emu.parent_sid, emu.parent_token, on=emu)
    sender = make_sender(client)
    assert sender.status == "CREATING"
    assert sender.sender_id == "whatsapp:+14155550100"
    assert [e["status"] for e in emu.request_log()] == [202]
    assert client.messaging.v2.channels_senders(sender.sid).fetch().status == "CREATING"
    emu.advance_clock(60)
    online = client.messaging.v2.channels_senders(sender.sid).fetch()
    assert online.status == "ONLINE"
    assert online.properties["quality_rating"] == "HIGH"
    assert emu.state()["senders"][emu.parent_sid][0]["status"] == "ONLINE"


def test_status_set_by_command(emu, sub):
    sender = make_sender(sub)
    emu.set_sender_status(sender.sid, "OFFLINE")
    fetched = sub.messaging.v2.channels_senders(sender.sid).fetch()
    assert fetched.status == "OFFLINE"
    assert fetched.offline_reasons[0]["code"] == "30008"
    with pytest.raises(ValueError):
        emu.set_sender_status(sender.sid, "SLEEPING")
    with pytest.raises(LookupError):
        emu.set_sender_status("XE" + "0" * 32, "ONLINE")


def test_display_name_review_set_by_command(emu, sub):
    sender = make_sender(sub)
    assert sender.pending_display_name_status is None  # no change made: the fields are absent
    emu.set_display_name_status(sender.sid, "DECLINED", name="Acme Dental Best Deals")
    fetched = sub.messaging.v2.channels_senders(sender.sid).fetch()
    assert fetched.pending_display_name == "Acme Dental Best Deals"
    assert fetched.pending_display_name_status == "DECLINED"
    assert fetched.pending_display_name_status_date is not None
    assert fetched.profile["name"] == "Acme Dental"  # the active name stays
    emu.set_display_name_status(sender.sid, "PENDING_REVIEW")
    assert sub.messaging.v2.channels_senders(sender.sid).fetch().pending_display_name == (
        "Acme Dental"
    )
    emu.set_display_name_status(sender.sid, None)
    assert sub.messaging.v2.channels_senders(sender.sid).fetch().pending_display_name is None
    with pytest.raises(ValueError):
        emu.set_display_name_status(sender.sid, "REJECTED")
    with pytest.raises(LookupError):
        emu.set_display_name_status("XE" + "0" * 32, "DECLINED")


def test_response_has_every_profile_key(emu, sub):
    sender = make_sender(sub, vertical="Medical and Health")
    assert sender.profile["name"] == "Acme Dental"
    assert sender.profile["vertical"] == "Medical and Health"
    assert sender.profile["logo_url"] is None
    assert sender.webhook["callback_url"] == "https://hooks.example/wa"
    assert sender.configuration["waba_id"] == "104000000000001"
    assert sender.url == f"{emu.url}/v2/Channels/Senders/{sender.sid}"


def test_update_merges_sections_and_returns_202(emu, sub):
    sender = make_sender(sub, emails=[{"email": "hi@acme.example", "label": "Email"}])
    updated = update(sub, sender.sid, {"profile": {"about": "Gentle dentistry", "address": ""}})
    assert updated.profile["about"] == "Gentle dentistry"
    assert updated.profile["name"] == "Acme Dental"
    assert updated.profile["emails"] == [{"email": "hi@acme.example", "label": "Email"}]
    assert updated.webhook["callback_url"] == "https://hooks.example/wa"
    assert [e["status"] for e in emu.request_log()][-1] == 202
    assert emu.state()["senders"][sub.account_sid][0]["profile"]["about"] == "Gentle dentistry"


def test_list_filters_by_channel_and_pages(emu, sub):
    made = [make_sender(sub, f"+1415555{n:04d}").sid for n in range(5)]
    emu.clear_request_log()
    listed = sub.messaging.v2.channels_senders.list(channel="whatsapp", page_size=2)
    assert [s.sid for s in listed] == made
    assert emu.request_counts() == {"GET /v2/Channels/Senders": 3}
    assert sub.messaging.v2.channels_senders.list(channel="rcs") == []
    body = raw(emu.url, "GET", "/v2/Channels/Senders", sub.auth,
               params={"Channel": "whatsapp", "PageSize": 2}).json()  # fmt: skip
    assert body["meta"]["key"] == "senders"
    assert "Channel=whatsapp" in body["meta"]["next_page_url"]
    with pytest.raises(TwilioException):
        sub.messaging.v2.channels_senders.list()
    assert_error(raw(emu.url, "GET", "/v2/Channels/Senders", sub.auth), 400, 20001)


def test_delete_is_204(emu, sub):
    sender = make_sender(sub)
    assert sub.messaging.v2.channels_senders(sender.sid).delete() is True
    assert sub.messaging.v2.channels_senders.list(channel="whatsapp") == []
    with pytest.raises(TwilioRestException) as caught:
        sub.messaging.v2.channels_senders(sender.sid).fetch()
    assert caught.value.status == 404


def test_a_number_registers_once(emu, sub, parent):
    make_sender(sub)
    for client in (sub, parent):
        with pytest.raises(TwilioRestException) as caught:
            make_sender(client)
        assert (caught.value.status, caught.value.code) == (409, 20409)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"sender_id": "+14155550100"}, "sender_id"),
        ({"sender_id": "whatsapp:+14155550100", "profile": {"name": "A"}}, "waba_id"),
        ({"sender_id": "whatsapp:+14155550100", "configuration": {"waba_id": "1"}}, "profile.name"),
        ({"sender_id": "whatsapp:+14155550100", "configuration": {"waba_id": "1"},
          "profile": {"name": "A", "vertical": "Dentistry"}}, "vertical"),
        ({"sender_id": "whatsapp:+14155550100", "configuration": {"waba_id": "1"},
          "profile": {"name": "A", "about": "x" * 140}}, "about"),
        ({"sender_id": "whatsapp:+14155550100", "configuration": {"waba_id": "1"},
          "profile": {"name": "A", "websites": ["https://a.example"]}}, "websites"),
        ({"sender_id": "whatsapp:+14155550100", "configuration": {"waba_id": "1"},
          "profile": {"name": "A", "emails": [{"email": "a@b.example"}]}}, "emails"),
        ({"sender_id": "whatsapp:+14155550100", "configuration": {"waba_id": "1"},
          "profile": {"name": "A"}, "webhook": {"callback_method": "GET"}}, "callback_method"),
    ],
)  # fmt: skip
def test_invalid_sender_is_400(emu, sub, body, fragment):
    response = raw(emu.url, "POST", "/v2/Channels/Senders", sub.auth, json=body)
    assert fragment in assert_error(response, 400, 20001)["message"]
