"""2010 Accounts API: envelopes, pagination, filters, updates, the subaccount limit."""

from __future__ import annotations

import email.utils

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from tests.emulator.helpers import assert_error, page_error, raw


def test_list_envelope_has_exactly_the_2010_keys_and_rfc2822_dates(emu, parent):
    parent.api.v2010.accounts.create(friendly_name="wa-sync:a")
    response = raw(
        emu.url,
        "GET",
        "/2010-04-01/Accounts.json",
        (emu.parent_sid, emu.parent_token),
        params={"FriendlyName": "wa-sync:a"},
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "accounts", "end", "first_page_uri", "next_page_uri", "page", "page_size",
        "previous_page_uri", "start", "uri",
    }  # fmt: skip
    assert body["uri"].startswith("/2010-04-01/Accounts.json?")
    assert "FriendlyName=wa-sync%3Aa" in body["uri"]
    (account,) = body["accounts"]
    assert email.utils.parsedate_to_datetime(account["date_created"]).tzinfo is not None
    assert account["date_created"].endswith(" +0000")
    assert account["uri"] == f"/2010-04-01/Accounts/{account['sid']}.json"
    assert account["type"] == "Full"


def test_sdk_pages_through_many_subaccounts(emu, parent):
    for n in range(7):
        parent.api.v2010.accounts.create(friendly_name=f"wa-sync:c{n}")
    emu.clear_request_log()
    listed = parent.api.v2010.accounts.list(page_size=3)
    assert [a.friendly_name for a in listed][1:] == [f"wa-sync:c{n}" for n in range(7)]
    assert emu.request_counts() == {"GET /2010-04-01/Accounts.json": 3}
    first = parent.api.v2010.accounts.page(page_size=3)
    first_sids = [a.sid for a in first]
    second = first.next_page()
    assert second is not None
    assert len(list(second)) == 3
    back = second.previous_page()
    assert [a.sid for a in back] == first_sids


def test_filters_by_friendly_name_and_status(parent):
    keep = parent.api.v2010.accounts.create(friendly_name="wa-sync:keep")
    gone = parent.api.v2010.accounts.create(friendly_name="wa-sync:gone")
    parent.api.v2010.accounts(gone.sid).update(status="closed")
    assert [a.sid for a in parent.api.v2010.accounts.list(friendly_name="wa-sync:keep")] == [
        keep.sid
    ]
    closed = parent.api.v2010.accounts.list(status="closed")
    assert [a.sid for a in closed] == [gone.sid]
    assert closed[0].status == "closed"


def test_update_rules(emu, parent):
    account = parent.api.v2010.accounts.create(friendly_name="wa-sync:x")
    renamed = parent.api.v2010.accounts(account.sid).update(friendly_name="wa-sync:y")
    assert renamed.friendly_name == "wa-sync:y"
    parent.api.v2010.accounts(account.sid).update(status="closed")
    with pytest.raises(TwilioRestException) as caught:
        parent.api.v2010.accounts(account.sid).update(status="active")
    assert caught.value.status == 400
    with pytest.raises(TwilioRestException) as caught:
        parent.api.v2010.accounts(emu.parent_sid).update(status="suspended")
    assert caught.value.status == 400
    with pytest.raises(TwilioRestException) as caught:
        parent.api.v2010.accounts.create(friendly_name="x" * 65)
    assert caught.value.status == 400


def test_create_without_a_name_gets_twilios_default(parent):
    account = parent.api.v2010.accounts.create()
    assert account.friendly_name.startswith("SubAccount Created at ")


def test_subaccount_limit_is_21480(make_emulator, client_for):
    emu = make_emulator(subaccount_limit=2)
    parent = client_for(emu.parent_sid, emu.parent_token, on=emu)
    for n in range(2):
        parent.api.v2010.accounts.create(friendly_name=f"n{n}")
    with pytest.raises(TwilioRestException) as caught:
        parent.api.v2010.accounts.create(friendly_name="n3")
    assert (caught.value.status, caught.value.code) == (400, 21480)
    assert "limit" in caught.value.msg.lower()
    assert len(emu.state()["accounts"]) == 2


def test_unknown_account_unknown_path_and_wrong_method(emu, parent):
    auth = (emu.parent_sid, emu.parent_token)
    with pytest.raises(TwilioRestException) as caught:
        parent.api.v2010.accounts("AC" + "0" * 32).fetch()
    assert (caught.value.status, caught.value.code) == (404, 20404)
    assert_error(raw(emu.url, "GET", "/2010-04-01/Nothing.json", auth), 404, 20404)
    assert_error(raw(emu.url, "DELETE", "/2010-04-01/Accounts.json", auth), 405, 20004)


def test_bad_paging_parameters_are_400(emu, parent):
    for params in ({"PageSize": "0"}, {"PageSize": "1001"}, {"PageSize": "x"}, {"Page": "2"},
                   {"PageToken": "garbage"}):  # fmt: skip
        response = raw(
            emu.url, "GET", "/2010-04-01/Accounts.json", (emu.parent_sid, emu.parent_token),
            params=params,
        )  # fmt: skip
        assert_error(response, 400, 20001)
    with pytest.raises(TwilioException) as caught:
        parent.api.v2010.accounts.list(page_size=1001)
    assert page_error(caught.value)[0] == 400


def test_json_bodies_are_refused_on_the_2010_api(emu):
    response = raw(
        emu.url, "POST", "/2010-04-01/Accounts.json", (emu.parent_sid, emu.parent_token),
        json={"FriendlyName": "x"},
    )  # fmt: skip
    assert_error(response, 400, 20001)
