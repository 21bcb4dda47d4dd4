"""The one HTTP transport: the twilio SDK's own `TwilioHttpClient` over a requests
`Session`, wa-sync's policy on urllib3's `Retry`. requests (the SDK's own) and urllib3 own
TLS, CA bundles, proxies, redirects, gzip, pooling, Retry-After and backoff with jitter;
httpx would be a second HTTP stack and retries only connects. wa-sync keeps its policy
(docs/network.md): what is retried (a POST only on 429 or before a connection was made,
else `OutcomeUnknown`), in-flight caps, pacing below Twilio's rate limits, a total
deadline per attempt and a size cap. No credential appears in a log line or exception.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_auth_from_url, select_proxy
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError
from urllib3.util import Retry, Timeout

from wa_sync.credentials import hidden

_log = logging.getLogger("wa_sync.http")

DEFAULT_TIMEOUT = 30.0
DEFAULT_PER_ACCOUNT = 10
MAX_ATTEMPTS = 5
BACKOFF_FACTOR = 0.5  # urllib3's schedule: 0, 1, 2, 4 s (+ up to BACKOFF_JITTER), capped
BACKOFF_JITTER = 0.5
BACKOFF_MAX = 20.0
MAX_RETRY_AFTER = 60.0
MAX_ANSWER_BYTES = 64 * 1024 * 1024
NOT_RETRIED = "apply is stopping"
CLOSED = "not sent: its command is over"
RETRIED = frozenset({429, *range(500, 600)})
# Twilio's Content API limits per account, requests a second (changelog, 2026-09-30).
PUBLISHED_LIMITS = {"list": 20.0, "fetch": 100.0, "create": 100.0, "update": 20.0, "delete": 100.0}
PACE_MARGIN = 0.9  # requests go at 90% of a limit, evenly spaced
_TUNNEL_REFUSED = re.compile(r"^Tunnel connection failed: ([1-5][0-9]{2}[ -~]{0,80})")
_PHRASES = {status.value: status.phrase for status in HTTPStatus}
_CONTENT_PATH = re.compile(r"/v1/(Content|ContentAndApprovals)(/[^/]+)?(/ApprovalRequests.*)?$")


class TransportError(Exception):
    """A request without a usable answer; `reason` names what happened, never a secret."""

    def __init__(self, method: str, url: str, reason: str, *, status: int | None = None):
        self.path, self.reason, self.status = urlsplit(url).path, reason, status
        super().__init__(f"{method} {self.path}: {reason}")


class OutcomeUnknown(TransportError):
    """A POST that Twilio may or may not have carried out: never re-sent blindly."""


class Unreachable(TransportError):
    """No answer after every attempt: no connection, timeouts, dropped connections."""


class GaveUp(TransportError):
    """Twilio answered 429 or 5xx to every attempt."""


class BadAnswer(TransportError):
    """An answer that is not Twilio's JSON: cut off, too slow, too large, HTML..."""


class Closed(TransportError):
    """A request, or a wait before one, on a closed transport (`Transport.close`)."""


def status_text(status: int) -> str:
    return f"{status} {_PHRASES.get(status, '')}".strip()


def endpoint_class(method: str, path: str) -> str | None:
    """The class of a Content API endpoint Twilio limits (PUBLISHED_LIMITS), or None."""
    found = _CONTENT_PATH.search(path)
    if found is None:
        return None
    one = found.group(2) is not None  # a single content, not the collection
    if method == "GET":
        return "fetch" if one else "list"
    if method == "DELETE":
        return "delete"
    return "create" if not one or found.group(3) else "update"


_attempt = threading.local()  # this thread's request: when its attempt started, how it waits


