"""Twilio's rate limits per account and endpoint class, enforced when turned on.

Twilio publishes limits for the Content API only (requests a second, per account:
shared/notes/tech-provider.md): list 20, fetch 100, create 100, update 20, delete 100.
Each (account, class) has a token bucket that holds one second's worth and refills at
the limit; a request that finds it empty is answered 429 (Twilio error 20429) with a
Retry-After of the whole seconds until a token, and is not carried out. The account is
the one whose credentials the request presents (a subaccount's own for Content).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping

PUBLISHED = {"list": 20.0, "fetch": 100.0, "create": 100.0, "update": 20.0, "delete": 100.0}

CLASSES = {
    ("GET", "/v1/Content"): "list",
    ("GET", "/v1/ContentAndApprovals"): "list",
    ("GET", "/v1/Content/{Sid}"): "fetch",
    ("GET", "/v1/Content/{Sid}/ApprovalRequests"): "fetch",
    ("POST", "/v1/Content"): "create",
    ("POST", "/v1/Content/{Sid}/ApprovalRequests/whatsapp"): "create",
    ("PUT", "/v1/Content/{Sid}"): "update",
    ("DELETE", "/v1/Content/{Sid}"): "delete",
}


class RateLimits:
    def __init__(self) -> None:
        self.limits: dict[str, float] = {}
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # tokens, when
        self._lock = threading.Lock()

    def set(self, limits: Mapping[str, float] | None) -> None:
        """Enforce `limits` (class -> requests a second; 0 none) from now on; None stops."""
        checked = {}
        for kind, rate in (limits or {}).items():
            if kind not in PUBLISHED:
                raise ValueError(f"unknown endpoint class {kind!r}: one of {', '.join(PUBLISHED)}")
            if not float(rate) >= 0:
                raise ValueError(f"the limit of {kind!r} must be a number a second, 0 or more")
            checked[kind] = float(rate)
        with self._lock:
            self.limits = checked
            self._buckets.clear()

    def admit(self, account: str, method: str, template: str) -> float:
        """0 when the request may go on (a token taken), else the seconds until one."""
        kind = CLASSES.get((method, template))
        rate = self.limits.get(kind or "")
        if not rate:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, when = self._buckets.get((account, kind or ""), (max(1.0, rate), now))
            tokens = min(max(1.0, rate), tokens + (now - when) * rate)
            if tokens >= 1.0:
                self._buckets[account, kind or ""] = (tokens - 1.0, now)
                return 0.0
            self._buckets[account, kind or ""] = (tokens, now)
            return (1.0 - tokens) / rate


def retry_after(wait: float) -> str:
    """Retry-After in whole seconds, at least 1 (as HTTP has it)."""
    return str(max(1, math.ceil(wait)))
