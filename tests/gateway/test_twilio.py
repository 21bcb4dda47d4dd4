"""TwilioGateway through the real twilio SDK against the wa-sync emulator over HTTP."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from twilio.rest import Client

from tests.gateway.scripted import Sleeps
from wa_sync.emulator import Emulator
from wa_sync.errors import TwilioError
from wa_sync.gateway import twilio as twilio_gateway
from wa_sync.gateway.base import (
    AuthFailed,
    NotFound,
    RateLimited,
    TooManySubaccounts,
    Unavailable,
)
from wa_sync.gateway.http import Transport
from wa_sync.gateway.twilio import ParentCredentials, Secret, TwilioGateway
from wa_sync.identity import UnknownSubaccount
from wa_sync.model import ApprovalStatus, Customer, LiveAccount, Sender, Template, thaw
from wa_sync.plan.ownership import SharedSubaccount, check_ownership

WABA = "104000000000001"
ACCOUNTS = r"^/2010-04-01/Accounts\.json$"
SENDERS = r"^/v2/Channels/Senders$"
CONTENT = r"^/v1/Content$"
APPROVAL = r"^/v1/Content/HX[0-9a-fA-F]+/ApprovalRequests/whatsapp$"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def make_gateway(
    emu: Emulator,
    sleeps: Sleeps,
    *,
    username: str = "",
    secret: str = "",
    attempts: int = 5,
    checkpoint: Callable[[], None] = lambda: None,
) -> TwilioGateway:
    credentials = ParentCredentials(
        account_sid=emu.parent_sid,
        username=username or emu.parent_sid,
        secret=Secret(secret or emu.parent_token),
    )
    http = Transport(
        base_url=emu.url, sleep=sleeps, attempts=attempts, timeout=10, checkpoint=checkpoint
    )
    return TwilioGateway(credentials, http_client=http, parallelism=4, emulated=True)


@pytest.fixture
def gateway(emu, sleeps) -> Iterator[TwilioGateway]:
    gw = make_gateway(emu, sleeps)
    yield gw
    gw.close()


def customer(cid: str, **kw) -> Customer:
    return Customer(id=cid, name=cid.title(), **kw)


def sender(phone: str = "+14155550123", **profile) -> Sender:
    return Sender(
        phone_number=phone,
        display_name="Acme Dental",
        profile=profile
        or {
            "about": "Family dentistry since 1990",
            "emails": ["hello@acme.example"],
            "websites": ["https://acme.example", "https://acme.example/es"],
            "vertical": "Medical and Health",
        },
        webhook={"callback_url": "https://hooks.example.com/wa"},
    )


def template(name: str = "appointment_reminder", language: str = "en") -> Template:
    return Template(
        name=name,
        language=language,
        category="UTILITY",
        types={
            "twilio/text": {"body": "Hi {{1}}, see you on {{2}}."},
            "twilio/quick-reply": {
                "body": "Hi {{1}}, see you on {{2}}.",
                "actions": [{"title": "Confirm", "id": "confirm"}],
            },
        },
        variables={"1": "Maria", "2": "June 3"},
    )


def requests_by_path(emu: Emulator) -> Counter:
    return Counter(f"{e['method']} {e['path']}" for e in emu.request_log())


def all_tokens(emu: Emulator) -> list[str]:
    return [emu.parent_token, *(a["auth_token"] for a in emu.state()["accounts"])]


# --- reads ---------------------------------------------------------------------------


def test_a_fresh_estate_is_read_with_one_request(emu, gateway):
    live = gateway.read([customer("acme"), customer("bravo")])
    assert live.parent_sid == emu.parent_sid
    assert live.accounts == ()
    assert {k: v.account for k, v in live.customers.items()} == {"acme": None, "bravo": None}
    assert requests_by_path(emu) == {"GET /2010-04-01/Accounts.json": 1}


def test_read_takes_one_listing_per_kind_and_nothing_per_object(emu, gateway):
    for n in range(3):
        account = gateway.create_subaccount(customer(f"c{n}"))
        gateway.create_sender(account, sender(f"+1415555010{n}"), WABA)
        for name in ("one", "two", "three"):
            gateway.create_content(account, template(name), name)
    emu.create_subaccount("someone else's")
    emu.clear_request_log()

    live = gateway.read([customer(f"c{n}") for n in range(3)] + [customer("absent")])

    log = emu.request_log()
    counts = Counter(f"{e['method']} {e['path']}" for e in log)
    assert counts == {
        "GET /2010-04-01/Accounts.json": 1,
        "GET /v2/Channels/Senders": 3,
        "GET /v1/ContentAndApprovals": 3,
    }
    assert len(live.accounts) == 4  # every subaccount, the parent excluded
    assert live.customers["absent"].account is None
    for n in range(3):
        got = live.customers[f"c{n}"]
        assert got.account is not None
        assert got.account.friendly_name == f"wa-sync:c{n}"
        assert [s.sender_id for s in got.senders] == [f"whatsapp:+1415555010{n}"]
        assert sorted(c.friendly_name for c in got.contents) == ["one", "three", "two"]


def test_every_page_of_a_listing_is_read_in_order(emu, gateway, monkeypatch):
    account = gateway.create_subaccount(customer("acme"))
    names = [f"t{n}" for n in range(5)]
    made = [gateway.create_content(account, template(name), name) for name in names]
    for n in range(3):
        gateway.create_sender(account, sender(f"+1415555010{n}"), WABA)
    monkeypatch.setattr(twilio_gateway, "PAGE_SIZE", 2)
    emu.clear_request_log()

    contents = gateway.list_contents(account)
    senders = gateway.list_senders(account)

    assert contents == tuple(made)
    assert [s.sender_id for s in senders] == [f"whatsapp:+1415555010{n}" for n in range(3)]
    assert requests_by_path(emu) == {
        "GET /v1/ContentAndApprovals": 3,
        "GET /v2/Channels/Senders": 2,
    }


def test_senders_and_contents_are_read_as_the_subaccount(emu, gateway):
    a = gateway.create_subaccount(customer("acme"))
    b = gateway.create_subaccount(customer("bravo"))
    gateway.create_content(a, template("only_in_a"), "only_in_a")
    emu.clear_request_log()

    live = gateway.read([customer("acme"), customer("bravo")])

    assert [c.friendly_name for c in live.customers["acme"].contents] == ["only_in_a"]
    assert live.customers["bravo"].contents == ()
    for entry in emu.request_log():
        if entry["path"].startswith("/2010-04-01"):
            assert entry["account_sid"] == emu.parent_sid
        else:
            assert entry["account_sid"] in (a.sid, b.sid)
    by_account = Counter(e["account_sid"] for e in emu.request_log())
    assert by_account == {emu.parent_sid: 1, a.sid: 2, b.sid: 2}
    # the parent's own Content is untouched: nothing was created there
    assert emu.state()["contents"][emu.parent_sid] == []


def test_translates_senders_and_contents_to_the_model(emu, gateway):
    account = gateway.create_subaccount(customer("acme"))
    gateway.create_sender(account, sender(), WABA)
    gateway.create_content(account, template(), "appointment_reminder")

    live = gateway.read([customer("acme")]).customers["acme"]

    (got,) = live.senders
    assert got.sid.startswith("XE")
    assert got.sender_id == "whatsapp:+14155550123"
    assert got.display_name == "Acme Dental"
    assert thaw(got.profile) == {
        "about": "Family dentistry since 1990",
        "emails": ["hello@acme.example"],
        "websites": ["https://acme.example", "https://acme.example/es"],
        "vertical": "Medical and Health",
    }
    assert thaw(got.webhook)["callback_url"] == "https://hooks.example.com/wa"
    assert got.waba_id == WABA
    # Twilio's own shape on the wire
    (stored,) = emu.state()["senders"][account.sid]
    assert stored["profile"]["emails"] == [{"email": "hello@acme.example", "label": "Email"}]

    (content,) = live.contents
    assert content.sid.startswith("HX")
    assert (content.friendly_name, content.language) == ("appointment_reminder", "en")
    assert thaw(content.types) == thaw(template().types)
    assert thaw(content.variables) == {"1": "Maria", "2": "June 3"}
    assert content.approval_status is ApprovalStatus.UNSUBMITTED
    assert content.date_created.endswith("Z")


def test_two_subaccounts_with_one_name_match_neither_and_are_listed(emu, gateway):
    """plan.ownership refuses them, with every other such customer (SPEC §4.3)."""
    one = emu.create_subaccount("wa-sync:acme")["sid"]
    two = emu.create_subaccount("wa-sync:acme")["sid"]
    live = gateway.read([customer("acme")])
    assert live.customers["acme"].account is None
    assert {one, two} <= {a.sid for a in live.accounts}
    with pytest.raises(SharedSubaccount) as caught:
        check_ownership([customer("acme")], live.accounts, known=["acme"])
    assert one in str(caught.value)
    assert two in str(caught.value)
    # account_sid picks one
    live = gateway.read([customer("acme", account_sid=two)])
    assert live.customers["acme"].account.sid == two


def test_a_suspended_subaccount_is_read_without_its_contents(emu, gateway):
    account = gateway.create_subaccount(customer("acme"))
    gateway.create_content(account, template(), "appointment_reminder")
    parent = Client(emu.parent_sid, emu.parent_token, http_client=Transport(base_url=emu.url))
    parent.api.v2010.accounts(account.sid).update(status="suspended")
    emu.clear_request_log()
    live = gateway.read([customer("acme")]).customers["acme"]
    assert live.account is not None
    assert live.account.status == "suspended"
    assert live.contents == ()
    assert len(emu.request_log()) == 1


def test_an_account_sid_that_is_not_a_subaccount_is_an_error(emu, gateway):
    with pytest.raises(UnknownSubaccount, match="AC0000"):
        gateway.read([customer("acme", account_sid="AC" + "0" * 32)])


def test_read_subaccount_fetches_a_token_it_does_not_know(emu, sleeps):
    sid = emu.create_subaccount("wa-sync:acme")["sid"]
    gw = make_gateway(emu, sleeps)
    senders, contents = gw.read_subaccount(LiveAccount(sid=sid, friendly_name="wa-sync:acme"))
    assert (senders, contents) == ((), ())
    assert requests_by_path(emu)[f"GET /2010-04-01/Accounts/{sid}.json"] == 1


def test_many_customers_are_read_in_parallel(emu, gateway):
    customers = [customer(f"clinic-{n}") for n in range(24)]
    for c in customers[:20]:
        gateway.create_subaccount(c)
    emu.clear_request_log()
    live = gateway.read(customers)
    assert sum(1 for c in live.customers.values() if c.account) == 20
    assert len(emu.request_log()) == 1 + 2 * 20


def _reads_of(emu: Emulator, sid: str) -> list[dict]:
    return [e for e in emu.request_log() if e["account_sid"] == sid]


# --- writes ------------------------------------------------------------------------------


def test_create_a_subaccount(emu, gateway):
    account = gateway.create_subaccount(customer("acme"))
    assert account.sid.startswith("AC")
    assert (account.friendly_name, account.status) == ("wa-sync:acme", "active")
    assert [a["friendly_name"] for a in emu.state()["accounts"]] == ["wa-sync:acme"]


def test_update_a_sender_sends_the_whole_profile_and_clears_what_is_gone(emu, gateway):
    account = gateway.create_subaccount(customer("acme"))
    created = gateway.create_sender(account, sender(), WABA)
    changed = sender(about="New about text", websites=["https://acme.example"])
    updated = gateway.update_sender(account, created.sid, changed)
    assert updated.sid == created.sid
    (live,) = gateway.read([customer("acme")]).customers["acme"].senders
    assert thaw(live.profile) == {
        "about": "New about text",
        "websites": ["https://acme.example"],
    }


def test_delete_a_sender(emu, gateway):
    account = gateway.create_subaccount(customer("acme"))
    created = gateway.create_sender(account, sender(), WABA)
    gateway.delete_sender(account, created.sid)
    assert emu.state()["senders"][account.sid] == []
    with pytest.raises(NotFound) as caught:
        gateway.delete_sender(account, created.sid)
    assert caught.value.status == 404


def test_create_submit_and_delete_a_content(emu, gateway):
    account = gateway.create_subaccount(customer("acme"))
    content = gateway.create_content(account, template(), "appointment_reminder_v2")
    assert content.friendly_name == "appointment_reminder_v2"
    gateway.submit(account, content.sid, "appointment_reminder_v2", "UTILITY")
    (live,) = gateway.read([customer("acme")]).customers["acme"].contents
    assert live.approval_status.locked
    assert (live.approval_name, live.approval_category) == ("appointment_reminder_v2", "UTILITY")
    emu.approve(content.sid)
    (live,) = gateway.read([customer("acme")]).customers["acme"].contents
    assert live.approval_status is ApprovalStatus.APPROVED
    gateway.delete_content(account, content.sid)
    assert emu.state()["contents"][account.sid] == []


def test_content_types_the_sdk_does_not_model_go_through_untouched(emu, gateway):
    account = gateway.create_subaccount(customer("acme"))
    types = {
        "twilio/card": {
            "title": "Your order",
            "actions": [{"type": "URL", "title": "Track", "url": "https://x.example/{{1}}"}],
        },
        "twilio/text": {"body": "Your order {{1}} shipped."},
    }
    tpl = Template(
        name="ship", language="en", category="UTILITY", types=types, variables={"1": "7"}
    )
    created = gateway.create_content(account, tpl, "ship")
    assert thaw(created.types) == types
    assert emu.state()["contents"][account.sid][0]["types"] == types


def test_a_missing_content_is_not_found_with_twilio_code_and_link(emu, gateway):
    account = gateway.create_subaccount(customer("acme"))
    with pytest.raises(NotFound) as caught:
        gateway.delete_content(account, "HX" + "0" * 32)
    assert caught.value.code == 20404
    assert caught.value.more_info == "https://www.twilio.com/docs/errors/20404"
    assert "Twilio error 20404" in str(caught.value)


def test_too_many_subaccounts(sleeps):
    with Emulator(subaccount_limit=1) as emu:
        gw = make_gateway(emu, sleeps)
        gw.create_subaccount(customer("one"))
        with pytest.raises(TooManySubaccounts) as caught:
            gw.create_subaccount(customer("two"))
        assert caught.value.code == 21480


# --- credentials -------------------------------------------------------------------------


def test_wrong_parent_credentials_fail_without_showing_them(emu, sleeps):
    gw = make_gateway(emu, sleeps, secret="wrong-token-0123456789abcdef01234")
    with pytest.raises(AuthFailed) as caught:
        gw.read([customer("acme")])
    assert caught.value.code == 20003
    assert "TWILIO_AUTH_TOKEN" in str(caught.value)
    assert "wrong-token" not in str(caught.value)
    assert "wrong-token" not in repr(caught.value)


def test_a_standard_api_key_is_refused_with_a_hint_about_main_keys(emu, sleeps):
    key, secret = emu.create_api_key(main=False)
    gw = make_gateway(emu, sleeps, username=key, secret=secret)
    with pytest.raises(AuthFailed, match="Main key") as caught:
        gw.read([customer("acme")])
    assert secret not in str(caught.value)


def test_a_main_api_key_reads_and_writes(emu, sleeps):
    key, secret = emu.create_api_key(main=True)
    gw = make_gateway(emu, sleeps, username=key, secret=secret)
    account = gw.create_subaccount(customer("acme"))
    gw.create_content(account, template(), "appointment_reminder")
    live = gw.read([customer("acme")])
    assert [c.friendly_name for c in live.customers["acme"].contents] == ["appointment_reminder"]
    assert {e["account_sid"] for e in emu.request_log() if e["path"].startswith("/v1")} == {
        account.sid
    }


# --- retries --------------------------------------------------------------------------------


def test_429_then_success_waits_and_retries(emu, gateway, sleeps):
    emu.fail_next("GET", ACCOUNTS, status=429, count=2)
    gateway.read([customer("acme")])
    assert requests_by_path(emu)["GET /2010-04-01/Accounts.json"] == 3
    assert len(sleeps) == 2


def test_retry_after_is_honoured_and_attempts_are_bounded(emu, gateway, sleeps):
    emu.set_faults(rate_limit_rate=1.0, retry_after=3)
    with pytest.raises(RateLimited) as caught:
        gateway.read([customer("acme")])
    assert sleeps == [3, 3, 3, 3]
    assert caught.value.status == 429
    assert len(emu.request_log()) == 5


def test_a_create_is_resent_after_429(emu, gateway):
    emu.fail_next("POST", ACCOUNTS, status=429, count=1)
    gateway.create_subaccount(customer("acme"))
    assert len(emu.state()["accounts"]) == 1
    assert requests_by_path(emu)["POST /2010-04-01/Accounts.json"] == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_reads_are_retried_on_5xx(emu, gateway, status):
    account = gateway.create_subaccount(customer("acme"))
    gateway.create_content(account, template(), "appointment_reminder")
    emu.fail_next("GET", r"^/v1/ContentAndApprovals$", status=status, count=2)
    emu.fail_next("GET", r"^/v2/Channels/Senders$", status=status, count=1)
    live = gateway.read([customer("acme")])
    assert len(live.customers["acme"].contents) == 1


def test_reads_give_up_as_unavailable(emu, gateway, sleeps):
    emu.set_faults(error_rate=1.0, error_status=503, retry_after=None)
    with pytest.raises(Unavailable) as caught:
        gateway.read([customer("acme")])
    assert caught.value.status == 503
    assert len(sleeps) == 4


def test_dropped_reads_are_retried(emu, gateway):
    emu.fail_next("GET", ACCOUNTS, count=2, mode="drop")
    assert gateway.read([customer("acme")]).accounts == ()


def test_thirty_percent_faults_on_reads_and_deletes(emu, sleeps):
    # 12 attempts: the odds that some request of ~50 meets 12 faults in a row (0.3^12
    # each) are negligible, where with 5 attempts they were ~10% a run: a flaky test.
    gateway = make_gateway(emu, sleeps, attempts=12)
    accounts = [gateway.create_subaccount(customer(f"c{n}")) for n in range(4)]
    contents = [gateway.create_content(a, template(), "appointment_reminder") for a in accounts]
    emu.set_faults(rate_limit_rate=0.15, retry_after=0, error_rate=0.15, error_status=500)
    for _ in range(5):
        live = gateway.read([customer(f"c{n}") for n in range(4)])
        assert all(len(c.contents) == 1 for c in live.customers.values())
    emu.set_faults(rate_limit_rate=0.15, retry_after=0, error_rate=0.15, methods=["DELETE"])
    for account, content in zip(accounts, contents, strict=True):
        with contextlib.suppress(NotFound):  # a retried DELETE whose first attempt went through
            gateway.delete_content(account, content.sid)
    emu.set_faults()
    assert all(v == [] for v in emu.state()["contents"].values())


# --- lost responses: no duplicate -----------------------------------------------------------


@pytest.mark.parametrize("mode", ["commit_then_drop", "commit_then_error"])
def test_a_lost_subaccount_create_is_found_not_duplicated(emu, gateway, mode):
    emu.fail_next("POST", ACCOUNTS, status=500, mode=mode)
    account = gateway.create_subaccount(customer("acme"))
    assert [a["sid"] for a in emu.state()["accounts"]] == [account.sid]
    assert requests_by_path(emu)["POST /2010-04-01/Accounts.json"] == 1
    # its token was learnt from the recovery listing: it can be used at once
    gateway.create_content(account, template(), "appointment_reminder")


@pytest.mark.parametrize("mode", ["commit_then_drop", "commit_then_error"])
def test_a_lost_sender_create_is_found_not_duplicated(emu, gateway, mode):
    account = gateway.create_subaccount(customer("acme"))
    emu.fail_next("POST", SENDERS, status=502, mode=mode)
    created = gateway.create_sender(account, sender(), WABA)
    assert [s["sid"] for s in emu.state()["senders"][account.sid]] == [created.sid]
    assert requests_by_path(emu)["POST /v2/Channels/Senders"] == 1


@pytest.mark.parametrize("mode", ["commit_then_drop", "commit_then_error"])
def test_a_lost_content_create_is_found_not_duplicated(emu, gateway, mode):
    account = gateway.create_subaccount(customer("acme"))
    emu.fail_next("POST", CONTENT, status=504, mode=mode)
    created = gateway.create_content(account, template(), "appointment_reminder")
    assert [c["sid"] for c in emu.state()["contents"][account.sid]] == [created.sid]
    assert requests_by_path(emu)["POST /v1/Content"] == 1


@pytest.mark.parametrize("mode", ["commit_then_drop", "commit_then_error"])
def test_a_lost_submission_is_not_resent(emu, gateway, mode):
    account = gateway.create_subaccount(customer("acme"))
    content = gateway.create_content(account, template(), "appointment_reminder")
    emu.fail_next("POST", APPROVAL, status=500, mode=mode)
    gateway.submit(account, content.sid, "appointment_reminder", "UTILITY")
    counts = Counter(e["template"] for e in emu.request_log() if e["method"] == "POST")
    assert sum(n for t, n in counts.items() if "ApprovalRequests" in t) == 1
    (stored,) = emu.state()["contents"][account.sid]
    assert stored["approval"]["status"] != "unsubmitted"


@pytest.mark.parametrize(
    ("path", "make"),
    [
        (ACCOUNTS, lambda gw, acc: gw.create_subaccount(customer("other"))),
        (SENDERS, lambda gw, acc: gw.create_sender(acc, sender(), WABA)),
        (CONTENT, lambda gw, acc: gw.create_content(acc, template(), "appointment_reminder")),
    ],
    ids=["subaccount", "sender", "content"],
)
def test_a_create_that_was_not_made_is_sent_again(emu, gateway, path, make):
    account = gateway.create_subaccount(customer("acme"))
    emu.fail_next("POST", path, status=500, mode="error")
    make(gateway, account)
    state = emu.state()
    assert len(state["accounts"]) == (2 if path == ACCOUNTS else 1)
    assert sum(len(v) for v in state["senders"].values()) == (1 if path == SENDERS else 0)
    assert sum(len(v) for v in state["contents"].values()) == (1 if path == CONTENT else 0)


def test_a_submission_that_was_not_made_is_sent_again(emu, gateway):
    account = gateway.create_subaccount(customer("acme"))
    content = gateway.create_content(account, template(), "appointment_reminder")
    emu.fail_next("POST", APPROVAL, status=503, mode="error")
    gateway.submit(account, content.sid, "appointment_reminder", "UTILITY")
    (stored,) = emu.state()["contents"][account.sid]
    assert stored["approval"]["status"] != "unsubmitted"


def test_an_update_whose_answer_is_lost_is_sent_again(emu, gateway):
    account = gateway.create_subaccount(customer("acme"))
    created = gateway.create_sender(account, sender(), WABA)
    emu.fail_next("POST", r"^/v2/Channels/Senders/XE", status=500, mode="commit_then_drop")
    gateway.update_sender(account, created.sid, sender(about="Changed"))
    (stored,) = emu.state()["senders"][account.sid]
    assert stored["profile"]["about"] == "Changed"


def test_a_create_whose_answer_and_lookup_are_both_lost_says_it_may_have_been_made(emu, gateway):
    """It failed with the lookup's error alone ("listing the contents ...: Twilio
    answered 503"), and a report read it as not made, though Twilio had made it."""
    account = gateway.create_subaccount(customer("acme"))
    emu.fail_next("POST", CONTENT, status=504, mode="commit_then_drop")
    emu.fail_next("GET", r"^/v1/Content(AndApprovals)?$", status=503, count=10, mode="error")
    with pytest.raises(Unavailable) as failed:
        gateway.create_content(account, template(), "appointment_reminder")
    told = str(failed.value)
    assert "sent, but Twilio's answer was lost" in told
    assert "it may have been made; the next apply finds it, or makes it" in told
    assert len(emu.state()["contents"][account.sid]) == 1  # made, indeed


