"""The emulator without its socket: state, settings, faults, the request log, and dispatch."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from wa_sync.emulator import admin
from wa_sync.emulator.auth import authenticate, basic_username
from wa_sync.emulator.errors import (
    METHOD_NOT_ALLOWED,
    TOO_MANY_REQUESTS,
    ApiError,
    error_body,
    not_found,
)
from wa_sync.emulator.faults import Faults
from wa_sync.emulator.ratelimit import RateLimits, retry_after
from wa_sync.emulator.routes import Route, match
from wa_sync.emulator.store import Store, new_secret, new_sid
from wa_sync.emulator.wire import Principal, Request, Response, Settings


@dataclass
class Outcome:
    """What the HTTP layer must do: answer, or drop the connection (`drop`)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


class App:
    def __init__(
        self,
        db: str | None = None,
        parent_sid: str | None = None,
        parent_token: str | None = None,
        latency_ms: int = 0,
        fault_rate: float = 0.0,
        approve_after: float | None = None,
        sender_online_after: float = 0.0,
        subaccount_limit: int = 1000,
        rate_limits: Mapping[str, float] | None = None,
    ) -> None:
        self.store = Store(db)
        sid, token = self._parent(parent_sid, parent_token)
        self.settings = Settings(
            parent_sid=sid,
            parent_token=token,
            approve_after=approve_after,
            sender_online_after=sender_online_after,
            subaccount_limit=subaccount_limit,
        )
        self.faults = Faults()
        self._default_faults = (latency_ms, fault_rate)
        self.faults.set(latency_ms=latency_ms, error_rate=fault_rate)
        self.rate_limits = RateLimits()
        self._default_limits = dict(rate_limits or {})
        self.rate_limits.set(self._default_limits)
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()

    @property
    def parent_sid(self) -> str:
        return self.settings.parent_sid

    @property
    def parent_token(self) -> str:
        return self.settings.parent_token

    def _parent(self, sid: str | None, token: str | None) -> tuple[str, str]:
        """The parent account, made on first use and kept in the database.

        A token the emulator generated is stored; one supplied by the caller (it may be
        a real credential from the environment) never is: only its SHA-256, to check
        that a later run presents the same one.
        """
        store = self.store
        with store.lock:
            stored = store.meta("parent_sid")
            if stored is None:
                sid = sid or new_sid("AC")
                now = store.now()
                with store.tx() as db:
                    db.execute(
                        "INSERT INTO accounts (sid, owner_sid, friendly_name, status, auth_token,"
                        " created, updated) VALUES (?, ?, ?, 'active', NULL, ?, ?)",
                        (sid, sid, "wa-sync emulator parent", now, now),
                    )
                if token is None:
                    token = new_secret()
                    store.set_meta("parent_token", token)
                else:
                    store.set_meta("parent_token_sha256", _sha256(token))
                store.set_meta("parent_sid", sid)
                return sid, token
        if sid and sid != stored:
            raise ValueError(f"the emulator database belongs to parent {stored}, not {sid}")
        kept = store.meta("parent_token")
        if kept is not None:
            if token is not None and token != kept:
                raise ValueError("the emulator database's parent has another auth token")
            return stored, kept
        if token is None or _sha256(token) != store.meta("parent_token_sha256"):
            raise ValueError(
                "the emulator database's parent token was supplied from outside and is not"
                " stored: pass the same parent_token again"
            )
        return stored, token

    def close(self) -> None:
        self.store.close()

    # -- the API ---------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        """Serve one API request, faults included."""
        headers = {name.lower(): value for name, value in headers.items()}
        path, _, query = target.partition("?")
        started = time.monotonic()
        decision = self.faults.decide(method, path, basic_username(headers.get("authorization")))
        found = match(method, path)
        # Injected latency is the time to answer, the emulator's own work included (as a
        # remote API's is): the answer is held back until `started + latency`.
        entry = {"method": method, "path": path, "template": found.template, "status": 0,
                 "account_sid": None, "started": started,
                 "answer_at": started + decision.latency_s}  # fmt: skip
        if decision.action == "drop":
            return self._logged(entry, Outcome(0, drop=True))
        if decision.action == "rate_limit":
            extra = (
                {} if decision.retry_after is None else {"Retry-After": str(decision.retry_after)}
            )
            return self._logged(entry, _error(429, TOO_MANY_REQUESTS, "Too Many Requests", extra))
        if decision.action == "error":
            message = decision.message or "Injected fault"
            return self._logged(entry, _fault(decision.status, message))
        req = Request(
            method=method,
            path=path,
            query=dict(_parsed_query(query)),
            body=body,
            content_type=headers.get("content-type") or "",
            host=headers.get("host") or "127.0.0.1",
            store=self.store,
            settings=self.settings,
            params=found.params,
            headers=headers,
        )
        try:
            with self.store.one_version():
                req.principal = self._authenticate(headers.get("authorization"))
                entry["account_sid"] = req.principal.account_sid
                wait = self.rate_limits.admit(req.principal.account_sid, method, found.template)
                if wait:  # past the account's rate limit: refused, not carried out
                    return self._logged(entry, _rate_limited(wait))
                if found.route is None:
                    if found.allowed:
                        raise ApiError(405, METHOD_NOT_ALLOWED, f"Method {method} not allowed")
                    raise not_found(path)
                admin.tick(self.store)
                outcome = self._answer(found.route, req, target)
        except ApiError as exc:
            outcome = _encode(Response(exc.status, exc.body()))
        except Exception:  # a bug in the emulator: answer 500 and say where on stderr
            traceback.print_exc(file=sys.stderr)
            outcome = _encode(Response(500, error_body(500, 20500, "Internal Server Error")))
        if decision.action == "commit_then_drop":
            return self._logged(entry, Outcome(0, drop=True))
        if decision.action == "commit_then_error":
            message = decision.message or "Injected fault after the work"
            return self._logged(entry, _fault(decision.status, message))
        return self._logged(entry, outcome)

    def _authenticate(self, header: str | None) -> Principal:
        """The header's principal, looked up again only after the database changed."""
        return self.store.remembered(
            ("principal", header), lambda: authenticate(self.store, self.settings, header)
        )

    def _answer(self, route: Route, req: Request, target: str) -> Outcome:
        """The route's answer, encoded. A GET only reads, so its answer depends on nothing
        but the database, the target, the Host (absolute links) and the principal: the
        same request gets the same bytes until the database changes."""
        if req.method != "GET":
            return _encode(route.handler(req))
        principal = req.principal
        assert principal is not None
        key = ("GET", target, req.host, principal.account_sid, principal.key_sid,
               principal.main_key)  # fmt: skip
        kept = self.store.remembered(key, lambda: _encode(route.handler(req)))
        return Outcome(kept.status, kept.body, dict(kept.headers))

    def _logged(self, entry: dict[str, Any], outcome: Outcome) -> Outcome:
        wait = entry.pop("answer_at") - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        entry["status"] = outcome.status
        entry["finished"] = time.monotonic()  # with "started": how many were in flight at once
        with self._log_lock:
            self._log.append(entry)
        return outcome

    # -- request log -----------------------------------------------------------------

    def request_log(self) -> list[dict[str, Any]]:
        """Every API request served: method, path, template, status (0: dropped), account_sid,
        and the monotonic times it started and finished."""
        with self._log_lock:
            return [dict(e) for e in self._log]

    def request_counts(self) -> dict[str, int]:
        with self._log_lock:
            return dict(Counter(f"{e['method']} {e['template']}" for e in self._log))

    def clear_request_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    # -- controls --------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return admin.snapshot(self.store, self.parent_sid)

    def approve(self, content_sid: str) -> None:
        admin.set_approval(self.store, content_sid, "approved")

    def reject(self, content_sid: str, reason: str = "INVALID_FORMAT") -> None:
        admin.set_approval(self.store, content_sid, "rejected", reason)

    def set_sender_status(self, sender_sid: str, status: str, reasons: Sequence[str] = ()) -> None:
        """`reasons`: Twilio error codes of an OFFLINE sender (63101, 63020...)."""
        admin.set_sender_status(self.store, sender_sid, status, reasons)

    def set_verification_code(self, code: str) -> None:
        """The one-time code senders in PENDING_VERIFICATION accept (default 123456)."""
        admin.set_verification_code(self.store, code)

    def recategorise(self, content_sid: str, category: str) -> None:
        """Meta changes the category of an approved template."""
        admin.recategorise(self.store, content_sid, category)

    def set_display_name_status(
        self, sender_sid: str, status: str | None, name: str | None = None
    ) -> None:
        """Meta's review of a sender's display-name change (DECLINED caps the sender at
        250 business-initiated messages a day); None forgets the change."""
        admin.set_display_name_status(self.store, sender_sid, status, name)

    def advance_clock(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.store.advance(seconds)
        admin.tick(self.store)

    def set_faults(
        self,
        rate_limit_rate: float = 0.0,
        retry_after: int | None = 1,
        error_rate: float = 0.0,
        error_status: int = 500,
        drop_rate: float = 0.0,
        latency_ms: int = 0,
        methods: list[str] | None = None,
    ) -> None:
        """Replace the fault rates; no arguments clears them (pending fail_next rules stay)."""
        self.faults.set(
            rate_limit_rate=rate_limit_rate,
            retry_after=retry_after,
            error_rate=error_rate,
            error_status=error_status,
            drop_rate=drop_rate,
            latency_ms=latency_ms,
            methods=methods,
        )

    def set_rate_limits(self, limits: Mapping[str, float] | None) -> None:
        """Enforce per-account limits by endpoint class (ratelimit.py; ratelimit.PUBLISHED
        are Twilio's), answering 429 with Retry-After past them; None or {} turns them off."""
        self.rate_limits.set(limits)

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 500,
        count: int = 1,
        mode: str = "error",
        message: str | None = None,
        account: str | None = None,
    ) -> None:
        """The next `count` requests matching answer `status` (with `message`), as `mode`;
        with `account`, only requests authenticated as that account (or API key)."""
        self.faults.fail_next(
            method,
            path_regex,
            status=status,
            count=count,
            mode=mode,
            message=message,
            account=account,
        )

    def reset(self) -> None:
        """Back to a fresh emulator with the same parent: no state, faults, log or clock offset."""
        self.store.clear(keep_account=self.parent_sid)
        self.faults.clear()
        latency_ms, fault_rate = self._default_faults
        self.faults.set(latency_ms=latency_ms, error_rate=fault_rate)
        self.rate_limits.set(self._default_limits)
        self.clear_request_log()

    def create_api_key(self, main: bool = True, account_sid: str | None = None) -> tuple[str, str]:
        """A key (SID, secret) of the parent, or of `account_sid`; Main keys may use /Accounts."""
        return admin.create_api_key(self.store, account_sid or self.parent_sid, main=main)

    def create_subaccount(self, friendly_name: str) -> dict[str, Any]:
        """A subaccount of the parent, made behind wa-sync's back (for tests)."""
        return admin.create_subaccount(self.store, self.parent_sid, friendly_name)


