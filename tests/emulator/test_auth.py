"""HTTP Basic and scoping: parent, subaccounts, siblings, API keys, bad credentials."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from tests.emulator.helpers import assert_error, make_content, make_sender, page_error, raw


def test_bad_credentials_are_401_20003(emu, client_for):
    bad = client_for(emu.parent_sid, "0" * 32)
    with pytest.raises(TwilioException) as caught:
        bad.api.v2010.accounts.list()
    status, body = page_error(caught.value)
    assert (status, body["code"]) == (401, 20003)
    for auth in (None, ("ACnope", "x"), ("SK" + "0" * 32, "x"), ("nobody", "x")):
        response = raw(emu.url, "GET", "/v1/Content", auth)
        assert_error(response, 401, 20003)
        assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_parent_manages_subaccounts_and_sees_their_tokens(emu, parent):
    made = parent.api.v2010.accounts.create(friendly_name="wa-sync:acme")
    assert made.owner_account_sid == emu.parent_sid
    assert made.status == "active"
    fetched = parent.api.v2010.accounts(made.sid).fetch()
    assert fetched.auth_token == made.auth_token
    listed = {a.sid: a for a in parent.api.v2010.accounts.list()}
    assert listed[made.sid].auth_token == made.auth_token
    assert emu.parent_sid in listed  # the parent lists itself too, as Twilio does


def test_content_and_senders_act_on_the_authenticated_account_only(emu, parent, client_for):
    one = parent.api.v2010.accounts.create(friendly_name="one")
    two = parent.api.v2010.accounts.create(friendly_name="two")
    c1 = client_for(one.sid, one.auth_token)
    c2 = client_for(two.sid, two.auth_token)
    content = make_content(c1, "hello")
    sender = make_sender(c1)
    assert content.account_sid == one.sid
    # the sibling and the parent see nothing of it, and cannot reach it by SID
    for other in (c2, parent):
        assert other.content.v1.contents.list() == []
        assert other.messaging.v2.channels_senders.list(channel="whatsapp") == []
        with pytest.raises(TwilioRestException) as caught:
            other.content.v1.contents(content.sid).fetch()
        assert (caught.value.status, caught.value.code) == (404, 20404)
        with pytest.raises(TwilioRestException) as caught:
            other.messaging.v2.channels_senders(sender.sid).delete()
        assert caught.value.status == 404
    # the SDK's account_sid does not change who Content acts on (parent creds stay parent)
    assert client_for(emu.parent_sid, emu.parent_token, one.sid).content.v1.contents.list() == []
    assert [c.sid for c in c1.content.v1.contents.list()] == [content.sid]


def test_a_subaccount_sees_only_itself_in_the_accounts_api(emu, parent, client_for):
    one = parent.api.v2010.accounts.create(friendly_name="one")
    two = parent.api.v2010.accounts.create(friendly_name="two")
    c1 = client_for(one.sid, one.auth_token)
    assert [a.sid for a in c1.api.v2010.accounts.list()] == [one.sid]
    assert c1.api.v2010.accounts(one.sid).fetch().sid == one.sid
    for other in (two.sid, emu.parent_sid):
        with pytest.raises(TwilioRestException) as caught:
            c1.api.v2010.accounts(other).fetch()
        assert caught.value.status == 404
    with pytest.raises(TwilioRestException) as caught:
        c1.api.v2010.accounts.create(friendly_name="grandchild")
    assert (caught.value.status, caught.value.code) == (401, 20003)
    with pytest.raises(TwilioRestException) as caught:
        c1.api.v2010.accounts(one.sid).update(status="suspended")
    assert caught.value.status == 401


def test_main_api_key_may_use_accounts_standard_key_may_not(emu, client_for):
    main_sid, main_secret = emu.create_api_key(main=True)
    std_sid, std_secret = emu.create_api_key(main=False)
    main = client_for(main_sid, main_secret, emu.parent_sid)
    made = main.api.v2010.accounts.create(friendly_name="by-key")
    assert made.auth_token
    assert made.sid in {a.sid for a in main.api.v2010.accounts.list()}
    std = client_for(std_sid, std_secret, emu.parent_sid)
    with pytest.raises(TwilioException) as caught:
        std.api.v2010.accounts.list()
    assert page_error(caught.value)[0] == 401
    with pytest.raises(TwilioRestException) as caught:
        std.api.v2010.accounts.create(friendly_name="nope")
    assert (caught.value.status, caught.value.code) == (401, 20003)
    # a Standard key still reaches its own account's Content
    assert make_content(std, "by_standard_key").account_sid == emu.parent_sid
    # a wrong secret is a bad credential
    assert_error(raw(emu.url, "GET", "/v1/Content", (main_sid, "wrong")), 401, 20003)


def test_a_key_of_a_subaccount_acts_on_that_subaccount(emu, parent, client_for):
    account = parent.api.v2010.accounts.create(friendly_name="keyed")
    key_sid, secret = emu.create_api_key(main=False, account_sid=account.sid)
    client = client_for(key_sid, secret, account.sid)
    assert make_content(client, "sub_key").account_sid == account.sid
    assert [e["account_sid"] for e in emu.request_log()][-1] == account.sid


def test_suspended_and_closed_subaccounts_cannot_authenticate(emu, parent, client_for):
    account = parent.api.v2010.accounts.create(friendly_name="pausable")
    client = client_for(account.sid, account.auth_token)
    parent.api.v2010.accounts(account.sid).update(status="suspended")
    with pytest.raises(TwilioException):
        client.content.v1.contents.list()
    parent.api.v2010.accounts(account.sid).update(status="active")
    assert client.content.v1.contents.list() == []
    parent.api.v2010.accounts(account.sid).update(status="closed")
    body = assert_error(
        raw(emu.url, "GET", "/v1/Content", (account.sid, account.auth_token)), 401, 20005
    )
    assert "closed" in body["message"]
