"""The HTTP client under the twilio SDK: URL rewriting, timeouts, retries, concurrency caps.

The SDK retries nothing by default and never a POST (see shared/notes/twilio-api.md §5),
so every Twilio request of wa-sync follows `RetryingHttpClient`'s policy: the SDK's
writes go through it, and the reads of listings through PageReader (pages.py), which
uses its settings, routes, connections, delays and per-account counters:

- `https://<product>.twilio.com/<path>` goes to `base_url` + `<path>` when a base URL is
  given (`WA_SYNC_TWILIO_URL`, the way Twilio's mock-server guide rewrites URLs);
- 429, and 503 on requests that may be repeated, wait for `Retry-After` (or back off
  when it is absent) and go again;
- other 5xx, timeouts and connection errors back off exponentially with full jitter;
- a POST is re-sent only when Twilio certainly did not act on it: after a 429 ("not
  processed", Twilio error 20429) or when the connection was never made. When its
  outcome is unknown (a 5xx, a read timeout, a dropped connection) the client raises
  `OutcomeUnknown` instead, so that the caller can list and match by identity before
  sending it again: Twilio's POSTs take no idempotency key.
- at most `per_account_limit` requests are in flight per authenticated account
  (Twilio limits concurrency per account), over pooled keep-alive connections.

The transport is the standard library's `http.client` over keep-alive connections
kept per origin (`_Connections`): `requests` (the SDK's default) and then urllib3 under
it each cost about a third of a millisecond of CPU per request, a second over a plan
of 1,000 customers, for features no Twilio call uses (redirects are not followed: the
API answers none). What `requests` did for the SDK is done here too: form and JSON
bodies, HTTP Basic, proxies from the environment (HTTP(S)_PROXY, NO_PROXY, with
user:password; never for loopback; HTTPS through an http:// proxy's CONNECT tunnel),
its CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, else certifi's) with host name
checks, gzip and deflate; no cookies are kept.

Credentials go out as HTTP Basic auth (a proxy's as Proxy-Authorization) and appear
in no log line, no exception message and no attribute other than the SDK's own.
"""

from __future__ import annotations

import base64
import http.client
import io
import ipaddress
import json
import logging
import os
import random
import select
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, cast
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from wa_sync.errors import WaSyncError

_log = logging.getLogger("wa_sync.http")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF_BASE = 0.5
DEFAULT_BACKOFF_CAP = 20.0
DEFAULT_MAX_RETRY_AFTER = 60.0
DEFAULT_PER_ACCOUNT_LIMIT = 10
READ_BUFFER_BYTES = 64 * 1024  # a response's read buffer: a page of contents in one recv()

_JSON_TYPES = ("application/json", "application/scim+json")


class OutcomeUnknown(Exception):
    """A POST may or may not have taken effect: a 5xx, a read timeout or a dropped
    connection after the request was sent. Never re-sent blindly by the client."""

    def __init__(
        self,
        method: str,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        self.method = method
        self.path = urlsplit(url).path
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"{method} {self.path}: outcome unknown ({reason})")


class Unreachable(Exception):
    """The requests kept failing at the transport level (timeouts, refused or dropped
    connections) until the attempts ran out."""

    def __init__(self, method: str, url: str, reason: str):
        self.method = method
        self.path = urlsplit(url).path
        self.reason = reason
        super().__init__(f"{method} {self.path}: {reason}")


