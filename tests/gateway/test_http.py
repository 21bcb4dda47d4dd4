"""The transport over real HTTP on loopback, through the real twilio SDK where it calls
it: rewriting, wa-sync's retry policy on urllib3, POST safety, caps, deadlines."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from twilio.rest import Client

from tests.gateway.scripted import Reply, ScriptedServer, Sleeps, Trickler
from wa_sync.gateway.http import (
    BadAnswer,
    Closed,
    GaveUp,
    OutcomeUnknown,
    Transport,
    Unreachable,
    endpoint_class,
)

TOKEN = "s3cr3t-token-value-0123456789abcd"
AUTH = ("AC" + "1" * 32, TOKEN)


def client_for(server: ScriptedServer, sleeps: Sleeps, **kw) -> Transport:
    kw.setdefault("attempts", 4)
    kw.setdefault("timeout", 2.0)
    return Transport(base_url=server.url, sleep=sleeps, **kw)


def get(client: Transport, path: str = "/v1/Content", **kw):
    return client.request("GET", f"https://content.twilio.com{path}", auth=AUTH, **kw)


def post(client: Transport, path: str = "/v1/Content", **kw):
    headers = {"Content-Type": "application/json"}
    return client.request(
        "POST", f"https://content.twilio.com{path}", data={"a": 1}, headers=headers, auth=AUTH, **kw
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- URLs and bodies -------------------------------------------------------------------


def test_rewrites_every_product_host_to_the_base_url_with_the_path_unchanged(server, sleeps):
    client = client_for(server, sleeps)
    for url in (
        "https://api.twilio.com/2010-04-01/Accounts.json",
        "https://content.twilio.com/v1/ContentAndApprovals?PageSize=1000&Page=1",
        "https://messaging.twilio.com/v2/Channels/Senders",
    ):
        assert (
            client.request("GET", url, params={"Channel": "whatsapp"}, auth=AUTH).status_code == 200
        )
    assert [s.path for s in server.seen] == [
        "/2010-04-01/Accounts.json?Channel=whatsapp",
        "/v1/ContentAndApprovals?PageSize=1000&Page=1&Channel=whatsapp",
        "/v2/Channels/Senders?Channel=whatsapp",
    ]


def test_a_base_url_with_a_path_prefixes_it_and_other_hosts_are_left_alone(server, sleeps):
    client = Transport(base_url=server.url + "/mock/", sleep=sleeps)
    assert client.rewrite("https://api.twilio.com/2010-04-01/Accounts.json?A=1") == (
        f"{server.url}/mock/2010-04-01/Accounts.json?A=1"
    )
    assert client.rewrite("http://127.0.0.1:1/v1/Content") == "http://127.0.0.1:1/v1/Content"
    assert Transport().rewrite("https://api.twilio.com/x") == "https://api.twilio.com/x"


def test_json_bodies_go_as_json_and_others_as_forms(server, sleeps):
    client = client_for(server, sleeps)
    post(client)
    client.request(
        "POST",
        "https://api.twilio.com/2010-04-01/Accounts.json",
        data={"FriendlyName": "wa-sync:acme"},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=AUTH,
    )
    assert json.loads(server.seen[0].body) == {"a": 1}
    assert server.seen[1].body == b"FriendlyName=wa-sync%3Aacme"
    assert server.seen[0].user == AUTH[0]


def test_the_real_sdk_goes_through_it(server, sleeps):
    server.then(Reply(204))
    sdk = Client(AUTH[0], TOKEN, http_client=client_for(server, sleeps))
    assert sdk.content.v1.contents("HX" + "0" * 32).delete() is True
    assert server.seen[0].method == "DELETE"
    assert server.seen[0].path == "/v1/Content/HX" + "0" * 32


def test_compressed_answers_are_decoded(server, sleeps):
    body = json.dumps({"sid": "HX1", "text": "é" * 50}).encode()
    server.then(Reply(raw=gzip.compress(body), headers={"Content-Encoding": "gzip"}))
    assert json.loads(get(client_for(server, sleeps)).text) == {"sid": "HX1", "text": "é" * 50}
    assert "gzip" in server.seen[0].headers["Accept-Encoding"]


def test_keep_alive_connections_are_reused(server, sleeps):
    client = client_for(server, sleeps)
    get(client)
    get(client)
    assert len({seen.peer for seen in server.seen}) == 1


def test_a_connection_the_server_closed_while_idle_is_not_used(server, sleeps):
    """A POST on a dead keep-alive connection would have an unknown outcome."""
    server.then(Reply(close_after=True), Reply(201))
    client = client_for(server, sleeps)
    get(client)
    assert server.closed.wait(5)
    assert post(client).status_code == 201
    assert len({seen.peer for seen in server.seen}) == 2


# --- the retry policy ------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(server, sleeps):
    server.then(Reply(429, {"code": 20429}, {"Retry-After": "3"}), Reply(200, {"ok": True}))
    assert get(client_for(server, sleeps)).status_code == 200
    assert sleeps == [3.0]
    assert len(server.seen) == 2


def test_retry_after_is_capped(server, sleeps):
    server.then(Reply(429, headers={"Retry-After": "3600"}), Reply(200))
    assert get(client_for(server, sleeps)).status_code == 200
    assert sleeps == [60.0]


def test_429_without_retry_after_backs_off_exponentially(server, sleeps):
    server.then(Reply(429), Reply(429), Reply(429), Reply(200))
    assert get(client_for(server, sleeps)).status_code == 200
    assert len(sleeps) == 3
    assert sleeps[1] < sleeps[2] <= 20.0


def test_a_post_is_resent_after_429_because_twilio_did_not_process_it(server, sleeps):
    server.then(Reply(429, headers={"Retry-After": "0"}), Reply(201, {"sid": "HX1"}))
    assert post(client_for(server, sleeps)).status_code == 201
    assert [s.method for s in server.seen] == ["POST", "POST"]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_gets_and_deletes_are_retried_on_5xx(server, sleeps, method, status):
    server.then(Reply(status), Reply(204 if method == "DELETE" else 200))
    url = "https://content.twilio.com/v1/Content/HX1"
    assert client_for(server, sleeps).request(method, url, auth=AUTH).status_code < 300
    assert len(server.seen) == 2


def test_a_5xx_that_repeats_is_named_with_its_status(server, sleeps):
    server.then(*[Reply(500, {"code": 20500, "message": "Oops"})] * 10)
    with pytest.raises(GaveUp) as caught:
        get(client_for(server, sleeps, attempts=3))
    assert str(caught.value) == (
        "GET /v1/Content: Twilio answered 500 Internal Server Error 3 times: Oops"
    )
    assert len(server.seen) == 3


def test_4xx_other_than_429_is_not_retried(server, sleeps):
    server.then(Reply(404, {"code": 20404}))
    assert get(client_for(server, sleeps)).status_code == 404
    assert len(server.seen) == 1


def test_a_dropped_or_timed_out_get_is_retried(server, sleeps):
    server.then(Reply(drop=True), Reply(delay=1.0), Reply(200))
    assert get(client_for(server, sleeps, timeout=0.3)).status_code == 200
    assert len(server.seen) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_post_with_5xx_is_not_resent(server, sleeps, status):
    server.then(Reply(status, headers={"Retry-After": "4"}), Reply(201))
    with pytest.raises(OutcomeUnknown) as caught:
        post(client_for(server, sleeps))
    assert len(server.seen) == 1
    assert caught.value.status == status
    assert caught.value.path == "/v1/Content"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [(Reply(drop=True), "connection dropped"), (Reply(delay=1.0), "no answer within")],
    ids=["dropped", "timed out"],
)
def test_a_post_whose_answer_is_lost_is_not_resent(server, sleeps, reply, reason):
    server.then(reply, Reply(201))
    with pytest.raises(OutcomeUnknown, match=reason):
        post(client_for(server, sleeps, timeout=0.3))
    assert len(server.seen) == 1


def test_a_refused_connection_is_retried_even_for_a_post_then_gives_up(sleeps):
    client = Transport(base_url=f"http://127.0.0.1:{free_port()}", sleep=sleeps, attempts=3)
    with pytest.raises(Unreachable, match="no connection could be made"):
        post(client)
    assert len(sleeps) == 2


# --- a signal the command recorded ------------------------------------------------------


class Signalled(Exception):
    """What the command's checkpoint raises (Interrupted, in wa-sync)."""


