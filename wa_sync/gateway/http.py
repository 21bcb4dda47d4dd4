"""The HTTP client under the twilio SDK: URL rewriting, timeouts, retries, concurrency caps.

The SDK retries nothing by default and never a POST (see shared/notes/twilio-api.md §5),
so every Twilio request of wa-sync goes through `RetryingHttpClient`:

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

The transport is urllib3, which `requests` (the SDK's default) is built on, used
directly: `requests` added a third of a millisecond of CPU to every request, a second
over a plan of 1,000 customers. What `requests` did for the SDK is done here too:
form and JSON bodies, HTTP Basic, proxies from the environment (HTTP(S)_PROXY,
NO_PROXY; never for loopback), its CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, else
certifi's), gzip; no cookies are kept.

Credentials pass through to `requests` as HTTP Basic auth and appear in no log line,
no exception message and no attribute other than the SDK's own.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import certifi
import urllib3
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
)

from wa_sync.errors import WaSyncError

_log = logging.getLogger("wa_sync.http")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF_BASE = 0.5
DEFAULT_BACKOFF_CAP = 20.0
DEFAULT_MAX_RETRY_AFTER = 60.0
DEFAULT_PER_ACCOUNT_LIMIT = 10

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


def _never_sent(exc: BaseException) -> bool:
    """True when the request certainly did not reach the server: the connection
    could not be established (refused, DNS failure, connect timeout)."""
    if isinstance(exc, ProxyError):
        inner = exc.original_error if hasattr(exc, "original_error") else None
        return isinstance(inner, ConnectTimeoutError | ConnectionRefusedError)
    return isinstance(exc, ConnectTimeoutError | ConnectionRefusedError)


class RetryingHttpClient(TwilioHttpClient):
    """A thread-safe `TwilioHttpClient` that rewrites, times out, caps and retries.

    `sleep` and `rng` are injectable so that tests need not wait or guess.
    """

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
        super().__init__(pool_connections=True, timeout=timeout, logger=logger)
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
        bundle = _ca_bundle()
        self._pool_kw: dict[str, Any] = {
            "num_pools": 4,
            "maxsize": max(1, pool_maxsize),
            "retries": False,
            "cert_reqs": "CERT_REQUIRED",
            ("ca_cert_dir" if os.path.isdir(bundle) else "ca_certs"): bundle,
        }
        self._direct = urllib3.PoolManager(**self._pool_kw)
        self._proxied: dict[str, urllib3.ProxyManager] = {}
        self._pools_lock = threading.Lock()

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
            except (HTTPError, OSError) as exc:
                reason = _describe(exc)
                if method == "POST" and not _never_sent(exc):
                    raise OutcomeUnknown(method, url, reason) from None
                if attempt >= self.max_attempts:
                    raise Unreachable(method, url, f"{reason} (after {attempt} attempts)") from None
                self._log_retry(method, url, reason, attempt)
                self.pause(attempt)
                attempt += 1
                continue

            status = response.status_code
            retry_after = parse_retry_after(_header(response.headers, "Retry-After"))
            if status == 429 or (status == 503 and method != "POST"):
                if attempt >= self.max_attempts:
                    return response
            elif status >= 500:
                if method == "POST":
                    raise OutcomeUnknown(
                        method, url, f"HTTP {status}", status=status, retry_after=retry_after
                    )
                if attempt >= self.max_attempts:
                    return response
            else:
                return response
            self._log_retry(method, url, f"HTTP {status}", attempt)
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

    def pause(self, attempt: int, retry_after: float | None = None) -> None:
        """Wait before attempt `attempt + 1`: Retry-After when given, else backoff."""
        if retry_after is not None:
            delay = min(retry_after, self.max_retry_after)
        else:
            delay = self.backoff(attempt)
        if delay > 0:
            self._sleep(delay)
        else:
            self._sleep(0.0)

    def close(self) -> None:
        with self._pools_lock:
            managers = [self._direct, *self._proxied.values()]
            self._proxied.clear()
        for manager in managers:
            manager.clear()

    # --- internals ---------------------------------------------------------------------

    def _cap(self, auth: tuple[str, str] | None) -> threading.BoundedSemaphore:
        key = auth[0] if auth else ""
        with self._caps_lock:
            cap = self._caps.get(key)
            if cap is None:
                cap = self._caps[key] = threading.BoundedSemaphore(self.per_account_limit)
            return cap

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
        manager = self._manager(url)
        with self._cap(auth):
            started = time.monotonic()
            raw = manager.urlopen(
                method,
                url,
                body=body,
                headers=sent,
                redirect=allow_redirects,
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                retries=False,
                preload_content=True,
            )
        self.logger.debug(
            "%s %s -> %s in %.0f ms",
            method,
            urlsplit(url).path,
            raw.status,
            (time.monotonic() - started) * 1000,
        )
        text = raw.data.decode(_charset(raw.headers.get("Content-Type")), errors="replace")
        return Response(int(raw.status), text, raw.headers)

    def _manager(self, url: str) -> urllib3.PoolManager:
        """The direct pool, or the pool of the proxy the environment (or `proxy`) sets
        for `url`; never a proxy for loopback."""
        if self._loopback:
            return self._direct
        from requests.utils import get_environ_proxies, select_proxy

        proxies = {**get_environ_proxies(url), **(self.proxy or {})}
        proxy = select_proxy(url, proxies) if proxies else None
        if not proxy:
            return self._direct
        with self._pools_lock:
            manager = self._proxied.get(proxy)
            if manager is None:
                manager = self._proxied[proxy] = urllib3.ProxyManager(proxy, **self._pool_kw)
            return manager

    def _log_retry(self, method: str, url: str, reason: str, attempt: int) -> None:
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


def _describe(exc: BaseException) -> str:
    """A short, credential-free description of a transport failure."""
    if isinstance(exc, NewConnectionError | ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectTimeoutError):
        return "connect timeout"
    if isinstance(exc, ReadTimeoutError | TimeoutError):
        return "read timeout"
    if isinstance(exc, ProxyError):
        return "proxy unreachable"
    if isinstance(exc, ProtocolError | ConnectionError | OSError):
        return "connection dropped"
    return type(exc).__name__


def _form(values: Mapping[str, object]) -> str:
    """A query string or form body as `requests` encodes one: lists repeat the key,
    None is left out."""
    pairs: list[tuple[str, object]] = []
    for key, value in values.items():
        items = value if isinstance(value, list | tuple) else [value]
        pairs += [(key, item) for item in items if item is not None]
    return urlencode(pairs)


def _charset(content_type: str | None) -> str:
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
    return str(certifi.where())