def validate_base_url(base_url: str) -> str:
    """`base_url` without a trailing slash, or WaSyncError when it is not a plain
    http(s) base URL: another scheme, no host, a bad port, a query or fragment, or
    credentials in it are refused before any connection is made."""
    shown = _redacted(base_url)
    try:
        parts = urlsplit(base_url.strip())
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise WaSyncError(
            f"WA_SYNC_TWILIO_URL must be an http:// or https:// URL such as "
            f"http://127.0.0.1:4010, not {shown!r}"
        )
    if "@" in parts.netloc:
        raise WaSyncError(
            f"WA_SYNC_TWILIO_URL must not hold credentials (user:password@), not {shown!r}; "
            "wa-sync sends TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY with "
            "TWILIO_API_SECRET) from the environment"
        )
    if not port_ok:
        raise WaSyncError(f"WA_SYNC_TWILIO_URL has an invalid port: {shown!r}")
    if parts.query or parts.fragment:
        raise WaSyncError(
            f"WA_SYNC_TWILIO_URL must be a base URL without a query or fragment, not {shown!r}"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def cleartext_warning(base_url: str) -> str | None:
    """What to warn of when `base_url` (validated) would carry the credentials
    unencrypted beyond this machine: plain http:// to a host that is not loopback."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or _is_loopback(parts.hostname):
        return None
    return (
        f"warning: WA_SYNC_TWILIO_URL is plain http:// to {parts.hostname}: the Twilio"
        " credentials cross the network unencrypted; use https:// unless that network is"
        " only yours"
    )


def _redacted(url: str) -> str:
    """The URL safe to show: any user:password@ and the values of a query or fragment
    (where a token could hide) replaced."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "***" if parts.query else ""
    fragment = "***" if parts.fragment else ""
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return text
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


class NotConnected(OSError):
    """No connection could be made (refused, unknown host, connect timeout, a proxy's
    refused tunnel, a TLS handshake that failed): nothing of the request was sent."""

    def __init__(self, cause: BaseException):
        super().__init__(str(cause))
        self.cause = cause


class MalformedResponse(http.client.HTTPException):
    """A response whose body cannot be decoded as its Content-Encoding says."""


def pool_size(parallelism: int) -> int:
    """Idle connections kept per origin for `parallelism` requests at once."""
    return max(10, parallelism + 4)


def retryable(method: str, status: int) -> bool:
    """Whether an answer with `status` is worth asking again: 429 always (Twilio did
    not process the request), other 5xx unless the request was a POST (Twilio may have
    acted on it: see OutcomeUnknown)."""
    return status == 429 or (status >= 500 and method != "POST")


def _never_sent(exc: BaseException) -> bool:
    """True when the request certainly did not reach the server: the connection
    could not be established."""
    return isinstance(exc, NotConnected)


# Where requests go, a pool's key: scheme, host, port and the proxy (None: direct).
Origin = tuple[str, str, int, str | None]


class _Connections:
    """Idle keep-alive connections per origin (scheme, host, port, proxy), at most
    `maxsize` of each kept; any number may be open at once. A connection that the
    server closed while it was idle is noticed before use (it reads as ready) and
    dropped, as urllib3 does, so a request is never written to a dead socket."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def take(self, origin: Origin) -> http.client.HTTPConnection | None:
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                connection = idle.pop() if idle else None
            if connection is None or not _dropped(connection):
                return connection
            connection.close()

    def give(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.maxsize:
                idle.append(connection)
                return
        connection.close()

    def clear(self) -> None:
        with self._lock:
            connections = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for connection in connections:
            connection.close()


class _WholePageResponse(http.client.HTTPResponse):
    """http.client's response, read through a 64 kB buffer instead of its 8 kB one: a
    page of 20 contents (13 kB) then comes in with one recv() instead of two, a system
    call and a hand-over of the interpreter lock fewer per page."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp.close()  # the 8 kB reader, unused: the socket stays open
        self.fp = cast(io.BufferedReader, sock.makefile("rb", buffering=READ_BUFFER_BYTES))


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """An idle connection with something to read has been closed by the server (or
    holds bytes nobody asked for): either way it cannot carry a request."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class Response:
    """An answer as the twilio SDK reads one (its `twilio.http.response.Response`:
    `status_code`, `text`, `headers`, `ok`). Importing the SDK's own imports
    `requests` with it, a twentieth of a second a plan does not need: its reads do not
    go through the SDK (pages.py)."""

    def __init__(self, status_code: int, text: str, headers: Any = None):
        self.status_code = status_code
        self.content = text
        self.headers = headers
        self.cached = False
        self.ok = status_code < 400

    @property
    def text(self) -> str:
        return self.content

    def __repr__(self) -> str:
        return f"HTTP {self.status_code} {self.content}"


class RetryingHttpClient:
    """A thread-safe HTTP client for the twilio SDK (what its `http_client` is asked
    for: `request()`, and `is_async` False) that rewrites, times out, caps and retries.

    `sleep` and `rng` are injectable so that tests need not wait or guess.
    """

    is_async = False

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        pool_maxsize: int = 10,
        per_account_limit: int = DEFAULT_PER_ACCOUNT_LIMIT,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        logger: logging.Logger = _log,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if per_account_limit < 1:
            raise ValueError("per_account_limit must be at least 1")
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        self.timeout = timeout
        self.logger = logger
        self.base_url = validate_base_url(base_url) if base_url else None
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.per_account_limit = per_account_limit
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._caps: dict[str, threading.BoundedSemaphore] = {}
        self._caps_lock = threading.Lock()

        self._loopback = bool(self.base_url) and _is_loopback(
            urlsplit(self.base_url or "").hostname
        )
        self._connections = _Connections(max(1, pool_maxsize))
        self._tls_context: ssl.SSLContext | None = None
        self._tls_lock = threading.Lock()

    # --- the SDK's entry point -------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        method = method.upper()
        url = self.rewrite(url)
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        timeout = timeout if timeout is not None else self.timeout
        attempt = 1
        while True:
            try:
                response = self._send(
                    method, url, params, data, headers, auth, timeout, allow_redirects
                )
            except (http.client.HTTPException, OSError) as exc:
                reason = describe(exc)
                if method == "POST" and not _never_sent(exc):
                    raise OutcomeUnknown(method, url, reason) from None
                if attempt >= self.max_attempts:
                    raise Unreachable(method, url, f"{reason} (after {attempt} attempts)") from None
                self.log_retry(method, url, reason, attempt)
                self.pause(attempt)
                attempt += 1
                continue

            status = response.status_code
            retry_after = parse_retry_after(_header(response.headers, "Retry-After"))
            if retryable(method, status):
                if attempt >= self.max_attempts:
                    return response
            elif status >= 500:  # a POST's: Twilio may have acted on it
                raise OutcomeUnknown(
                    method, url, f"HTTP {status}", status=status, retry_after=retry_after
                )
            else:
                return response
            self.log_retry(method, url, f"HTTP {status}", attempt)
            self.pause(attempt, retry_after)
            attempt += 1

    # --- helpers the gateway uses too --------------------------------------------------

    def rewrite(self, url: str) -> str:
        """Send `https://<product>.twilio.com/<path>` to the base URL, path unchanged."""
        if not self.base_url:
            return url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            return url
        base = urlsplit(self.base_url)
        return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))

    def backoff(self, attempt: int) -> float:
        """Full jitter: a uniform draw in [0, min(cap, base * 2**(attempt-1))]."""
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** max(0, attempt - 1)))
        with self._rng_lock:
            return self._rng.uniform(0.0, ceiling)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """How long to wait before attempt `attempt + 1`: Retry-After when given (at most
        max_retry_after), else backoff."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return self.backoff(attempt)

    def pause(self, attempt: int, retry_after: float | None = None) -> None:
        """Wait before attempt `attempt + 1` (see `delay`)."""
        self._sleep(max(0.0, self.delay(attempt, retry_after)))

    def deferral(self, delay: float) -> float:
        """How long a transport that cannot sleep (PageReader: one thread for every
        request) puts off a retry that `pause` would sleep `delay` for: all of it,
        unless this client was made with a `sleep` of its own (tests), which then
        takes the wait, and the retry goes at once."""
        if self._sleep is time.sleep:
            return max(0.0, delay)
        self._sleep(max(0.0, delay))
        return 0.0

    def cap(self, username: str) -> threading.BoundedSemaphore:
        """The limit of requests in flight for the account that authenticates as
        `username` (shared by every transport of this client)."""
        with self._caps_lock:
            cap = self._caps.get(username)
            if cap is None:
                cap = self._caps[username] = threading.BoundedSemaphore(self.per_account_limit)
            return cap

    def route(self, url: str) -> tuple[Origin, str, dict[str, str]]:
        """Where a request for `url` goes: its origin (scheme, host, port, proxy), the
        request target, and the headers the proxy needs."""
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        proxy = self._proxy_for(url)
        target = f"{parts.path or '/'}{'?' + parts.query if parts.query else ''}"
        if proxy is not None and scheme == "http":  # a plain proxy takes the whole URL
            target = urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, ""))
            return (scheme, host, port, proxy), target, _proxy_authorization(proxy)
        return (scheme, host, port, proxy), target, {}

    def set_pool_size(self, size: int) -> None:
        """Keep at most `size` idle connections per origin from now on."""
        self._connections.maxsize = max(1, size)

    def close(self) -> None:
        self._connections.clear()

    # --- internals ---------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, object] | None,
        data: Mapping[str, object] | None,
        headers: Mapping[str, str] | None,
        auth: tuple[str, str] | None,
        timeout: float | None,
        allow_redirects: bool,
    ) -> Response:
        sent = dict(headers or {})
        body: bytes | None = None
        if sent.get("Content-Type") in _JSON_TYPES:
            if data is not None:
                body = json.dumps(data).encode("utf-8")
        elif data:
            body = _form(data).encode("ascii")
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if params:
            query = _form(params)
            if query:
                url = f"{url}{'&' if urlsplit(url).query else '?'}{query}"
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            sent["Authorization"] = f"Basic {token}"
        sent.setdefault("Accept-Encoding", "gzip, deflate")
        origin, target, for_proxy = self.route(url)
        sent.update(for_proxy)
        with self.cap(auth[0] if auth else ""):
            started = time.monotonic()
            connection = self._connections.take(origin)
            if connection is None:
                connection = self.connect(origin, timeout)
            elif connection.timeout != timeout and connection.sock is not None:
                connection.timeout = timeout
                connection.sock.settimeout(timeout)
            try:
                connection.request(method, target, body=body, headers=sent)
                raw = connection.getresponse()
                payload = decoded(raw.read(), raw.getheader("Content-Encoding"))
            except BaseException:
                connection.close()
                raise
            if raw.will_close:
                connection.close()
            else:
                self._connections.give(origin, connection)
        self.logger.debug(
            "%s %s -> %s in %.0f ms",
            method,
            urlsplit(url).path,
            raw.status,
            (time.monotonic() - started) * 1000,
        )
        text = payload.decode(charset(raw.getheader("Content-Type")), errors="replace")
        return Response(int(raw.status), text, raw.headers)

    def connect(self, origin: Origin, timeout: float | None) -> http.client.HTTPConnection:
        """A new connection to the origin, made now (NotConnected when it cannot be):
        directly, or through its proxy (a CONNECT tunnel for https)."""
        scheme, host, port, proxy = origin
        # the socket goes to the proxy when there is one; https is then tunnelled
        via = urlsplit(proxy) if proxy else None
        peer = (via.hostname or "", via.port or 80) if via else (host, port)
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(*peer, timeout=timeout, context=self._tls())
            if proxy:
                connection.set_tunnel(host, port, headers=_proxy_authorization(proxy))
        else:
            connection = http.client.HTTPConnection(*peer, timeout=timeout)
        connection.response_class = _WholePageResponse
        try:
            connection.connect()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise NotConnected(exc) from None
        return connection  # http.client sets TCP_NODELAY itself

    def _tls(self) -> ssl.SSLContext:
        """Certificates checked against the CA bundle `requests` would use, host names
        included; made once."""
        with self._tls_lock:
            if self._tls_context is None:
                bundle = _ca_bundle()
                if os.path.isdir(bundle):
                    self._tls_context = ssl.create_default_context(capath=bundle)
                else:
                    self._tls_context = ssl.create_default_context(cafile=bundle)
            return self._tls_context

    def _proxy_for(self, url: str) -> str | None:
        """The proxy the environment sets for `url` (HTTP(S)_PROXY, NO_PROXY); never one for
        loopback. Only http:// proxies are supported (as a tunnel for https)."""
        if self._loopback:
            return None
        from requests.utils import get_environ_proxies, select_proxy

        proxies = get_environ_proxies(url)
        proxy = select_proxy(url, proxies) if proxies else None
        if not proxy:
            return None
        if "://" not in proxy:
            proxy = f"http://{proxy}"
        if urlsplit(proxy).scheme != "http":
            raise WaSyncError(
                f"the proxy for {urlsplit(url).hostname} must be an http:// proxy "
                f"(HTTPS goes through its CONNECT tunnel), not {_redacted(proxy)!r}"
            )
        return proxy

    def log_retry(self, method: str, url: str, reason: str, attempt: int) -> None:
        self.logger.info(
            "retrying %s %s after %s (attempt %d of %d)",
            method,
            urlsplit(url).path,
            reason,
            attempt,
            self.max_attempts,
        )


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    return str(value) if value is not None else None