def test_a_create_lost_every_time_gives_up_as_unavailable(emu, gateway):
    account = gateway.create_subaccount(customer("acme"))
    emu.fail_next("POST", CONTENT, status=500, count=10, mode="error")
    with pytest.raises(Unavailable, match="Twilio answered 500 Internal Server Error 5 times"):
        gateway.create_content(account, template(), "appointment_reminder")
    assert emu.state()["contents"][account.sid] == []


# --- secrets -----------------------------------------------------------------------------------


def test_no_token_appears_in_errors_reprs_or_logs(emu, gateway, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    account = gateway.create_subaccount(customer("acme"))
    gateway.create_content(account, template(), "appointment_reminder")
    gateway.read([customer("acme")])
    failures: list[BaseException] = []
    for action in (
        lambda: gateway.delete_content(account, "HX" + "1" * 32),
        lambda: make_gateway(emu, sleeps, secret="x" * 32).read([customer("acme")]),
    ):
        with pytest.raises(TwilioError) as caught:
            action()
        failures.append(caught.value)
    emu.set_faults(error_rate=1.0, error_status=500)
    with pytest.raises(Unavailable) as caught:
        gateway.create_content(account, template("other"), "other")
    failures.append(caught.value)
    emu.set_faults()

    texts = [str(f) for f in failures] + [repr(f) for f in failures]
    texts += [repr(gateway), str(gateway), caplog.text, repr(account)]
    for token in all_tokens(emu):
        for text in texts:
            assert token not in text