@lru_cache(maxsize=256)  # a plan sends the same few listing queries for every account
def _parsed_query(query: str) -> tuple[tuple[str, str], ...]:
    return tuple(parse_qsl(query, keep_blank_values=True))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fault(status: int, message: str) -> Outcome:
    """An injected error: Twilio's codes are 20000 + status (20500, 20503...)."""
    return _error(status, 20000 + status, message)


def _rate_limited(wait: float) -> Outcome:
    return _error(429, TOO_MANY_REQUESTS, "Too Many Requests", {"Retry-After": retry_after(wait)})


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Outcome:
    outcome = _encode(Response(status, error_body(status, code, message)))
    outcome.headers.update(headers or {})
    return outcome


def _encode(response: Response) -> Outcome:
    headers = dict(response.headers)
    if response.status == 401:
        headers.setdefault("WWW-Authenticate", 'Basic realm="Twilio API"')
    if response.body is None:
        return Outcome(response.status, b"", headers)
    headers["Content-Type"] = "application/json; charset=utf-8"
    # a body is built afresh from rows, never circular: no need to look for cycles
    body = json.dumps(response.body, check_circular=False)
    return Outcome(response.status, body.encode("utf-8"), headers)


def most_in_flight(entries: Collection[Mapping[str, Any]]) -> int:
    """The most requests of `entries` (request log entries, with their monotonic
    "started" and "finished") that were in flight at once. A request that finished
    the instant another started does not overlap it."""
    events = sorted([(e["started"], 1) for e in entries] + [(e["finished"], -1) for e in entries])
    current = most = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most
