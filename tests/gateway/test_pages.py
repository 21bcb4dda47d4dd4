"""PageReader over real HTTP on loopback: paging, framing, retries, caps, credentials."""

from __future__ import annotations

import base64
import gzip
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from twilio.rest import Client

from tests.gateway.scripted import Reply, ScriptedServer, Sleeps
from wa_sync.errors import WaSyncError
from wa_sync.gateway.http import RetryingHttpClient, Unreachable
from wa_sync.gateway.pages import PageFailure, PageReader, next_page_url, page_records
from wa_sync.gateway.twilio import twilio_url

TOKEN = "s3cr3t-token-value-0123456789abcd"
AUTH = ("AC" + "1" * 32, TOKEN)
CONTENTS = "https://content.twilio.com/v1/ContentAndApprovals"


def reader_for(url: str, sleeps: Sleeps, *, width: int = 4, **kw) -> PageReader:
    kw.setdefault("max_attempts", 3)
    kw.setdefault("timeout", 2.0)
    client = RetryingHttpClient(base_url=url, sleep=sleeps, rng=random.Random(7), **kw)
    return PageReader(client, width=width)


@pytest.fixture
def readers(sleeps) -> Iterator[Callable[..., PageReader]]:
    """Makes readers (`reader_for` with the test's sleeps), closed after the test."""
    made: list[PageReader] = []

    def make(url: str, **kw) -> PageReader:
        made.append(reader_for(url, sleeps, **kw))
        return made[-1]

    yield make
    for pages in made:
        pages.close()


@pytest.fixture
def reader(server, readers) -> PageReader:
    return readers(server.url)


def page(records: list[dict], following: str | None = None) -> dict:
    return {"contents": records, "meta": {"key": "contents", "next_page_url": following}}


def read(reader: PageReader, url: str = CONTENTS, **kw) -> tuple:
    return reader.listing(url, AUTH, {"PageSize": 2}, **kw).result(timeout=10)


# --- what is asked, and how pages are followed ---------------------------------------


def test_a_listing_is_asked_as_twilio_is_with_the_accounts_own_credentials(server, reader):
    server.then(Reply(body=page([{"sid": "HX1"}])))
    assert read(reader) == ({"sid": "HX1"},)
    (seen,) = server.seen
    assert (seen.method, seen.path) == ("GET", "/v1/ContentAndApprovals?PageSize=2")
    assert seen.user == AUTH[0]
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["User-Agent"].startswith("wa-sync/")


def test_every_page_is_read_in_order_through_next_page_url(server, reader):
    second = "https://content.twilio.com/v1/ContentAndApprovals?PageSize=2&Page=1&PageToken=PT1"
    server.then(Reply(body=page([{"sid": "HX1"}, {"sid": "HX2"}], second)))
    server.then(Reply(body=page([{"sid": "HX3"}])))
    assert [r["sid"] for r in read(reader)] == ["HX1", "HX2", "HX3"]
    assert [s.path for s in server.seen] == [
        "/v1/ContentAndApprovals?PageSize=2",
        "/v1/ContentAndApprovals?PageSize=2&Page=1&PageToken=PT1",
    ]


def test_a_listings_next_page_goes_before_the_listings_asked_for_after_it(server, readers):
    """The account listing's first page starts every subaccount's listings; its next
    page must not wait behind them all (the plan needs the whole account listing)."""
    server.hold = 0.05
    following = f"{CONTENTS}?PageSize=2&Page=1"
    server.then(Reply(body=page([{"sid": "HX1"}], following)))
    server.then(*[Reply(body=page([]))] * 4)
    reader = readers(server.url, width=1)
    first = reader.listing(CONTENTS, AUTH, {"PageSize": 2})
    others = [reader.listing(f"{CONTENTS}?Other={i}", AUTH) for i in range(3)]
    assert first.result(timeout=10) == ({"sid": "HX1"},)
    assert all(f.result(timeout=10) == () for f in others)
    # the freed connection takes the next in line before the page is parsed: the next
    # page goes on the one after, ahead of the other two (last, if put at the end)
    assert [s.path.removeprefix("/v1/ContentAndApprovals?") for s in server.seen] == [
        "PageSize=2",
        "Other=0",
        "PageSize=2&Page=1",
        "Other=1",
        "Other=2",
    ]