class Checkpoint:
    """Raises once a signal is recorded, as a command's checkpoint does; `passes`: the
    signal is recorded after that many calls."""

    def __init__(self, passes: int | None = None) -> None:
        self.recorded = threading.Event()
        self.passes = passes

    def __call__(self) -> None:
        if self.passes is not None:
            self.passes -= 1
            if self.passes < 0:
                self.recorded.set()
        if self.recorded.is_set():
            raise Signalled()


def test_a_recorded_signal_sends_no_further_request(server, sleeps):
    checkpoint = Checkpoint()
    client = client_for(server, sleeps, checkpoint=checkpoint)
    assert get(client).status_code == 200
    checkpoint.recorded.set()
    with pytest.raises(Signalled):
        get(client)
    assert len(server.seen) == 1


def test_a_signal_recorded_during_an_attempt_stops_the_retries(server, sleeps):
    checkpoint = Checkpoint(passes=1)  # the request goes, the signal comes before its answer
    server.then(Reply(429, headers={"Retry-After": "3"}), Reply(200))
    with pytest.raises(Signalled):
        get(client_for(server, sleeps, checkpoint=checkpoint))
    assert sleeps == []
    assert len(server.seen) == 1


def _ended_in_its_wait(server, send, then) -> BaseException | None:
    """What `send()` (a request Twilio answers 429, Retry-After 60) raised once `then()`
    ran while it waited to try again."""
    with ThreadPoolExecutor(1) as pool:
        request = pool.submit(send)
        while not server.seen:
            time.sleep(0.01)
        then()
        return request.exception(timeout=30)


