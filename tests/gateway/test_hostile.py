"""Hostile or broken answers (SPEC §4.8): a "Twilio" on loopback that answers what no
Twilio should, read through open_gateway and the real twilio SDK. Every case is an
error that says what came, never an endless read, a double count or a credential sent
elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from tests.gateway.scripted import Reply, ScriptedServer, Trickler
from wa_sync.connect import open_gateway
from wa_sync.errors import TwilioError
from wa_sync.model import Customer

PARENT = "AC" + "0" * 32
TOKEN = "parent-token-0123456789abcdef0123"
SUB = "AC" + "1" * 32
SUB_TOKEN = "sub-token-0123456789abcdef0123456"
ACME = Customer(id="acme", name="Acme")


def accounts(*records: dict[str, Any], next_uri: str | None = None) -> dict[str, Any]:
    """A page of the 2010 Accounts listing, as Twilio shapes it."""
    return {
        "accounts": list(records),
        "next_page_uri": next_uri,
        "first_page_uri": "/2010-04-01/Accounts.json?PageSize=1000&Page=0",
        "previous_page_uri": None,
        "uri": "/2010-04-01/Accounts.json?PageSize=1000&Page=0",
        "page": 0,
        "page_size": 1000,
        "start": 0,
        "end": len(records) - 1,
    }


def account(sid: str = SUB, name: str = "wa-sync:acme") -> dict[str, Any]:
    return {"sid": sid, "friendly_name": name, "status": "active", "auth_token": SUB_TOKEN}


def listing(key: str, records: list[dict[str, Any]], next_url: str | None = None) -> dict:
    """A page of a v1/v2 listing, with its absolute next_page_url."""
    return {key: records, "meta": {"key": key, "next_page_url": next_url, "page_size": 1000}}


@contextmanager
def gateway_at(url: str, **environ: str) -> Iterator[Any]:
    env = {
        "TWILIO_ACCOUNT_SID": PARENT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "WA_SYNC_TWILIO_URL": url,
        **environ,
    }
    # parallelism 1: the subaccount's two listings go in turn, senders first
    with open_gateway(environ=env, root=".", emulator=False, parallelism=1) as gateway:
        yield gateway


def read_fails(url: str, customers=(ACME,), **environ: str) -> str:
    with gateway_at(url, **environ) as gateway, pytest.raises(TwilioError) as caught:
        gateway.read(list(customers))
    return str(caught.value)


def test_a_next_page_uri_that_loops_is_an_error_not_an_endless_read(server):
    loop = "/2010-04-01/Accounts.json?PageSize=1000&Page=1&PageToken=PA1"
    server.then(
        Reply(body=accounts(account("AC" + "2" * 32, "a"), next_uri=loop)),
        Reply(body=accounts(account("AC" + "3" * 32, "b"), next_uri=loop)),
        *[Reply(body=accounts(account(f"AC{n:032d}", "c"), next_uri=loop)) for n in range(9)],
    )
    message = read_fails(server.url)
    assert "listing the parent's subaccounts: the pages of the listing go round in a loop" in (
        message
    )
    assert len(server.seen) == 2


def test_one_sid_on_two_pages_is_detected_not_counted_twice(server):
    server.then(
        Reply(body=accounts(account(), next_uri="/2010-04-01/Accounts.json?Page=1&PageToken=P")),
        Reply(body=accounts(account())),
    )
    message = read_fails(server.url)
    assert f"Twilio listed {SUB} twice" in message


@pytest.mark.parametrize(
    ("record", "listed"),
    [
        ("SID", "what is not a record"),
        (7, "what is not a record"),
        ({"friendly_name": "no sid"}, "a record without a SID"),
        ({"sid": 7}, "a record without a SID"),
        ({"sid": ""}, "a record without a SID"),
    ],
)
def test_a_listing_record_that_is_not_a_record_says_so(server, record, listed):
    server.then(
        Reply(body=accounts(account())),
        Reply(body=listing("senders", [])),
        Reply(body=listing("contents", [record])),
    )
    message = read_fails(server.url)
    assert f"listing the contents of subaccount {SUB}: a page holds {listed}" in message


SENDER = {"sid": "XE" + "1" * 32, "sender_id": "whatsapp:+14155550123", "status": "ONLINE"}
CONTENT = {"sid": "HX" + "1" * 32, "friendly_name": "hello", "language": "en"}


@pytest.mark.parametrize(
    ("senders", "contents"),
    [
        ([{**SENDER, "profile": "not an object"}], []),
        ([{**SENDER, "configuration": ["a", "list"]}], []),
        ([{**SENDER, "sender_id": 42}], []),
        ([], [{**CONTENT, "types": "not an object"}]),
        ([], [{**CONTENT, "approval_requests": 7}]),
        ([], [{**CONTENT, "friendly_name": 7}]),
        ([{**SENDER, "sid": "XE1\n::error::forged"}], []),
        ([], [{**CONTENT, "sid": "HX" + "1" * 31 + "\x1b"}]),
        ([{**SENDER, "sender_id": "whatsapp:+14155550123\n::error::forged"}], []),
        ([], [{**CONTENT, "approval_requests": {"category": "UTILITY\x1b[2J"}}]),
    ],
    ids=[
        "profile",
        "configuration",
        "sender_id",
        "types",
        "approval",
        "friendly_name",
        "sender SID not in Twilio's form",
        "content SID not in Twilio's form",
        "sender id on two lines",
        "category with a control character",
    ],
)
def test_a_record_of_the_wrong_shape_is_a_broken_answer(server, senders, contents):
    """Twilio's (or a proxy's) record with a field of another type is reported as an
    answer that cannot be Twilio's, naming the listing, never an internal error."""
    server.then(
        Reply(body=accounts(account())),
        Reply(body=listing("senders", senders)),
        Reply(body=listing("contents", contents)),
    )
    message = read_fails(server.url)
    listed = "senders" if senders else "contents"
    assert f"listing the {listed} of subaccount {SUB}: a record is not in Twilio's shape" in (
        message
    )