def test_the_2010_apis_next_page_uri_is_followed_on_the_same_host(server, reader):
    first = {"accounts": [{"sid": "AC1"}], "next_page_uri": "/2010-04-01/Accounts.json?Page=1"}
    server.then(Reply(body=first), Reply(body={"accounts": [{"sid": "AC2"}], "end": 1}))
    url = "https://api.twilio.com/2010-04-01/Accounts.json"
    assert [r["sid"] for r in read(reader, url)] == ["AC1", "AC2"]
    assert server.seen[1].path == "/2010-04-01/Accounts.json?Page=1"


def test_each_page_is_converted_as_it_arrives_and_a_failing_conversion_is_the_callers(
    server, reader
):
    server.then(Reply(body=page([{"sid": "HX1"}], f"{CONTENTS}?Page=1")))
    server.then(Reply(body=page([{"sid": "HX2"}])))
    seen: list[list[str]] = []

    def sids(records: list[dict]) -> list[str]:
        seen.append([r["sid"] for r in records])
        return [r["sid"].lower() for r in records]

    assert read(reader, convert=sids) == ("hx1", "hx2")
    assert seen == [["HX1"], ["HX2"]]
    server.then(Reply(body=page([{"no": "sid"}])))
    with pytest.raises(KeyError):
        read(reader, convert=sids)


def test_a_long_page_is_converted_in_parts_between_looks_at_the_sockets(server, reader):
    """The account listing's page of 1,000 starts 2,000 listings: converted a part at a
    time, so the first of them go out while the rest are converted."""
    long = [{"sid": f"HX{i}"} for i in range(120)]
    server.then(Reply(body=page(long, f"{CONTENTS}?Page=1")), Reply(body=page([{"sid": "X"}])))
    parts: list[int] = []

    def counted(records: list[dict]) -> list[str]:
        parts.append(len(records))
        return [r["sid"] for r in records]

    assert read(reader, convert=counted) == (*(r["sid"] for r in long), "X")
    assert parts == [50, 50, 20, 1]


def test_a_short_page_is_not_held_behind_a_long_page_being_converted(server, reader):
    server.then(Reply(body=page([{"sid": f"HX{i}"} for i in range(500)])))
    server.then(Reply(body=page([{"sid": "XE1"}])))
    order: list[str] = []

    def slowly(records: list[dict]) -> list[str]:  # 10 parts of 5 ms
        time.sleep(0.005)
        order.append("long")
        return [r["sid"] for r in records]

    def at_once(records: list[dict]) -> list[str]:
        order.append("short")
        return [r["sid"] for r in records]

    long = reader.listing(CONTENTS, AUTH, convert=slowly)
    for _ in range(500):  # the server answers in order: the long page's request first
        if server.seen:
            break
        time.sleep(0.01)
    short = reader.listing(CONTENTS, AUTH, convert=at_once)
    assert len(long.result(timeout=10)) == 500
    assert short.result(timeout=10) == ("XE1",)
    assert order.index("short") < len(order) - 1  # before the long page's last part


@pytest.mark.parametrize(
    ("payload", "records"),
    [
        ({"meta": {"key": "senders"}, "senders": [{"sid": "XE1"}]}, [{"sid": "XE1"}]),
        ({"accounts": [{"sid": "AC1"}], "page": 0, "uri": "/x"}, [{"sid": "AC1"}]),
        ({"Resources": [{"id": 1}], "a": 1, "b": 2}, [{"id": 1}]),
    ],
)
def test_records_are_found_where_the_sdk_finds_them(payload, records):
    assert page_records(payload) == records


@pytest.mark.parametrize("payload", [[], {"a": [], "b": []}, {"contents": {"sid": "HX1"}}])
def test_a_page_without_a_list_of_records_is_refused(payload):
    with pytest.raises(ValueError, match=r"not a JSON object|no list of records"):
        page_records(payload)


def test_the_next_page_url_comes_from_meta_or_from_the_2010_uri():
    assert next_page_url({"meta": {"next_page_url": None}}, CONTENTS) is None
    assert next_page_url(
        {"next_page_uri": "/2010-04-01/A.json?Page=2"}, "https://api.twilio.com/2010-04-01/A.json"
    ) == ("https://api.twilio.com/2010-04-01/A.json?Page=2")


def test_a_200_that_is_not_a_page_fails_clearly(server, reader):
    server.then(Reply(raw=b"<html>maintenance</html>"))
    with pytest.raises(PageFailure, match="HTTP 200") as caught:
        read(reader)
    assert "not a page of Twilio records" in caught.value.text


# --- framing of the answers ------------------------------------------------------------


