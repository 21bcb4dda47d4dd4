"""The emulator's control API over HTTP (`/__emulator/...`), and a client for it.

It lets another process (a benchmark, the demo) drive an emulator started by
`wa-sync emulator`. It has no authentication: serve on loopback only. Requests to it
are never faulted and never appear in the request log.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from wa_sync.emulator.admin import UnknownObject
from wa_sync.emulator.app import App, Outcome

PREFIX = "/__emulator/"


def _ok(value: Any) -> tuple[int, Any]:
    return 200, value


def _done(action: Callable[..., None], *args: Any, **kwargs: Any) -> tuple[int, Any]:
    action(*args, **kwargs)
    return 200, {"ok": True}


def _routes(app: App) -> dict[tuple[str, str], Callable[[dict[str, Any]], tuple[int, Any]]]:
    return {
        ("POST", "reset"): lambda b: _done(app.reset),
        ("POST", "approve"): lambda b: _done(app.approve, b["sid"]),
        ("POST", "reject"): lambda b: _done(app.reject, b["sid"], **_pick(b, "reason")),
        ("POST", "sender-status"): lambda b: _done(app.set_sender_status, b["sid"], b["status"],
                                                   b.get("reasons") or ()),
        ("POST", "verification-code"): lambda b: _done(app.set_verification_code, b["code"]),
        ("POST", "recategorise"): lambda b: _done(app.recategorise, b["sid"], b["category"]),
        ("POST", "display-name"): lambda b: _done(app.set_display_name_status, b["sid"],
                                                  b.get("status"), b.get("name")),
        ("POST", "clock"): lambda b: _done(app.advance_clock, float(b["seconds"])),
        ("POST", "faults"): lambda b: _done(app.set_faults, **b),
        ("GET", "faults"): lambda b: _ok(app.faults.describe()),
        ("POST", "rate-limits"): lambda b: _done(app.set_rate_limits, b.get("limits")),
        ("GET", "rate-limits"): lambda b: _ok(app.rate_limits.limits),
        ("POST", "fail-next"): lambda b: _done(app.fail_next, **b),
        ("GET", "state"): lambda b: _ok(app.state()),
        ("GET", "requests"): lambda b: _ok(app.request_log()),
        ("GET", "requests/counts"): lambda b: _ok(app.request_counts()),
        ("POST", "requests/clear"): lambda b: _done(app.clear_request_log),
        ("DELETE", "requests"): lambda b: _done(app.clear_request_log),
        ("POST", "api-keys"): lambda b: _ok(dict(zip(("sid", "secret"),
                                                      app.create_api_key(**b), strict=True))),
        ("POST", "subaccounts"): lambda b: _ok(app.create_subaccount(b["friendly_name"])),
        ("GET", "parent"): lambda b: _ok({"sid": app.parent_sid}),
    }  # fmt: skip


def _pick(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: body[name] for name in names if name in body}


def handle(app: App, method: str, target: str, body: bytes) -> Outcome:
    name = target.partition("?")[0][len(PREFIX) :].strip("/")
    action = _routes(app).get((method, name))
    if action is None:
        status, payload = 404, {"error": f"no control endpoint {method} {PREFIX}{name}"}
    else:
        try:
            data = json.loads(body.decode("utf-8") or "{}") if body else {}
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
            status, payload = action(data)
        except UnknownObject as exc:
            status, payload = 404, {"error": str(exc)}
        except (ValueError, TypeError, KeyError) as exc:
            status, payload = 400, {"error": f"{type(exc).__name__}: {exc}"}
    return Outcome(
        status,
        json.dumps(payload).encode("utf-8"),
        {"Content-Type": "application/json; charset=utf-8"},
    )


class NotAnEmulator(Exception):
    """The server at the URL does not answer as the emulator's control API does."""


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:  # not UTF-8, or not JSON: an HTML error page, say
        return None


class EmulatorControl:
    """Drive a running emulator over HTTP, with the same control methods as `Emulator`."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the URL is the caller's emulator
            f"{self.url}{PREFIX}{name}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = _decoded(response.read())
        except urllib.error.HTTPError as exc:
            body = _decoded(exc.read())
            if not isinstance(body, dict) or "error" not in body:
                raise NotAnEmulator(f"it answered HTTP {exc.code} to {PREFIX}{name}") from exc
            if exc.code == 404:
                raise LookupError(body["error"]) from exc
            raise ValueError(body["error"]) from exc
        if answer is None:
            raise NotAnEmulator(f"its answer to {PREFIX}{name} is not JSON")
        return answer

    @property
    def parent_sid(self) -> str:
        return str(self._call("GET", "parent")["sid"])

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "state"))

    def approve(self, content_sid: str) -> None:
        self._call("POST", "approve", {"sid": content_sid})

    def reject(self, content_sid: str, reason: str = "INVALID_FORMAT") -> None:
        self._call("POST", "reject", {"sid": content_sid, "reason": reason})

    def set_sender_status(self, sender_sid: str, status: str, reasons: Sequence[str] = ()) -> None:
        body = {"sid": sender_sid, "status": status, "reasons": list(reasons)}
        self._call("POST", "sender-status", body)

    def set_verification_code(self, code: str) -> None:
        self._call("POST", "verification-code", {"code": code})

    def recategorise(self, content_sid: str, category: str) -> None:
        self._call("POST", "recategorise", {"sid": content_sid, "category": category})

    def set_display_name_status(
        self, sender_sid: str, status: str | None, name: str | None = None
    ) -> None:
        self._call("POST", "display-name", {"sid": sender_sid, "status": status, "name": name})

    def advance_clock(self, seconds: float) -> None:
        self._call("POST", "clock", {"seconds": seconds})

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
        self._call(
            "POST",
            "faults",
            {
                "rate_limit_rate": rate_limit_rate,
                "retry_after": retry_after,
                "error_rate": error_rate,
                "error_status": error_status,
                "drop_rate": drop_rate,
                "latency_ms": latency_ms,
                "methods": methods,
            },
        )

    def set_rate_limits(self, limits: dict[str, float] | None) -> None:
        self._call("POST", "rate-limits", {"limits": limits})

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
        self._call(
            "POST",
            "fail-next",
            {"method": method, "path_regex": path_regex, "status": status, "count": count,
             "mode": mode, "message": message, "account": account},
        )  # fmt: skip

    def request_log(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "requests"))

    def request_counts(self) -> dict[str, int]:
        return dict(self._call("GET", "requests/counts"))

    def clear_request_log(self) -> None:
        self._call("POST", "requests/clear", {})

    def reset(self) -> None:
        self._call("POST", "reset", {})

    def create_api_key(self, main: bool = True, account_sid: str | None = None) -> tuple[str, str]:
        result = self._call("POST", "api-keys", {"main": main, "account_sid": account_sid})
        return str(result["sid"]), str(result["secret"])

    def create_subaccount(self, friendly_name: str) -> dict[str, Any]:
        return dict(self._call("POST", "subaccounts", {"friendly_name": friendly_name}))