class Policy(Retry):
    """urllib3's Retry that also retries a POST answered 429, and logs each retry."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        return status_code == 429 or super().is_retry(method, status_code, has_retry_after)

    def sleep(self, response: Any = None) -> None:
        after = self.get_retry_after(response) if response is not None else None
        wait = min(after, MAX_RETRY_AFTER) if after is not None else self.get_backoff_time()
        last = self.history[-1]
        what = status_text(last.status) if last.status else type(last.error).__name__
        attempts = len(self.history) + (self.total or 0) + 1
        path = urlsplit(last.url or "").path
        _log.info("attempt %d/%d %s %s: %s", len(self.history), attempts, last.method, path, what)
        _attempt.retrying = True
        try:
            _attempt.checkpoint()  # a signal the command recorded: no further attempt
            _attempt.sleep(wait)
        except _NotRetried as exc:
            told = f"Twilio answered {what}" if last.status else what
            failed = GaveUp if last.status else Unreachable
            told += f" (not tried again: {NOT_RETRIED})"
            raise failed(last.method or "", last.url or "", told, status=last.status) from exc
        finally:
            _attempt.retrying = False
        _attempt.started = time.monotonic()


class _NotRetried(Exception):
    """Apply starts no new write: a request Twilio asked to wait is not tried again."""


class Transport(TwilioHttpClient):
    """The SDK's HTTP client for all requests of a command, thread-safe. `base_url` replaces
    `https://<product>.twilio.com`; `verify` is True (certifi) or a CA bundle's path."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        parallelism: int | None = 8,  # None: no slots (twin)
        per_account: int = DEFAULT_PER_ACCOUNT,
        attempts: int = MAX_ATTEMPTS,
        proxies: Mapping[str, str] | None = None,
        no_proxy: str = "",
        verify: bool | str = True,
        limits: Mapping[str, float] = PUBLISHED_LIMITS,
        sleep: Callable[[float], None] | None = None,  # None: a wait a signal ends
        checkpoint: Callable[[], None] = lambda: None,
        stopping: Callable[[], bool] = lambda: False,
    ):
        super().__init__(pool_connections=False, timeout=timeout, logger=_log)
        self._made_with: dict[str, Any] = {  # for twin()
            "base_url": base_url,
            "timeout": timeout,
            "per_account": per_account,
            "attempts": attempts,
            "proxies": proxies,
            "no_proxy": no_proxy,
            "verify": verify,
            "limits": limits,
            "sleep": sleep,
        }
        self.base_url = base_url.rstrip("/") if base_url else None
        self.attempts = attempts
        # raises to stop the command for a signal it recorded (interrupts.py): before
        # each request, and in the waits before a retry or a paced request, so that a
        # first signal is acted on within a second (or the attempt in flight), not after
        # every attempt and backoff; the lock's twin has none (its release must go on)
        self.checkpoint = checkpoint
        self._closed = threading.Event()  # see close()
        # true once apply starts no new write (SPEC §4.8): a write in flight then finishes
        # within the request timeout, so a request Twilio asks to wait (429, a 5xx's
        # backoff) is not tried again, and fails as Twilio answered; the twin has none
        self.stopping = stopping
        self.sleep = self._wait if sleep is None else sleep
        self.proxies, self.no_proxy = dict(proxies or {}), no_proxy
        self.proxy_logins = [get_auth_from_url(p) for p in self.proxies.values()]  # (user, pw)
        self.session = _session(verify, attempts, pool_size=(parallelism or 1) + 4)
        self._in_flight: AbstractContextManager[Any] = (
            nullcontext()  # the lock's twin: no slots
            if parallelism is None
            else threading.BoundedSemaphore(max(1, parallelism))
        )
        self._per_account = max(1, per_account) if parallelism is not None else None
        self._caps: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self._limits, self._next = dict(limits), dict[tuple[str, str], float]()

    def request(self, method: str, url: str, **kw: Any) -> Response:  # as the SDK calls it
        """`params`, `data`, `headers` and `auth` as the SDK gives them; its `timeout` and
        `allow_redirects` give way to wa-sync's."""
        _attempt.request = method, url  # for Closed
        self._checkpoint()
        method, url, auth = method.upper(), self.rewrite(url), kw.get("auth")
        account = auth[0] if auth else ""
        self._pace(account, endpoint_class(method, urlsplit(url).path))
        with self._in_flight, self._cap(account):
            try:
                return self._exchange(
                    method, url, kw.get("params"), kw.get("data"), kw.get("headers"), auth
                )
            except (requests.RequestException, HTTPError, OSError) as exc:
                proxy = urlsplit(select_proxy(url, self.proxies) or "").netloc.rpartition("@")
                raise _failure(method, url, exc, self.attempts, proxy[2]) from exc

    def twin(self) -> Transport:
        """The same settings on connections of its own, and no in-flight slots: for the
        apply lock, whose heartbeat must never wait behind the estate's requests for a
        slot (at --parallelism 1 it did, and the lock expired under a busy apply), and
        whose release must not wait for one that a signal left taken (the handler's
        KeyboardInterrupt can land inside `Semaphore.acquire`, Python code, after it took
        the slot: an apply stopped by one SIGINT while taking the lock then hung)."""
        return Transport(parallelism=None, **self._made_with)  # no checkpoint

    def rewrite(self, url: str) -> str:
        """`https://<product>.twilio.com/<path>` to the base URL, path unchanged."""
        parts = urlsplit(url)
        if not self.base_url or not f".{parts.hostname}".lower().endswith(".twilio.com"):
            return url
        base = urlsplit(self.base_url)
        return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))

    def close(self) -> None:
        """No request starts and no wait goes on from now (`Closed`): a read its command
        left behind (a signal stopped it as the read went on) ends within half a second
        of a wait, or once its attempt in flight ends (never cut), rather than hold the
        process's exit (which waits for a pool's threads) for Twilio's Retry-After and
        its attempts. Apply's writes are over by then but after a stop at once; the
        lock's twin is closed once the lock is released (TwilioGateway.close)."""
        self._closed.set()
        self.session.close()

    def _wait(self, seconds: float) -> None:
        """Sleep, looking for a recorded signal each half second."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._checkpoint()
            time.sleep(min(left, 0.5))

    def _checkpoint(self) -> None:
        """`Closed` once closed; the command's checkpoint; in the wait before a retry
        (Policy.sleep), also `_NotRetried` once apply starts no new write."""
        if self._closed.is_set():
            method, url = getattr(_attempt, "request", ("", ""))
            raise Closed(method, url, CLOSED)
        self.checkpoint()
        if getattr(_attempt, "retrying", False) and self.stopping():
            raise _NotRetried

    def _pace(self, account: str, kind: str | None) -> None:
        """Space an account's requests of one class evenly at PACE_MARGIN of its limit
        (a token bucket that holds one token)."""
        rate = self._limits.get(kind or "")
        if not rate:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get((account, kind or ""), now))
            self._next[account, kind or ""] = slot + 1.0 / (rate * PACE_MARGIN)
        if slot > now:
            self.sleep(slot - now)

    def _cap(self, account: str) -> AbstractContextManager[Any]:
        if self._per_account is None:  # the lock's twin
            return nullcontext()
        with self._lock:
            return self._caps.setdefault(account, threading.BoundedSemaphore(self._per_account))

    def _exchange(self, method: str, url: str, params: Any, data: Any, headers: Any, auth: Any):
        json_body = (headers or {}).get("Content-Type", "").endswith("json")
        body = {"json": data} if json_body else {"data": data}
        netloc = urlsplit(url).netloc
        bypass = self.no_proxy and proxy_bypass_environment(netloc, {"no": self.no_proxy})
        _attempt.sleep, _attempt.started = self.sleep, time.monotonic()
        _attempt.checkpoint = self._checkpoint
        started = _attempt.started
        answer = self.session.request(
            method,
            url,
            params=params,
            headers=headers,
            auth=auth,
            timeout=Timeout(total=self.timeout),  # type: ignore[arg-type]  # requests takes it
            allow_redirects=method == "GET",
            stream=True,
            proxies={} if bypass else self.proxies,
            **body,
        )
        payload = _read(answer, _attempt.started + (self.timeout or DEFAULT_TIMEOUT), method, url)
        attempts = len(answer.raw.retries.history) + 1 if answer.raw.retries else 1
        _log.debug("%s %s -> %s in %.0f ms", method, urlsplit(url).path, answer.status_code,
                   (time.monotonic() - started) * 1000)  # fmt: skip
        text = payload.decode(answer.encoding or "utf-8", errors="replace")
        _check(method, url, answer, text, attempts, [auth or ("", ""), *self.proxy_logins])
        return Response(answer.status_code, text, answer.headers)


def _session(verify: bool | str, attempts: int, *, pool_size: int) -> requests.Session:
    """requests' session with wa-sync's retry policy on urllib3's Retry."""
    session = requests.Session()
    session.trust_env = False  # the environment comes through Runtime (connect.py)
    session.verify = verify
    retry = Policy(
        total=attempts - 1,
        other=0,  # a TLS failure, say: trying again changes nothing
        allowed_methods=frozenset({"GET", "DELETE"}),
        status_forcelist=RETRIED,
        backoff_factor=BACKOFF_FACTOR,
        backoff_jitter=BACKOFF_JITTER,
        backoff_max=BACKOFF_MAX,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(pool_maxsize=pool_size, max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _read(answer: requests.Response, deadline: float, method: str, url: str) -> bytes:
    """The whole body by `deadline`, at most MAX_ANSWER_BYTES."""
    chunks: list[bytes] = []
    size = 0
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            if sock := getattr(answer.raw.connection, "sock", None):
                sock.settimeout(remaining)  # silence, too, only until the deadline
            if not (chunk := answer.raw.read1(64 * 1024, decode_content=True)):
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise BadAnswer(method, url, f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
            chunks.append(chunk)
        raise TimeoutError("timed out")
    except (HTTPError, OSError) as exc:
        cut = f"{status_text(answer.status_code)}, cut off after {size} bytes"
        if isinstance(exc, TimeoutError) or "timed out" in str(exc):
            cut = f"{status_text(answer.status_code)}, too slow: {size} bytes within the timeout"
        if method == "POST":
            raise OutcomeUnknown(method, url, cut, status=answer.status_code) from exc
        raise BadAnswer(method, url, f"Twilio's answer was incomplete ({cut})") from exc
    finally:
        answer.close()


def _check(
    method: str,
    url: str,
    answer: requests.Response,
    text: str,
    attempts: int,
    sent: Iterable[tuple[str, str]],
) -> None:
    """A POST's 5xx is an unknown outcome, anything but JSON refused, 429 or 5xx after
    the last attempt given up; what of the answer is quoted, without the credentials
    `sent` ((user, secret) pairs: a server may quote the request's headers)."""
    status = answer.status_code
    if method == "POST" and status >= 500:
        raise OutcomeUnknown(method, url, f"Twilio answered {status_text(status)}", status=status)
    try:
        body = json.loads(text) if status != 204 else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        kind = answer.headers.get("Content-Type") or "no Content-Type"
        shown = repr(hidden(text, sent)[:120]) if text.strip() else "an empty body"
        told = f"Twilio answered {status_text(status)} with {kind} that is not a JSON object"
        raise BadAnswer(method, url, f"{told}: {shown}", status=status)
    if status in RETRIED:
        told = f"Twilio answered {status_text(status)} {attempts} times" if attempts > 1 else ""
        told = told or f"Twilio answered {status_text(status)}"
        told += f": {hidden(str(body['message']), sent)}" if body.get("message") else ""
        raise GaveUp(method, url, told, status=status)


def _failure(
    method: str, url: str, exc: BaseException, attempts: int, proxy: str
) -> TransportError:
    """A transport failure as wa-sync's policy reads it; `proxy` is the host:port of the
    proxy the request went to, if any (its login left out)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.exceptions.SSLError):
        failed = "certificate verification" if "CERTIFICATE_VERIFY" in str(exc) else "handshake"
        return Unreachable(method, url, f"TLS {failed} failed")
    if isinstance(exc, requests.exceptions.ProxyError):
        inner = getattr(reason, "original_error", reason)
        connect = isinstance(inner, NewConnectionError | ConnectTimeoutError)
        refused = _TUNNEL_REFUSED.search(str(inner))  # the proxy's status line, printable
        why = "no connection could be made" if connect else type(inner).__name__
        why = refused.group(1) if refused else why
        return Unreachable(method, url, f"the proxy {proxy} failed: {why}")
    if isinstance(exc, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError):
        return Unreachable(method, url, f"no connection could be made (after {attempts} attempts)")
    timed_out = isinstance(exc, requests.Timeout) or "timed out" in str(reason)
    what = "no answer within the timeout" if timed_out else "the connection dropped"
    if method == "POST":
        return OutcomeUnknown(method, url, what)
    return Unreachable(method, url, f"{what} (after {attempts} attempts)")
