"""Twilio's list endpoints, read on one thread: the reads of a plan.

A plan reads two listings per customer, 2,000 GETs at 1,000 customers, 16 at a time.
Through the twilio SDK and http.client, with a thread per request in flight, each GET
cost this process about 0.9 ms of CPU, most of it the sixteen threads handing the
interpreter lock to one another as their answers came in (and running cold code each
time): the reads went a tenth slower than Twilio answered. Here one thread keeps up
to `width` GETs in flight on keep-alive connections with non-blocking sockets
(`selectors`), and httptools (llhttp, the parser of Node.js) frames the answers:
about a tenth of a millisecond a GET.

The policy is the HTTP client's (`RetryingHttpClient`, whose settings this reads):
URLs rewritten to WA_SYNC_TWILIO_URL, at most `per_account_limit` requests in flight
per account (the same counters as the client's other requests), the idle timeout,
429 and 503 retried after Retry-After, other 5xx and transport failures after
backoff with jitter, and when the attempts run out, the last answer (`PageFailure`)
or `Unreachable`. Connections, with their proxy tunnels and TLS, are made by the
client's own `connect`, on helper threads, so that a handshake never holds up the
answers of the others. Credentials go in the Authorization header only: no log line
and no exception carries one. Listings go in the order they were asked for, except
that a listing's next page goes first: its caller already waits for it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import heapq
import json
import logging
import platform
import selectors
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httptools

from wa_sync import __version__
from wa_sync.errors import WaSyncError
from wa_sync.gateway.http import (
    DEFAULT_TIMEOUT,
    READ_BUFFER_BYTES,
    MalformedResponse,
    Origin,
    RetryingHttpClient,
    Unreachable,
    charset,
    decoded,
    describe,
    parse_retry_after,
    retryable,
)

_log = logging.getLogger("wa_sync.http")

USER_AGENT = f"wa-sync/{__version__} ({platform.system()} {platform.machine()}) " + (
    f"Python/{platform.python_version()}"
)
# The headers of every GET but Host and Authorization, each ending in CRLF.
_HEADERS = (
    f"User-Agent: {USER_AGENT}\r\nAccept: application/json\r\nAccept-Charset: utf-8\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
)
# A page's keys that are not its records (the twilio SDK's Page.META_KEYS).
META_KEYS = frozenset(
    {
        "end",
        "first_page_uri",
        "next_page_uri",
        "last_page_uri",
        "page",
        "page_size",
        "previous_page_uri",
        "total",
        "num_pages",
        "start",
        "uri",
    }
)
# Waiting for a per-account slot that requests on other threads hold: look again after.
_CAP_RECHECK = 0.01
# A page's records are converted this many at a time, between looks at the sockets.
_CONVERT_PART = 50
# At most this much of an answer's head (status line and headers) is accepted.
_MAX_HEAD_BYTES = 64 * 1024


class PageFailure(Exception):
    """The last answer to a page's GET was not 200 (after any retries): its status and
    text, for the caller to read Twilio's error from, as the SDK's Page does."""

    def __init__(self, status: int, text: str):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.text = text


Records = list[dict[str, Any]]


def page_records(payload: Any) -> Records:
    """The records of a page of a Twilio listing, where the SDK's Page finds them:
    under `meta.key`, else under the one key that is not paging metadata."""
    if not isinstance(payload, dict):
        raise ValueError("the page is not a JSON object")
    meta = payload.get("meta")
    if isinstance(meta, dict) and "key" in meta:
        found = payload.get(meta["key"])
    else:
        keys = set(payload) - META_KEYS
        found = payload[keys.pop()] if len(keys) == 1 else payload.get("Resources")
    if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
        raise ValueError("the page holds no list of records")
    return found


def next_page_url(payload: Mapping[str, Any], url: str) -> str | None:
    """The URL of the page after `payload` (read from `url`): Twilio's newer APIs give
    `meta.next_page_url`, the 2010 API a `next_page_uri` on the same host."""
    meta = payload.get("meta")
    if isinstance(meta, dict) and "next_page_url" in meta:
        return meta["next_page_url"] or None
    uri = payload.get("next_page_uri")
    return urljoin(url, uri) if uri else None


@dataclass(eq=False)
class _Listing:
    """One paged listing: its records so far and who waits for them."""

    future: Future[tuple[Any, ...]]
    username: str
    authorization: str
    convert: Callable[[Records], Sequence[Any]]
    items: list[Any] = field(default_factory=list)


@dataclass(eq=False)
class _Conversion:
    """A page read whose records are converted a part at a time: the account listing's
    page of 1,000 starts two listings each, and the first of those go out meanwhile."""

    listing: _Listing
    records: Records
    following: str | None  # the next page's URL
    done: int = 0


@dataclass(eq=False)
class _Get:
    """One GET of a page; `attempt` counts from 1."""

    url: str  # as Twilio names it (the next page's link, say)
    listing: _Listing
    attempt: int = 1
    route: _Route | None = None  # set once it is queued

    @property
    def origin(self) -> Origin:
        assert self.route is not None
        return self.route.origin


@dataclass(frozen=True)
class _Route:
    """Where a URL's GET goes (RetryingHttpClient.rewrite and .route) and the head of
    its request but the Authorization; worked out once per URL a reader is asked for
    (every subaccount's listing of one kind has the same)."""

    sent_url: str
    origin: Origin
    head: str  # request line and headers, each ending in CRLF


@dataclass(eq=False)
class _Exchange:
    """A GET on a connection: what is still to send, and the answer as it comes."""

    get: _Get
    outgoing: bytes
    started: float
    deadline: float
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: list[bytes] = field(default_factory=list)
    head_bytes: int = 0
    headers_done: bool = False
    complete: bool = False
    keep_alive: bool = False
    parser: Any = None

    # httptools' callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_bytes += len(name) + len(value)
        if self.head_bytes > _MAX_HEAD_BYTES:
            raise MalformedResponse("an answer's head is too long")
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if 100 <= self.status < 200:  # an interim answer: the real one follows
            self.headers.clear()
            return
        self.headers_done = True

    def on_body(self, chunk: bytes) -> None:
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        if self.headers_done:
            self.complete = True
            # asked here: once the message is over, llhttp answers for the next one
            self.keep_alive = self.parser.should_keep_alive()

    def ends_at_close(self) -> bool:
        """An answer without a length, whose body ends when the server closes."""
        chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        return self.headers_done and "content-length" not in self.headers and not chunked


@dataclass(eq=False)
class _Connection:
    origin: Origin
    sock: socket.socket
    close: Callable[[], None]  # closes what made the socket too (http.client's object)
    exchange: _Exchange | None = None


class PageReader:
    """Reads listings for any thread; see the module's docstring. `listing` starts one
    and returns a future of its records; `close` stops everything."""

    def __init__(self, client: RetryingHttpClient, *, width: int):
        self._client = client
        self._width = max(1, width)
        self._lock = threading.Lock()
        self._incoming: deque[tuple[str, Any]] = deque()  # from other threads
        self._wake_in, self._wake_out = socket.socketpair()
        self._wake_in.setblocking(False)
        self._wake_out.setblocking(False)
        self._thread: threading.Thread | None = None
        self._closed = False
        # the loop's own state, touched by its thread only
        self._selector = selectors.DefaultSelector()
        self._pending: dict[Origin, deque[_Get]] = {}  # to send, per origin
        self._slotless: list[_Get] = []  # waiting for a per-account slot held elsewhere
        self._converting: deque[_Conversion] = deque()  # pages read, their records not all
        self._timers: list[tuple[float, int, _Get]] = []
        self._order = 0
        self._idle: dict[Origin, list[_Connection]] = {}
        self._opening: dict[Origin, int] = {}
        self._open = 0  # connections open or being opened
        self._open_to: dict[Origin, int] = {}  # the same, per origin
        self._busy: set[_Connection] = set()
        self._routes: dict[str, _Route] = {}
        self._expected: dict[Origin, int] = {}  # listings announced (`expect`), not asked
        self._connector: ThreadPoolExecutor | None = None
        self._shut_down = False

    # --- for any thread --------------------------------------------------------------

    def listing(
        self,
        url: str,
        auth: tuple[str, str],
        params: Mapping[str, object] | None = None,
        convert: Callable[[Records], Sequence[Any]] = tuple,
    ) -> Future[tuple[Any, ...]]:
        """Every record of the listing at `url` (Twilio's URL, with `params` as its
        query), all its pages, read as `auth` (username, secret). `convert` turns a
        page's records into items, a part at a time as the page arrives, on the
        reading thread, before the next page is asked for; the future gives every
        page's items in order. It fails with PageFailure, Unreachable, WaSyncError,
        or what `convert` raised."""
        if params:
            url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        future: Future[tuple[Any, ...]] = Future()
        listing = _Listing(future, auth[0], f"Basic {token}", convert)
        self._post("get", _Get(url, listing))
        return future

    def expect(self, url: str, count: int) -> None:
        """About `count` listings of `url` will be asked for soon: open connections
        for them now (up to their share of the width, as the width is then), so that
        the handshakes happen while what they wait for is on its way (against Twilio,
        a TLS handshake costs round trips)."""
        if count > 0:
            self._post("expect", (url, count))

    def set_width(self, width: int) -> None:
        """At most `width` requests in flight (connections) from now on."""
        self._width = max(1, width)  # read by the loop when it next opens connections
        self._wake()

    def close(self) -> None:
        """Stop: the listings not done fail, every connection is closed."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        self._wake()
        if thread is None:
            self._shut()
        elif thread is not threading.current_thread():
            thread.join(timeout=5)

    def _post(self, kind: str, item: Any) -> None:
        with self._lock:
            if self._closed:
                closed = True
            else:
                closed = False
                self._incoming.append((kind, item))
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="wa-sync-pages", daemon=True
                    )
                    self._thread.start()
        if closed:
            if kind == "get":
                _fail(item.listing, WaSyncError("the Twilio gateway is closed"))
            elif kind == "connected" and item[1] is not None:
                item[1].close()
            return
        if threading.current_thread() is not self._thread:  # the loop looks before waiting
            self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # already woken, or closed
            self._wake_out.send(b"\0")

    # --- the loop --------------------------------------------------------------------

    def _run(self) -> None:
        self._selector.register(self._wake_in, selectors.EVENT_READ, None)
        try:
            while True:
                if not self._take_incoming():
                    return
                now = time.monotonic()
                while self._timers and self._timers[0][0] <= now:
                    self._queue(heapq.heappop(self._timers)[2])
                if self._converting:  # before dispatching: it may ask for the next page
                    self._convert_part()
                self._dispatch(now)
                for key, mask in self._selector.select(self._wait(now)):
                    if key.data is None:
                        self._drain_wake()
                    else:
                        self._on_ready(key.data, mask)
                self._expire(time.monotonic())
        finally:
            self._shut()

    def _take_incoming(self) -> bool:
        with self._lock:
            if self._closed:
                return False
            items = list(self._incoming)
            self._incoming.clear()
        for kind, item in items:
            if kind == "get":
                self._queue(item)
            elif kind == "expect":
                self._expect(*item)
            else:
                self._connected(*item)
        return True

    def _drain_wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            while self._wake_in.recv(4096):
                pass

    def _wait(self, now: float) -> float | None:
        """How long select may wait: until the next timer or deadline."""
        if self._converting or self._incoming:
            # the next part to convert; or what this thread posted itself since it last
            # looked (a connection that failed at once reports back on this thread)
            return 0.0
        moments = [when for when, _order, _get in self._timers[:1]]
        moments += [c.exchange.deadline for c in self._busy if c.exchange is not None]
        if self._slotless:
            moments.append(now + _CAP_RECHECK)  # maybe a slot held elsewhere is free
        return max(0.0, min(moments) - now) if moments else None

    def _expect(self, url: str, count: int) -> None:
        try:
            origin = (self._routes.get(url) or self._route(url)).origin
        except WaSyncError:
            return  # a listing of `url` will fail with it
        self._expected[origin] = self._expected.get(origin, 0) + count

    def _queue(self, get: _Get, *, first: bool = False) -> None:
        """Put `get` in line for its origin: last, or `first` (the next page of a
        listing under way, whose caller waits for all of it)."""
        try:
            get.route = self._routes.get(get.url) or self._route(get.url)
        except WaSyncError as exc:  # a proxy setting wa-sync cannot use
            _fail(get.listing, exc)
            return
        self._expected.pop(get.origin, None)  # the listings themselves take over
        line = self._pending.setdefault(get.origin, deque())
        if first:
            line.appendleft(get)
        else:
            line.append(get)

    def _route(self, url: str) -> _Route:
        sent_url = self._client.rewrite(url)
        origin, target, for_proxy = self._client.route(sent_url)
        head = f"GET {target} HTTP/1.1\r\nHost: {urlsplit(sent_url).netloc}\r\n{_HEADERS}"
        head += "".join(f"{name}: {value}\r\n" for name, value in for_proxy.items())
        route = self._routes[url] = _Route(sent_url, origin, head)
        return route

    def _dispatch(self, now: float) -> None:
        """Send what waits, as far as connections and per-account slots allow; open
        connections for the rest, each origin with GETs waiting up to an even share of
        `width` (against Twilio a subaccount's two listings go to two hosts: neither
        waits for all of the other's to be done). An origin with listings expected
        and none asked for yet counts as waiting for as many."""
        for get in reversed(self._slotless):  # first in line again
            self._pending.setdefault(get.origin, deque()).appendleft(get)
        self._slotless.clear()
        waiting = [origin for origin, line in self._pending.items() if line]
        share = -(-self._width // max(1, len(waiting) + len(self._expected)))  # rounded up
        for origin in waiting:
            line, idle = self._pending[origin], self._idle.setdefault(origin, [])
            in_use = self._open_to.get(origin, 0) - len(idle) - self._opening.get(origin, 0)
            while line and idle and in_use < share:  # beyond its share, an idle one goes
                get = line.popleft()
                if not self._client.cap(get.listing.username).acquire(blocking=False):
                    self._slotless.append(get)
                    continue
                self._send(idle.pop(), get, now)
                in_use += 1
            missing = min(
                len(line) - self._opening.get(origin, 0), share - self._open_to.get(origin, 0)
            )
            if missing > 0:
                self._open_connections(origin, missing)
        for origin, count in self._expected.items():
            missing = min(count, share) - self._open_to.get(origin, 0)
            if missing > 0:
                self._open_connections(origin, missing)

    def _open_connections(self, origin: Origin, count: int) -> None:
        """Start opening up to `count` connections to `origin`, closing idle ones to
        other origins when all `width` are open."""
        for _ in range(count):
            if self._open >= self._width and not self._close_one_idle(origin):
                return
            self._open += 1
            self._open_to[origin] = self._open_to.get(origin, 0) + 1
            self._opening[origin] = self._opening.get(origin, 0) + 1
            if self._connector is None:
                self._connector = ThreadPoolExecutor(self._width, "wa-sync-connect")
            timeout = self._client.timeout
            opened = self._connector.submit(self._client.connect, origin, timeout)
            opened.add_done_callback(functools.partial(self._opened, origin))

    def _opened(self, origin: Origin, done: Future[Any]) -> None:  # a helper thread
        error = done.exception()
        self._post("connected", (origin, None if error else done.result(), error))

    def _close_one_idle(self, kept: Origin) -> bool:
        """Close an idle connection to another origin than `kept`, if there is one."""
        for origin, idle in self._idle.items():
            if idle and origin != kept:
                self._drop(idle.pop())
                return True
        return False

    def _connected(self, origin: Origin, made: Any, error: BaseException | None) -> None:
        self._opening[origin] -= 1
        if made is None:
            self._open -= 1
            self._open_to[origin] -= 1
            self._expected.pop(origin, None)  # not tried again before a listing asks
            line = self._pending.get(origin)
            if line:  # the first GET that waits for this origin pays the failed attempt
                self._failed(line.popleft(), describe(error) if error else "connection refused")
            return
        sock = made.sock
        sock.setblocking(False)
        connection = _Connection(origin, sock, made.close)
        self._selector.register(sock, selectors.EVENT_READ, connection)
        self._idle.setdefault(origin, []).append(connection)

    def _send(self, connection: _Connection, get: _Get, now: float) -> None:
        assert get.route is not None
        authorization = f"Authorization: {get.listing.authorization}\r\n\r\n"
        outgoing = (get.route.head + authorization).encode("latin-1")
        exchange = _Exchange(get, outgoing, now, now + self._timeout())
        exchange.parser = httptools.HttpResponseParser(exchange)
        connection.exchange = exchange
        self._busy.add(connection)
        self._write(connection)

    def _timeout(self) -> float:
        return self._client.timeout or DEFAULT_TIMEOUT

    def _write(self, connection: _Connection) -> None:
        exchange = connection.exchange
        assert exchange is not None
        try:
            sent = connection.sock.send(exchange.outgoing)
        except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
            sent = 0
        except OSError as exc:
            self._broken(connection, describe(exc))
            return
        exchange.outgoing = exchange.outgoing[sent:]
        events = selectors.EVENT_READ
        if exchange.outgoing:
            events |= selectors.EVENT_WRITE
        self._selector.modify(connection.sock, events, connection)

    def _on_ready(self, connection: _Connection, mask: int) -> None:
        exchange = connection.exchange
        if exchange is None:  # idle, yet readable: the server closed it
            self._idle[connection.origin].remove(connection)
            self._drop(connection)
            return
        if mask & selectors.EVENT_WRITE and exchange.outgoing:
            self._write(connection)
            if connection.exchange is None or exchange.outgoing:
                return
        if mask & selectors.EVENT_READ:
            self._read(connection, exchange)

    def _read(self, connection: _Connection, exchange: _Exchange) -> None:
        try:
            data = connection.sock.recv(READ_BUFFER_BYTES)
            while isinstance(connection.sock, ssl.SSLSocket) and connection.sock.pending():
                data += connection.sock.recv(connection.sock.pending())
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return
        except OSError as exc:
            self._broken(connection, describe(exc))
            return
        if not data:  # the server closed the connection
            if exchange.ends_at_close():
                exchange.complete = True
                self._answered(connection, exchange, keep=False)
            else:
                self._broken(connection, "connection dropped")
            return
        exchange.deadline = time.monotonic() + self._timeout()
        try:
            exchange.parser.feed_data(data)
        except (httptools.HttpParserError, MalformedResponse):
            self._broken(connection, "connection dropped")
            return
        if exchange.complete:  # (answered before it was all sent: the connection goes)
            keep = exchange.keep_alive and not exchange.outgoing
            self._answered(connection, exchange, keep=keep)

    def _answered(self, connection: _Connection, exchange: _Exchange, *, keep: bool) -> None:
        self._finish(connection, keep=keep)
        if keep:  # the next GET goes out before this answer is worked on
            self._dispatch(time.monotonic())
        get, status = exchange.get, exchange.status
        if _log.isEnabledFor(logging.DEBUG):  # not worked out for every answer otherwise
            path = urlsplit(get.route.sent_url).path if get.route else ""
            elapsed = (time.monotonic() - exchange.started) * 1000
            _log.debug("GET %s -> %s in %.0f ms", path, status, elapsed)
        try:
            body = decoded(b"".join(exchange.body), exchange.headers.get("content-encoding"))
        except MalformedResponse:
            self._failed(get, describe(MalformedResponse()))
            return
        text = body.decode(charset(exchange.headers.get("content-type")), errors="replace")
        if retryable("GET", status) and get.attempt < self._client.max_attempts:
            self._client.log_retry("GET", get.url, f"HTTP {status}", get.attempt)
            retry_after = parse_retry_after(exchange.headers.get("retry-after"))
            self._later(get, self._client.delay(get.attempt, retry_after))
            return
        if status != 200:
            _fail(get.listing, PageFailure(status, text))
            return
        listing = get.listing
        try:
            payload = json.loads(text)
            records = page_records(payload)
        except ValueError as exc:
            _fail(listing, PageFailure(status, f"not a page of Twilio records: {exc}"))
            return
        job = _Conversion(listing, records, next_page_url(payload, get.url))
        if len(records) <= _CONVERT_PART:
            self._convert(job, len(records))  # at once
        else:
            self._converting.append(job)  # a part at a time, between other work

    def _convert_part(self) -> None:
        """The next part of the first long page waiting for it."""
        if self._convert(self._converting[0], _CONVERT_PART):
            self._converting.popleft()

    def _convert(self, job: _Conversion, count: int) -> bool:
        """Convert the next `count` records of `job`; at its end, ask for the page after
        it or settle the listing. True when the job is over (done, or failed)."""
        listing, part = job.listing, job.records[job.done : job.done + count]
        job.done += len(part)
        try:
            listing.items += listing.convert(part)
        except BaseException as exc:  # the caller's to see, as if it had converted
            _fail(listing, exc)
            return True
        if job.done < len(job.records):
            return False
        if job.following:
            # First in line: behind the 2,000 listings that the account listing's first
            # page started, its second page came last, and the plan's diffs, which wait
            # for the whole account listing, all ran after the last answer (0.12-0.21 s).
            self._queue(_Get(job.following, listing), first=True)
        elif listing.future.set_running_or_notify_cancel():
            listing.future.set_result(tuple(listing.items))
        return True

    def _broken(self, connection: _Connection, reason: str) -> None:
        exchange = connection.exchange
        self._finish(connection, keep=False)
        if exchange is not None:
            self._failed(exchange.get, reason)

    def _failed(self, get: _Get, reason: str) -> None:
        """A transport failure of `get`: again after backoff, or Unreachable."""
        if get.attempt >= self._client.max_attempts:
            reason = f"{reason} (after {get.attempt} attempts)"
            _fail(get.listing, Unreachable("GET", get.url, reason))
            return
        self._client.log_retry("GET", get.url, reason, get.attempt)
        self._later(get, self._client.delay(get.attempt))

    def _later(self, get: _Get, delay: float) -> None:
        self._order += 1
        retry = _Get(get.url, get.listing, get.attempt + 1)
        when = time.monotonic() + self._client.deferral(delay)
        heapq.heappush(self._timers, (when, self._order, retry))

    def _finish(self, connection: _Connection, *, keep: bool) -> None:
        """The connection's exchange is over: its slot freed, the connection kept idle
        or closed."""
        exchange, connection.exchange = connection.exchange, None
        self._busy.discard(connection)
        if exchange is not None:
            self._client.cap(exchange.get.listing.username).release()
        if keep:
            self._selector.modify(connection.sock, selectors.EVENT_READ, connection)
            self._idle.setdefault(connection.origin, []).append(connection)
        else:
            self._drop(connection)

    def _drop(self, connection: _Connection) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(connection.sock)
        connection.close()
        self._open -= 1
        self._open_to[connection.origin] -= 1

    def _expire(self, now: float) -> None:
        for connection in [c for c in self._busy if c.exchange and c.exchange.deadline <= now]:
            self._broken(connection, "read timeout")

    def _shut(self) -> None:
        """Fail what is left and close everything (the loop's end)."""
        if self._shut_down:
            return
        self._shut_down = True
        closed = WaSyncError("the Twilio gateway is closed")
        for connection in list(self._busy):
            if connection.exchange is not None:
                _fail(connection.exchange.get.listing, closed)
            self._finish(connection, keep=False)
        waiting = [get for line in self._pending.values() for get in line]
        for get in [*waiting, *self._slotless, *(timer[2] for timer in self._timers)]:
            _fail(get.listing, closed)
        for job in self._converting:
            _fail(job.listing, closed)
        self._converting.clear()
        self._pending.clear()
        self._slotless.clear()
        self._timers.clear()
        for idle in self._idle.values():
            while idle:
                self._drop(idle.pop())
        with self._lock:
            leftovers = list(self._incoming)
            self._incoming.clear()
        for kind, item in leftovers:
            if kind == "get":
                _fail(item.listing, closed)
            elif kind == "connected" and item[1] is not None:
                item[1].close()
        if self._connector is not None:
            self._connector.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(self._wake_in)
        self._selector.close()
        self._wake_in.close()
        self._wake_out.close()


def _fail(listing: _Listing, error: BaseException) -> None:
    if not listing.future.done() and listing.future.set_running_or_notify_cancel():
        listing.future.set_exception(error)