@pytest.mark.parametrize("field", ["friendly_name", "status", "auth_token"])
def test_a_subaccount_record_of_the_wrong_shape_is_a_broken_answer(server, field):
    server.then(Reply(body=accounts({**account(), field: ["not", "text"]})))
    message = read_fails(server.url)
    assert f"listing the parent's subaccounts: a record is not in Twilio's shape: {SUB}'s " in (
        message
    )
    assert SUB_TOKEN not in message


def test_a_content_keeps_twilios_creation_date_in_one_form(server):
    content = {"sid": "HX" + "1" * 32, "friendly_name": "hello", "language": "en"}
    server.then(
        Reply(body=accounts(account())),
        Reply(body=listing("senders", [])),
        Reply(body=listing("contents", [{**content, "date_created": "2026-12-07T10:11:12Z"}])),
    )
    with gateway_at(server.url) as gateway:
        live = gateway.read([ACME]).customers["acme"]
    assert [c.date_created for c in live.contents] == ["2026-12-07T10:11:12Z"]


def test_a_next_page_on_another_host_is_refused_and_gets_no_credential(server):
    with ScriptedServer() as elsewhere:
        elsewhere_url = elsewhere.url.replace("127.0.0.1", "localhost")
        server.then(
            Reply(body=accounts(account())),
            Reply(body=listing("senders", [])),
            Reply(body=listing("contents", [], f"{elsewhere_url}/v1/ContentAndApprovals?P=1")),
        )
        message = read_fails(server.url)
        assert elsewhere.seen == []
    assert "listing the contents of subaccount" in message
    assert "the next page is on another host (localhost)" in message


def test_an_html_answer_says_what_came_with_its_status(server):
    html = b"<html><body><h1>Service Unavailable</h1></body></html>"
    server.then(Reply(raw=html, headers={"Content-Type": "text/html"}))
    message = read_fails(server.url)
    assert "listing the parent's subaccounts: Twilio answered 200 OK with text/html" in message
    assert "<h1>Service Unavailable" in message
    assert "Unable to fetch page" not in message


def test_a_5xx_that_repeats_is_reported_naming_its_status(server, monkeypatch):
    from wa_sync.gateway import http

    monkeypatch.setattr(http, "BACKOFF_FACTOR", 0.0)
    server.then(*[Reply(500, {"code": 20500, "message": "Internal Server Error"})] * 5)
    message = read_fails(server.url, WA_SYNC_TWILIO_TIMEOUT="5")
    assert "Twilio answered 500 Internal Server Error 5 times" in message
    assert len(server.seen) == 5


def test_the_timeout_bounds_a_requests_total_time_not_only_silence():
    """A byte every 50 ms is never 1 s of silence, yet the answer takes 12 s in all."""
    trickler = Trickler(b'{"accounts": []}' + b" " * 240, every=0.05)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(trickler.serve_one)
        server = ScriptedServer()
        server.url = trickler.url
        message = read_fails(server.url, WA_SYNC_TWILIO_TIMEOUT="1")
        trickler.sock.close()
    assert "listing the parent's subaccounts: Twilio's answer was incomplete (200 OK, too slow" in (
        message
    )


def test_a_truncated_answer_says_so_with_its_status():
    trickler = Trickler(b'{"accounts": [{"sid": "AC', every=0, length=4000)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(trickler.serve_one)
        server = ScriptedServer()
        server.url = trickler.url
        message = read_fails(server.url)
        trickler.sock.close()
    assert "Twilio's answer was incomplete (200 OK, cut off after 25 bytes)" in message


@pytest.mark.parametrize("verbose", [[], ["-v"]])
def test_a_retried_connection_is_told_once_in_wa_syncs_words(server, tmp_path, verbose):
    """urllib3 warns of each retry in its own words (its Retry's repr, the exception's);
    the retry policy says it at -v, and nothing else does."""
    (tmp_path / "customers").mkdir()
    server.then(Reply(drop=True), Reply(body=accounts(account(PARENT, "parent"))))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TWILIO_ACCOUNT_SID": PARENT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "WA_SYNC_TWILIO_URL": server.url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "wa_sync", "plan", *verbose, "--root", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "No changes" in done.stdout
    assert "Retrying" not in done.stderr
    assert "Policy(" not in done.stderr
    told = [line for line in done.stderr.splitlines() if line.startswith("attempt 1/5 GET")]
    assert len(told) == (1 if verbose else 0), done.stderr