def describe(exc: BaseException) -> str:
    """A short, credential-free description of a transport failure."""
    if isinstance(exc, NotConnected):
        cause = exc.cause
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "TLS certificate verification failed"
        if isinstance(cause, ssl.SSLError):
            return "TLS handshake failed"
        if isinstance(cause, TimeoutError):
            return "connect timeout"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        if "Tunnel connection failed" in str(cause):
            return "the proxy refused the tunnel"
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "read timeout"
    if isinstance(exc, MalformedResponse):
        return "undecodable response body"
    if isinstance(exc, http.client.HTTPException | OSError):
        return "connection dropped"
    return type(exc).__name__


def decoded(data: bytes, encoding: str | None) -> bytes:
    """A body as its Content-Encoding says (gzip, deflate, or none)."""
    kind = (encoding or "").strip().lower()
    try:
        if kind in ("gzip", "x-gzip"):
            return zlib.decompress(data, 16 + zlib.MAX_WBITS)
        if kind == "deflate":
            try:
                return zlib.decompress(data)
            except zlib.error:  # raw deflate, as some servers send it
                return zlib.decompress(data, -zlib.MAX_WBITS)
    except zlib.error:
        raise MalformedResponse(f"a {kind} body that does not decompress") from None
    return data


def _proxy_authorization(proxy: str) -> dict[str, str]:
    """Proxy-Authorization for a proxy URL with user:password (percent-decoded)."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return {}
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")}


def _form(values: Mapping[str, object]) -> str:
    """A query string or form body as `requests` encodes one: lists repeat the key,
    None is left out."""
    pairs: list[tuple[str, object]] = []
    for key, value in values.items():
        items = value if isinstance(value, list | tuple) else [value]
        pairs += [(key, item) for item in items if item is not None]
    return urlencode(pairs)


def charset(content_type: str | None) -> str:
    """The charset of a Content-Type header; UTF-8 (JSON's) when it names none."""
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip("\"' ")
            try:
                "".encode(charset)
            except LookupError:
                return "utf-8"
            return charset
    return "utf-8"


def _ca_bundle() -> str:
    """The CA bundle `requests` would use: REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, certifi."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        value = os.environ.get(name)
        if value:
            return value
    import certifi  # only for https: not with the emulator

    return str(certifi.where())
