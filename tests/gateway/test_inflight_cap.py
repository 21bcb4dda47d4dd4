"""Twilio's concurrency limit per account: the gateway never has more requests in
flight for one account than WA_SYNC_TWILIO_CONCURRENCY, measured on the
emulator's request log (each entry carries when it started and finished)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from tests.plan.factories import customer, template
from wa_sync.connect import open_gateway
from wa_sync.emulator import Emulator, most_in_flight


def burst(limit: int) -> int:
    """Create 16 contents in one subaccount from 16 threads; the peak in flight."""
    with Emulator(latency_ms=60) as emu:
        environ = {
            "TWILIO_ACCOUNT_SID": emu.parent_sid,
            "TWILIO_AUTH_TOKEN": emu.parent_token,
            "WA_SYNC_TWILIO_URL": emu.url,
            "WA_SYNC_TWILIO_CONCURRENCY": str(limit),
        }
        c = customer()
        with open_gateway(environ=environ, root=".", emulator=False, parallelism=16) as gateway:
            account = gateway.create_subaccount(c)
            emu.clear_request_log()
            templates = [replace(template(f"t{i}")) for i in range(16)]
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda t: gateway.create_content(account, t, t.name), templates))
        posts = [e for e in emu.request_log() if e["account_sid"] == account.sid]
        assert len(posts) == 16
        return most_in_flight(posts)


@pytest.mark.parametrize("limit", [2, 4])
def test_requests_in_flight_per_account_never_exceed_the_cap(limit):
    assert burst(limit) <= limit


def test_without_a_tight_cap_the_same_burst_goes_wider():
    # proves the measurement can see a violation: with a cap of 16, more than 4 overlap
    assert burst(16) > 4