def test_a_signal_ends_the_wait_before_a_retry(server):
    # Retry-After 60 s, repeated: without a wait the signal ends, the request would only
    # stop after four of them
    checkpoint = Checkpoint()
    server.then(*[Reply(429, headers={"Retry-After": "60"})] * 4)
    client = Transport(base_url=server.url, attempts=4, timeout=2.0, checkpoint=checkpoint)
    signalled = _ended_in_its_wait(server, lambda: get(client), checkpoint.recorded.set)
    assert isinstance(signalled, Signalled), signalled
    assert len(server.seen) == 1


def test_once_apply_stops_starting_writes_a_wait_before_a_retry_ends_the_request(server):
    # a first signal while writing: the write in flight finishes within the request
    # timeout, not after four waits of Retry-After 60; Twilio made none of it (429)
    stopping = threading.Event()
    server.then(*[Reply(429, headers={"Retry-After": "60"})] * 4)
    client = Transport(base_url=server.url, attempts=4, timeout=2.0, stopping=stopping.is_set)
    refused = _ended_in_its_wait(server, lambda: post(client), stopping.set)
    assert isinstance(refused, GaveUp), refused
    assert "429 Too Many Requests (not tried again: apply is stopping)" in str(refused)
    assert len(server.seen) == 1


def test_closing_the_transport_ends_a_request_left_behind_in_its_wait_before_a_retry(server):
    # a read its command left behind (docs/reliability.md #127) held the process's exit
    # for Twilio's Retry-After; none starts on the closed transport, while its twin (the
    # apply lock's, closed once the lock is released) goes on
    server.then(Reply(429, headers={"Retry-After": "60"}))
    client = Transport(base_url=server.url, attempts=4, timeout=2.0)
    twin = client.twin()
    closed = _ended_in_its_wait(server, lambda: get(client), client.close)
    assert isinstance(closed, Closed), closed
    with pytest.raises(Closed):
        get(client)
    assert len(server.seen) == 1
    assert get(twin).status_code == 200


