"""Pacing within Twilio's rate limits (issue #18.6): against an emulator that enforces
per-account limits by endpoint class, an apply and a plan through the CLI get no 429,
and never have more requests in flight than the parallelism (the emulator's request log)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.helpers import ISV, customer_doc
from wa_sync.emulator import most_in_flight

LIMITS = {"list": 2.0, "fetch": 5.0, "create": 5.0, "update": 2.0, "delete": 5.0}
AS_ENV = ",".join(f"{kind}={rate:g}" for kind, rate in LIMITS.items())


def extra_templates(n: int) -> list[dict]:
    return [
        {
            "name": f"notice_{i}",
            "language": "en",
            "category": "UTILITY",
            "body": f"Notice {i}: {{{{1}}}}, your appointment at Clinic {n} is confirmed.",
            "variables": {"1": "Maria"},
        }
        for i in range(2)
    ]


@pytest.fixture
def estate(repo):
    repo.write("wa-sync.yaml", {**ISV, "settings": {"parallelism": 2}})
    for n in (1, 2, 3):
        doc = customer_doc(n)
        doc["templates"] = doc["templates"] + extra_templates(n)
        repo.customer(f"clinic-{n}", doc)
    return repo


def run_limited(cli, env, emulator, *, pace: str) -> list[dict]:
    emulator.set_rate_limits(LIMITS)
    environ = {**env, "WA_SYNC_TWILIO_RATE_LIMITS": pace}
    assert cli("apply", "--auto-approve", environ=environ).code == 0
    assert cli("plan", "--detailed-exitcode", environ=environ).code in (0, 2)
    return emulator.request_log()


def test_an_apply_and_a_plan_get_no_429_and_keep_within_the_parallelism(estate, cli, env, emulator):
    log = run_limited(cli, env, emulator, pace=AS_ENV)
    creates = Counter(e["account_sid"] for e in log if e["method"] == "POST")
    assert max(creates.values()) > LIMITS["create"]  # more than one second's worth each
    assert [e for e in log if e["status"] == 429] == []
    assert most_in_flight(log) <= 2


def test_without_pacing_the_same_run_is_rate_limited(estate, cli, env, emulator):
    """The measurement can see a violation: pacing turned off, Twilio's limits bite."""
    log = run_limited(cli, env, emulator, pace="list=0,fetch=0,create=0,update=0,delete=0")
    assert [e for e in log if e["status"] == 429]
