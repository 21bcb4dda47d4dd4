"""Injected faults: latency, 429 with Retry-After, 5xx, dropped connections, lost responses.

Rates apply to every API request (the control endpoints are never faulted), optionally
only to some methods. `fail_next` rules take precedence over rates and are consumed in
order. Modes:

- ``error``: answer `status` without doing anything;
- ``drop``: close the connection without doing anything or answering;
- ``commit_then_drop``: do the work, then close without answering (a lost response);
- ``commit_then_error``: do the work, then answer `status` anyway.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

MODES = ("error", "drop", "commit_then_drop", "commit_then_error")


@dataclass
class FaultConfig:
    rate_limit_rate: float = 0.0
    retry_after: int | None = 1
    error_rate: float = 0.0
    error_status: int = 500
    drop_rate: float = 0.0
    latency_ms: int = 0
    methods: frozenset[str] | None = None

    def applies(self, method: str) -> bool:
        return self.methods is None or method in self.methods


@dataclass
class Rule:
    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int
    mode: str
    message: str | None = None  # the error's text (default: "Injected fault")
    account: str | None = None  # only requests whose Basic username this is

    def matches(self, method: str, path: str, user: str | None) -> bool:
        if self.account is not None and user != self.account:
            return False
        return self.method in ("*", method) and self.pattern.search(path) is not None


@dataclass
class Decision:
    """What to do to one request. `action` None means serve it normally."""

    latency_s: float = 0.0
    action: str | None = None  # rate_limit | error | drop | commit_then_drop | commit_then_error
    status: int = 0
    retry_after: int | None = None
    message: str | None = None


@dataclass
class Faults:
    config: FaultConfig = field(default_factory=FaultConfig)
    rules: list[Rule] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(
        self,
        rate_limit_rate: float = 0.0,
        retry_after: int | None = 1,
        error_rate: float = 0.0,
        error_status: int = 500,
        drop_rate: float = 0.0,
        latency_ms: int = 0,
        methods: list[str] | None = None,
    ) -> None:
        for name, rate in (("rate_limit_rate", rate_limit_rate), ("error_rate", error_rate),
                           ("drop_rate", drop_rate)):  # fmt: skip
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if rate_limit_rate + error_rate + drop_rate > 1.0:
            raise ValueError("rate_limit_rate + error_rate + drop_rate must not exceed 1")
        if not 500 <= error_status <= 599:
            raise ValueError("error_status must be a 5xx status")
        if latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        config = FaultConfig(
            rate_limit_rate=rate_limit_rate,
            retry_after=retry_after,
            error_rate=error_rate,
            error_status=error_status,
            drop_rate=drop_rate,
            latency_ms=latency_ms,
            methods=None if methods is None else frozenset(m.upper() for m in methods),
        )
        with self.lock:
            self.config = config

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
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        if not 400 <= status <= 599:
            raise ValueError("status must be a 4xx or 5xx status")
        rule = Rule(method.upper(), re.compile(path_regex), status, count, mode, message, account)
        with self.lock:
            self.rules.append(rule)

    def clear(self) -> None:
        with self.lock:
            self.config = FaultConfig()
            self.rules.clear()

    def describe(self) -> dict[str, Any]:
        with self.lock:
            c = self.config
            return {
                "rate_limit_rate": c.rate_limit_rate,
                "retry_after": c.retry_after,
                "error_rate": c.error_rate,
                "error_status": c.error_status,
                "drop_rate": c.drop_rate,
                "latency_ms": c.latency_ms,
                "methods": None if c.methods is None else sorted(c.methods),
                "pending_rules": [
                    {"method": r.method, "path_regex": r.pattern.pattern, "status": r.status,
                     "count": r.remaining, "mode": r.mode, "account": r.account}
                    for r in self.rules
                ],
            }  # fmt: skip

    def decide(self, method: str, path: str, user: str | None = None) -> Decision:
        """What to do to a request; `user` is its Basic username (an account SID or an
        API key), for the rules made for one account."""
        with self.lock:
            c = self.config
            applies = c.applies(method)
            decision = Decision(latency_s=c.latency_ms / 1000.0 if applies else 0.0)
            for rule in self.rules:
                if rule.matches(method, path, user):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self.rules.remove(rule)
                    decision.action, decision.status = rule.mode, rule.status
                    decision.message = rule.message
                    return decision
            if not applies:
                return decision
            roll = self.rng.random()
            if roll < c.rate_limit_rate:
                decision.action, decision.status = "rate_limit", 429
                decision.retry_after = c.retry_after
            elif roll < c.rate_limit_rate + c.error_rate:
                decision.action, decision.status = "error", c.error_status
            elif roll < c.rate_limit_rate + c.error_rate + c.drop_rate:
                decision.action = "drop"
            return decision