def test_the_lock_s_twin_has_no_checkpoint(server, sleeps):
    # the apply lock's release goes on after a signal stopped the estate's requests
    checkpoint = Checkpoint()
    checkpoint.recorded.set()
    twin = client_for(server, sleeps, checkpoint=checkpoint).twin()
    assert get(twin).status_code == 200


# --- answers that are not Twilio's --------------------------------------------------------


def test_an_html_answer_names_the_status_and_what_came(server, sleeps):
    html = b"<html><body>Bad gateway</body></html>"
    server.then(Reply(raw=html, headers={"X": "1"}))
    with pytest.raises(BadAnswer) as caught:
        get(client_for(server, sleeps))
    message = str(caught.value)
    assert "Twilio answered 200 OK with application/json that is not a JSON object" in message
    assert "<html><body>Bad gateway" in message


def test_a_server_that_trickles_its_answer_cannot_hold_a_request(sleeps):
    trickler = Trickler(b'{"contents": []}' + b" " * 200, every=0.05)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(trickler.serve_one)
        client = Transport(base_url=trickler.url, sleep=sleeps, attempts=1, timeout=0.5)
        with pytest.raises(BadAnswer, match="too slow"):
            get(client)
        trickler.sock.close()


def test_a_truncated_answer_names_the_status_and_how_much_came(sleeps):
    trickler = Trickler(b'{"contents": [', every=0, length=500)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(trickler.serve_one)
        client = Transport(base_url=trickler.url, sleep=sleeps, attempts=1, timeout=5)
        with pytest.raises(BadAnswer, match=r"incomplete \(200 OK, cut off after 14 bytes\)"):
            get(client)
        trickler.sock.close()


# --- concurrency and pacing -----------------------------------------------------------------


def test_in_flight_requests_are_capped_per_account_and_in_all(server, sleeps):
    server.hold = 0.15
    client = client_for(server, sleeps, per_account=2, parallelism=3)
    other = ("AC" + "2" * 32, "another-token")

    def call(i: int) -> int:
        auth = AUTH if i % 2 else other
        return client.request("GET", "https://api.twilio.com/x.json", auth=auth).status_code

    with ThreadPoolExecutor(12) as pool:
        assert set(pool.map(call, range(12))) == {200}
    assert server.max_active_by_user[AUTH[0]] == 2
    assert server.max_active_by_user[other[0]] == 2
    assert server.max_active == 3  # two accounts, two each, three at most in all


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("GET", "/v1/ContentAndApprovals", "list"),
        ("GET", "/v1/Content", "list"),
        ("GET", "/v1/Content/HX1", "fetch"),
        ("GET", "/v1/Content/HX1/ApprovalRequests", "fetch"),
        ("POST", "/v1/Content", "create"),
        ("POST", "/v1/Content/HX1/ApprovalRequests/whatsapp", "create"),
        ("PUT", "/v1/Content/HX1", "update"),
        ("DELETE", "/v1/Content/HX1", "delete"),
        ("GET", "/v2/Channels/Senders", None),
        ("POST", "/2010-04-01/Accounts.json", None),
    ],
)
def test_endpoint_classes_are_twilios(method, path, kind):
    assert endpoint_class(method, path) == kind


def test_requests_of_one_account_and_class_are_spaced_below_the_limit(server, sleeps):
    client = client_for(server, sleeps, limits={"list": 10.0})
    for _ in range(4):
        get(client)  # a list: 10 a second, paced at 9
    client.request("GET", "https://api.twilio.com/x.json", auth=AUTH)  # not limited
    # the recorder does not sleep: each later request is put off further, a ninth apart
    assert len(sleeps) == 3
    assert sleeps == sorted(set(sleeps))
    assert sleeps[-1] <= 3 / 9


# --- secrets ---------------------------------------------------------------------------


def test_credentials_appear_in_no_log_and_no_exception(server, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    server.then(Reply(429), Reply(500), Reply(200), Reply(500))
    client = client_for(server, sleeps)
    get(client)
    with pytest.raises(OutcomeUnknown) as caught:
        post(client)
    assert TOKEN not in caplog.text
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert "attempt 1/4 GET /v1/Content: 429 Too Many Requests" in caplog.text