class RawServer:
    """Answers each request on a connection with the next of `answers`, bytes as they
    are, then closes the connection when `close` is set."""

    def __init__(self, answers: list[bytes], *, close: bool = False):
        self.answers = list(answers)
        self.close = close
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.answers:
            connection, _ = self.listener.accept()
            with connection:
                while self.answers:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        chunk = connection.recv(4096)
                        if not chunk:
                            break
                        request += chunk
                    if not request:
                        break
                    connection.sendall(self.answers.pop(0))
                    if self.close:
                        break


def test_chunked_and_close_delimited_answers_are_read_whole(readers):
    body = b'{"contents": [{"sid": "HX1"}], "meta": {"key": "contents"}}'
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"%x;ext=1\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:]))
        + b"0\r\nX-Trailer: 1\r\n\r\n"
    )
    server = RawServer([chunked])
    reader = readers(server.url)
    assert read(reader) == ({"sid": "HX1"},)
    server = RawServer([b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body], close=True)
    reader = readers(server.url)
    assert read(reader) == ({"sid": "HX1"},)


def test_a_garbled_answer_is_a_transport_failure_retried_then_unreachable(sleeps, readers):
    server = RawServer([b"NOT HTTP AT ALL\r\n\r\n"] * 3, close=True)
    reader = readers(server.url)
    with pytest.raises(Unreachable, match=r"connection dropped \(after 3 attempts\)"):
        read(reader)
    assert len(sleeps) == 2


def test_compressed_answers_are_decoded_and_an_undecodable_one_is_a_transport_failure(
    server, reader, sleeps
):
    body = gzip.compress(b'{"contents": [{"sid": "HX1"}], "meta": {"key": "contents"}}')
    server.then(Reply(raw=body, headers={"Content-Encoding": "gzip"}))
    assert read(reader) == ({"sid": "HX1"},)
    server.then(*[Reply(raw=b"not gzip", headers={"Content-Encoding": "gzip"})] * 3)
    with pytest.raises(Unreachable, match="undecodable response body"):
        read(reader)


# --- retries ---------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(server, reader, sleeps):
    server.then(Reply(429, headers={"Retry-After": "3"}), Reply(body=page([{"sid": "HX1"}])))
    assert read(reader) == ({"sid": "HX1"},)
    assert sleeps == [3.0]
    assert len(server.seen) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_and_the_last_answer_is_the_failure(server, reader, sleeps, status):
    body = {"code": 20500, "message": "Internal Server Error"}
    server.then(*[Reply(status, body=body)] * 3)
    with pytest.raises(PageFailure) as caught:
        read(reader)
    assert caught.value.status == status
    assert '"code": 20500' in caught.value.text
    assert len(server.seen) == 3
    assert len(sleeps) == 2


def test_4xx_other_than_429_is_not_retried(server, reader, sleeps):
    server.then(Reply(404, body={"code": 20404, "message": "not found"}))
    with pytest.raises(PageFailure) as caught:
        read(reader)
    assert caught.value.status == 404
    assert (len(server.seen), sleeps) == (1, [])


def test_a_dropped_connection_is_retried(server, reader, sleeps):
    server.then(Reply(drop=True), Reply(body=page([{"sid": "HX1"}])))
    assert read(reader) == ({"sid": "HX1"},)
    assert len(sleeps) == 1


def test_a_read_timeout_is_retried_then_unreachable(server, readers):
    server.then(*[Reply(delay=0.6)] * 2)
    reader = readers(server.url, timeout=0.2, max_attempts=2)
    with pytest.raises(Unreachable, match=r"read timeout \(after 2 attempts\)"):
        read(reader)


def test_a_refused_connection_is_retried_then_unreachable(sleeps, readers):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        url = f"http://127.0.0.1:{taken.getsockname()[1]}"
    reader = readers(url)
    with pytest.raises(Unreachable, match=r"connection refused \(after 3 attempts\)"):
        read(reader)
    assert len(sleeps) == 2


