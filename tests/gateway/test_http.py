"""RetryingHttpClient over real HTTP on loopback: rewriting, retries, POST safety, caps."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import random
import socket
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from twilio.rest import Client

from tests.gateway.scripted import Reply, ScriptedServer, Sleeps
from wa_sync.errors import WaSyncError
from wa_sync.gateway.http import (
    OutcomeUnknown,
    RetryingHttpClient,
    Unreachable,
    parse_retry_after,
    validate_base_url,
)

TOKEN = "s3cr3t-token-value-0123456789abcd"
AUTH = ("AC" + "1" * 32, TOKEN)


def client_for(server: ScriptedServer, sleeps: Sleeps, **kw) -> RetryingHttpClient:
    kw.setdefault("max_attempts", 4)
    kw.setdefault("timeout", 2.0)
    return RetryingHttpClient(base_url=server.url, sleep=sleeps, rng=random.Random(7), **kw)


def get(client: RetryingHttpClient, path: str = "/v1/Content", **kw):
    return client.request("GET", f"https://content.twilio.com{path}", auth=AUTH, **kw)


def post(client: RetryingHttpClient, path: str = "/v1/Content", **kw):
    headers = {"Content-Type": "application/json"}
    return client.request(
        "POST", f"https://content.twilio.com{path}", data={"a": 1}, headers=headers, auth=AUTH, **kw
    )


# --- URL rewriting -----------------------------------------------------------------


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


def test_a_base_url_with_a_path_prefixes_it(server, sleeps):
    client = RetryingHttpClient(base_url=server.url + "/mock/", sleep=sleeps)
    assert client.rewrite("https://api.twilio.com/2010-04-01/Accounts.json?A=1") == (
        f"{server.url}/mock/2010-04-01/Accounts.json?A=1"
    )
    # a URL that already points elsewhere (an emulator's own next-page URL) is left alone
    assert client.rewrite("http://127.0.0.1:1/v1/Content") == "http://127.0.0.1:1/v1/Content"


def test_without_a_base_url_nothing_is_rewritten():
    client = RetryingHttpClient()
    assert client.rewrite("https://api.twilio.com/x") == "https://api.twilio.com/x"


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1:4010", "file:///etc/passwd", "127.0.0.1:4010", "http://", "javascript:x"],
)
def test_a_base_url_that_is_not_http_is_refused(url):
    with pytest.raises(WaSyncError, match=r"WA_SYNC_TWILIO_URL must be an http:// or https://"):
        validate_base_url(url)


def test_the_refusal_never_shows_a_password_in_the_url():
    with pytest.raises(WaSyncError) as caught:
        validate_base_url(f"ftp://user:{TOKEN}@example.com/")
    assert TOKEN not in str(caught.value)
    assert "***@example.com" in str(caught.value)


# --- bodies and auth -----------------------------------------------------------------


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


# --- retries -------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(server, sleeps):
    server.then(Reply(429, {"code": 20429}, {"Retry-After": "3"}), Reply(200, {"ok": True}))
    response = get(client_for(server, sleeps))
    assert response.status_code == 200
    assert sleeps == [3.0]
    assert len(server.seen) == 2


def test_429_without_retry_after_backs_off_with_jitter(server, sleeps):
    server.then(Reply(429), Reply(429), Reply(200))
    client = client_for(server, sleeps, backoff_base=1.0)
    assert get(client).status_code == 200
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 1.0
    assert 0 <= sleeps[1] <= 2.0


def test_retry_after_is_capped(server, sleeps):
    server.then(Reply(429, headers={"Retry-After": "3600"}), Reply(200))
    assert get(client_for(server, sleeps, max_retry_after=5)).status_code == 200
    assert sleeps == [5]


def test_a_post_is_resent_after_429_because_twilio_did_not_process_it(server, sleeps):
    server.then(Reply(429, headers={"Retry-After": "0"}), Reply(201, {"sid": "HX1"}))
    assert post(client_for(server, sleeps)).status_code == 201
    assert [s.method for s in server.seen] == ["POST", "POST"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_get_is_retried_on_5xx(server, sleeps, status):
    server.then(Reply(status), Reply(200))
    assert get(client_for(server, sleeps)).status_code == 200
    assert len(server.seen) == 2


def test_503_honours_retry_after(server, sleeps):
    server.then(Reply(503, headers={"Retry-After": "2"}), Reply(200))
    assert get(client_for(server, sleeps)).status_code == 200
    assert sleeps == [2.0]


def test_attempts_are_bounded_and_the_last_answer_is_returned(server, sleeps):
    server.then(*[Reply(500, {"code": 20500})] * 10)
    response = get(client_for(server, sleeps, max_attempts=3))
    assert response.status_code == 500
    assert len(server.seen) == 3
    assert len(sleeps) == 2


def test_4xx_other_than_429_is_not_retried(server, sleeps):
    server.then(Reply(404, {"code": 20404}))
    assert get(client_for(server, sleeps)).status_code == 404
    assert len(server.seen) == 1


def test_a_dropped_get_is_retried(server, sleeps):
    server.then(Reply(drop=True), Reply(200))
    assert get(client_for(server, sleeps)).status_code == 200
    assert len(server.seen) == 2


def test_a_timed_out_get_is_retried(server, sleeps):
    server.then(Reply(delay=1.0), Reply(200))
    assert get(client_for(server, sleeps, timeout=0.3)).status_code == 200
    assert len(server.seen) == 2


def test_a_delete_is_retried_on_5xx(server, sleeps):
    server.then(Reply(500), Reply(204))
    client = client_for(server, sleeps)
    assert (
        client.request("DELETE", "https://content.twilio.com/v1/Content/HX1", auth=AUTH).status_code
        == 204
    )


# --- POSTs whose outcome is unknown ------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_post_with_5xx_is_not_resent(server, sleeps, status):
    server.then(Reply(status, headers={"Retry-After": "4"}), Reply(201))
    with pytest.raises(OutcomeUnknown) as caught:
        post(client_for(server, sleeps))
    assert len(server.seen) == 1
    assert caught.value.status == status
    assert caught.value.retry_after == 4.0
    assert caught.value.path == "/v1/Content"


def test_a_dropped_post_is_not_resent(server, sleeps):
    server.then(Reply(drop=True), Reply(201))
    with pytest.raises(OutcomeUnknown, match="connection dropped"):
        post(client_for(server, sleeps))
    assert len(server.seen) == 1


def test_a_timed_out_post_is_not_resent(server, sleeps):
    server.then(Reply(delay=1.0), Reply(201))
    with pytest.raises(OutcomeUnknown, match="read timeout"):
        post(client_for(server, sleeps, timeout=0.3))
    assert len(server.seen) == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_is_retried_even_for_a_post_then_gives_up(sleeps):
    client = RetryingHttpClient(
        base_url=f"http://127.0.0.1:{free_port()}", sleep=sleeps, max_attempts=3
    )
    with pytest.raises(Unreachable, match="connection refused"):
        post(client)
    assert len(sleeps) == 2


def test_retry_after_parsing():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# --- concurrency --------------------------------------------------------------------------


def test_in_flight_requests_are_capped_per_account(server, sleeps):
    server.hold = 0.15
    client = client_for(server, sleeps, per_account_limit=2, pool_maxsize=16)
    other = ("AC" + "2" * 32, "another-token")

    def call(i: int) -> int:
        auth = AUTH if i % 2 else other
        url = "https://content.twilio.com/v1/Content"
        return client.request("GET", url, auth=auth).status_code

    with ThreadPoolExecutor(12) as pool:
        assert set(pool.map(call, range(12))) == {200}
    assert server.max_active_by_user[AUTH[0]] == 2
    assert server.max_active_by_user[other[0]] == 2
    assert server.max_active == 4  # two accounts, two each


def test_many_threads_share_one_client(server, sleeps):
    client = client_for(server, sleeps, pool_maxsize=8, per_account_limit=8)
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: get(client).status_code, range(200)))
    assert codes == [200] * 200


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
    assert "retrying GET /v1/Content after HTTP 429" in caplog.text


# --- the transport: keep-alive, encodings, proxies, TLS ---------------------------------


def test_keep_alive_connections_are_reused(server, sleeps):
    client = client_for(server, sleeps)
    get(client)
    get(client)
    assert len({seen.peer for seen in server.seen}) == 1


def test_a_connection_the_server_closed_while_idle_is_not_used(server, sleeps):
    """The server may close an idle keep-alive connection at any time: the next
    request must go on a new one, not fail (a POST would become OutcomeUnknown)."""
    server.then(Reply(close_after=True), Reply(201))
    client = client_for(server, sleeps)
    get(client)
    assert server.closed.wait(5)  # (closing while the next request is sent is a race)
    assert post(client).status_code == 201
    assert sleeps == []  # not retried: never sent on the dead connection
    assert len({seen.peer for seen in server.seen}) == 2


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, no zlib header
    ],
)
def test_compressed_bodies_are_decoded(server, sleeps, encoding, compress):
    body = json.dumps({"sid": "HX1", "text": "é" * 50}).encode()
    server.then(Reply(raw=compress(body), headers={"Content-Encoding": encoding}))
    response = get(client_for(server, sleeps))
    assert json.loads(response.text) == {"sid": "HX1", "text": "é" * 50}
    assert "gzip" in server.seen[0].headers["Accept-Encoding"]


def test_a_body_that_does_not_decompress_is_a_transport_failure(server, sleeps):
    server.then(*[Reply(raw=b"not gzip", headers={"Content-Encoding": "gzip"})] * 4)
    with pytest.raises(Unreachable, match="undecodable response body"):
        get(client_for(server, sleeps))
    assert len(server.seen) == 4


@pytest.fixture
def proxy_env(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        for variant in (name, name.lower()):
            monkeypatch.delenv(variant, raising=False)
    return monkeypatch


def test_a_plain_http_target_goes_through_the_proxy_with_its_credentials(server, sleeps, proxy_env):
    proxy_env.setenv("HTTP_PROXY", server.url.replace("http://", "http://ops:p%40ss@"))
    client = RetryingHttpClient(sleep=sleeps, max_attempts=2, timeout=2.0)
    client.request("GET", "http://api.example.test/v1/Things?x=1", auth=AUTH)
    seen = server.seen[0]
    assert seen.path == "http://api.example.test/v1/Things?x=1"
    assert seen.headers["Host"] == "api.example.test"
    assert seen.headers["Proxy-Authorization"] == "Basic " + base64.b64encode(b"ops:p@ss").decode()


def test_https_through_a_proxy_is_a_tunnel_and_a_refused_one_is_never_sent(
    server, sleeps, proxy_env
):
    """CONNECT refused: nothing reached Twilio, so even a POST may be tried again."""
    server.then(*[Reply(407)] * 3)
    proxy_env.setenv("HTTPS_PROXY", server.url)
    client = RetryingHttpClient(sleep=sleeps, max_attempts=3, timeout=2.0)
    with pytest.raises(Unreachable, match="the proxy refused the tunnel"):
        post(client)
    assert [seen.method for seen in server.seen] == ["CONNECT"] * 3
    assert server.seen[0].path == "content.twilio.com:443"


def test_a_proxy_that_is_not_http_is_refused_clearly(sleeps, proxy_env):
    proxy_env.setenv("HTTPS_PROXY", "socks5://user:secret@proxy.example.test:1080")
    client = RetryingHttpClient(sleep=sleeps, max_attempts=1)
    with pytest.raises(WaSyncError, match="must be an http:// proxy") as caught:
        post(client)
    assert "secret" not in str(caught.value)


def test_https_is_verified_so_a_server_without_tls_never_gets_the_request(server, sleeps):
    client = RetryingHttpClient(
        base_url=server.url.replace("http://", "https://"), sleep=sleeps, max_attempts=2
    )
    with pytest.raises(Unreachable, match="TLS handshake failed"):
        post(client)
    assert server.seen == []  # the TLS hello is no HTTP request


def test_a_page_that_has_arrived_is_read_with_one_receive(monkeypatch, server, sleeps):
    """A page of contents (13 kB) is read through a buffer that holds it: one recv()
    for the whole answer, where http.client's 8 kB buffer takes two."""
    from wa_sync.gateway import http as transport

    body = json.dumps({"contents": ["x" * 100] * 130}).encode()  # about 13 kB
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    receives: list[int] = []
    real_readinto = socket.SocketIO.readinto

    def counted(self, buffer):
        receives.append(len(buffer))
        return real_readinto(self, buffer)

    monkeypatch.setattr(socket.SocketIO, "readinto", counted)
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(head.encode() + body)  # all of it there before the first read
        response = transport._WholePageResponse(ours, method="GET")
        response.begin()
        assert response.read() == body
    assert len(receives) == 1
    client = client_for(server, sleeps)
    get(client)
    (idle,) = client._connections._idle.values()
    assert [c.response_class for c in idle] == [transport._WholePageResponse]