def test_a_connection_that_fails_at_once_is_not_waited_for(readers, monkeypatch):
    """A connect that has failed before the reader hears of it reports back on the
    reader's own thread (the future's callback runs where it is attached): the reader
    must look at that before it waits on its sockets, or it would wait for ever."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        url = f"http://127.0.0.1:{taken.getsockname()[1]}"
    reader = readers(url)

    def at_once(function, *args):
        done: Future = Future()
        try:
            done.set_result(function(*args))
        except Exception as exc:
            done.set_exception(exc)
        return done

    monkeypatch.setattr(ThreadPoolExecutor, "submit", lambda pool, fn, *args: at_once(fn, *args))
    with pytest.raises(Unreachable, match=r"connection refused \(after 3 attempts\)"):
        read(reader)


# --- connections and limits -------------------------------------------------------------


def test_keep_alive_connections_are_reused(server, reader):
    server.then(Reply(body=page([])), Reply(body=page([])))
    read(reader)
    read(reader)
    assert len({seen.peer for seen in server.seen}) == 1


def test_a_connection_the_server_closed_while_idle_is_not_used(server, reader, sleeps):
    server.then(Reply(body=page([]), close_after=True), Reply(body=page([{"sid": "HX1"}])))
    read(reader)
    assert server.closed.wait(5)
    assert read(reader) == ({"sid": "HX1"},)
    assert len({seen.peer for seen in server.seen}) == 2


def test_requests_in_flight_are_capped_per_account_and_by_width(server, readers):
    server.hold = 0.1
    server.then(*[Reply(body=page([]))] * 12)
    reader = readers(server.url, width=5, per_account_limit=2)
    other = ("AC" + "2" * 32, "another-token")
    futures = [reader.listing(CONTENTS, AUTH if i % 2 else other) for i in range(12)]
    assert all(f.result(timeout=10) == () for f in futures)
    assert server.max_active_by_user[AUTH[0]] == 2
    assert server.max_active_by_user[other[0]] == 2
    assert server.max_active == 4


def until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Whether `condition` came true within `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_expected_listings_have_connections_opened_before_they_are_asked_for(server, readers):
    """Against Twilio the subaccounts' listings go to other hosts than the account
    listing: their TLS handshakes happen while the account listing is on its way."""
    reader = readers(server.url, width=4)
    url = f"{server.url}/v1/Listing"
    reader.expect(url, 3)
    assert until(lambda: server.connections == 3)
    time.sleep(0.1)
    assert (server.connections, server.seen) == (3, [])  # as many as expected, no more
    reader.expect(url, 5)
    assert until(lambda: server.connections == 4)  # up to the width
    server.then(*[Reply(body=page([]))] * 6)
    assert all(f.result(timeout=10) == () for f in [reader.listing(url, AUTH) for _ in range(6)])
    assert server.connections == 4  # the listings went on them


def test_connections_for_expected_listings_open_as_the_width_grows(server, readers):
    """`plan` announces the subaccounts' listings while its account listing holds the
    one connection it may have, and sets the width from the settings after."""
    server.hold = 1.0  # long enough for a slow machine to open three connections
    server.then(Reply(body=page([])))
    reader = readers(server.url, width=1)
    first = reader.listing(CONTENTS, AUTH)
    reader.expect(f"{server.url}/v1/Listing", 10)
    time.sleep(0.1)
    assert server.connections == 1
    reader.set_width(4)
    assert until(lambda: server.connections == 4)
    assert not first.done()  # opened while the first listing was on its way
    assert first.result(timeout=10) == ()


def test_a_failed_connection_for_expected_listings_is_not_tried_again(sleeps, readers):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        url = f"http://127.0.0.1:{taken.getsockname()[1]}"
    reader = readers(url, width=4)
    attempts: list[object] = []
    connect = reader._client.connect
    reader._client.connect = lambda *args: attempts.append(args) or connect(*args)
    reader.expect(f"{url}/v1/Listing", 2)
    assert until(lambda: len(attempts) == 2)
    time.sleep(0.2)
    assert len(attempts) == 2  # each failed once, and that was all
    with pytest.raises(Unreachable, match=r"connection refused \(after 3 attempts\)"):
        read(reader, f"{url}/v1/Listing")  # a listing asked for tries as ever


def test_two_origins_go_at_once_rather_than_one_after_the_other(readers):
    """Against Twilio a subaccount's senders and contents are on two hosts: the width is
    shared between them, so neither host's listings wait for all of the other's."""
    arrivals: list[tuple[str, float]] = []

    class Stamped(list):  # a server's `seen`, noting when each request came
        def __init__(self, name: str):
            super().__init__()
            self.name = name

        def append(self, item) -> None:
            arrivals.append((self.name, time.monotonic()))
            super().append(item)

    with ScriptedServer() as senders, ScriptedServer() as contents:
        for name, srv in (("senders", senders), ("contents", contents)):
            srv.hold = 0.05
            srv.seen = Stamped(name)
            srv.then(*[Reply(body=page([]))] * 8)
        reader = readers(senders.url, width=4)  # no twilio.com URL: nothing rewritten
        futures = [reader.listing(f"{srv.url}/v1/Listing", AUTH) for srv in [senders] * 8]
        futures += [reader.listing(f"{contents.url}/v1/Listing", AUTH) for _ in range(8)]
        assert all(f.result(timeout=10) == () for f in futures)
    first_contents = min(t for name, t in arrivals if name == "contents")
    last_senders = max(t for name, t in arrivals if name == "senders")
    assert first_contents < last_senders  # one after the other, they would not overlap
    assert max(senders.max_active, contents.max_active) <= 4


def test_a_slot_held_by_another_transport_of_the_client_is_waited_for(server, readers):
    server.then(Reply(body=page([])))
    reader = readers(server.url, per_account_limit=1)
    slot = reader._client.cap(AUTH[0])
    slot.acquire()
    future = reader.listing(CONTENTS, AUTH)
    with pytest.raises(TimeoutError):
        future.result(timeout=0.2)
    assert server.seen == []
    slot.release()
    assert future.result(timeout=5) == ()


def test_closing_fails_what_is_still_waiting(server, sleeps):
    server.hold = 0.5
    reader = reader_for(server.url, sleeps, width=1)
    futures = [reader.listing(CONTENTS, AUTH) for _ in range(3)]
    reader.close()
    for future in futures:
        with pytest.raises(WaSyncError, match="closed"):
            future.result(timeout=5)
    with pytest.raises(WaSyncError, match="closed"):
        reader.listing(CONTENTS, AUTH).result(timeout=5)


def test_credentials_appear_in_no_log_and_no_exception(server, caplog, readers):
    caplog.set_level(logging.DEBUG)
    server.then(Reply(500), Reply(500), Reply(401, body={"message": "bad"}))
    reader = readers(server.url)
    with pytest.raises(PageFailure) as caught:
        read(reader)
    encoded = base64.b64encode(f"{AUTH[0]}:{TOKEN}".encode()).decode()
    for text in (caplog.text, str(caught.value), repr(caught.value), caught.value.text):
        assert TOKEN not in text
        assert encoded not in text
    assert "retrying GET /v1/ContentAndApprovals after HTTP 500" in caplog.text


# --- URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edge", "region"), [(None, None), ("dublin", None), (None, "ie1"), ("sydney", "au1")]
)
def test_edge_and_region_make_the_hosts_the_sdk_makes(edge, region):
    client = Client("AC" + "1" * 32, "token", edge=edge, region=region)
    for path in (
        "content/v1/ContentAndApprovals",
        "messaging/v2/Channels/Senders",
        "api/2010-04-01/Accounts.json",
    ):
        product, _, rest = path.partition("/")
        expected = client.get_hostname(f"https://{product}.twilio.com/{rest}")
        assert twilio_url(path, edge=edge, region=region) == expected


# --- TLS ------------------------------------------------------------------------------

TLS = Path(__file__).parent.parent / "fixtures" / "tls"  # a self-signed localhost cert


@pytest.fixture
def tls_server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "localhost.pem", TLS / "localhost.key")
    srv.httpd.socket = context.wrap_socket(srv.httpd.socket, server_side=True)
    srv.url = srv.url.replace("http://127.0.0.1", "https://localhost")
    with srv:
        yield srv


def test_answers_come_whole_over_tls_on_one_connection(tls_server, sleeps, monkeypatch, readers):
    """Non-blocking TLS: an answer of many TLS records (and what the TLS layer holds
    decrypted beyond one receive) is read whole, and the connection is kept."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(TLS / "localhost.pem"))
    big = [{"sid": f"HX{i:032d}", "text": "é" * 300} for i in range(300)]  # ~200 kB
    tls_server.then(Reply(body=page(big, f"{CONTENTS}?Page=1")), Reply(body=page([{"sid": "X"}])))
    reader = readers(tls_server.url)
    records = read(reader)
    assert [r["sid"] for r in records] == [r["sid"] for r in big] + ["X"]
    assert len({seen.peer for seen in tls_server.seen}) == 1
    assert sleeps == []


def test_a_certificate_that_is_not_trusted_is_never_sent_the_request(
    tls_server, monkeypatch, readers
):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    reader = readers(tls_server.url, max_attempts=2)
    with pytest.raises(Unreachable, match="TLS certificate verification failed"):
        read(reader)
    assert tls_server.seen == []
