"""bench.replay: what the benchmark measures wa-sync against once the emulator's own
work is taken off the machine. A replay must answer exactly as the emulator did."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from bench.__main__ import in_flight
from bench.replay import Replay
from wa_sync.emulator import Emulator
from wa_sync.gateway.http import Transport
from wa_sync.gateway.twilio import ParentCredentials, Secret, TwilioGateway
from wa_sync.model import Customer


def gateway(url: str, emu: Emulator) -> TwilioGateway:
    credentials = ParentCredentials(
        account_sid=emu.parent_sid, username=emu.parent_sid, secret=Secret(emu.parent_token)
    )
    http = Transport(base_url=url, attempts=1, timeout=10)
    return TwilioGateway(credentials, http_client=http, parallelism=4, emulated=True)


def test_a_replay_answers_as_the_emulator_did_after_the_latency():
    customers = [Customer(id=f"c{n}", name=f"C{n}") for n in range(3)]
    with Emulator() as emu:
        setup = gateway(emu.url, emu)
        for customer in customers:
            setup.create_subaccount(customer)
        setup.close()
        direct = gateway(emu.url, emu)
        expected = direct.read(customers)
        direct.close()

        with Replay(upstream=emu.url) as replay:
            recording = gateway(replay.url, emu)
            assert recording.read(customers) == expected
            recording.close()
            requests = len(replay.log)
            assert requests == 1 + 2 * len(customers)

            replay.replay(latency_s=0.05)
            emu.clear_request_log()
            replayed = gateway(replay.url, emu)
            started = time.monotonic()
            assert replayed.read(customers) == expected
            replayed.close()
            assert emu.request_log() == []  # the emulator was not asked again
            # the listing, then the subaccounts' reads at once: two latencies at least
            assert time.monotonic() - started >= 0.1
            log = replay.log[requests:]
            assert len(log) == requests
            assert all(e["finished"] - e["started"] >= 0.05 for e in log)
            assert {e["account_sid"] for e in log} == {
                emu.parent_sid,
                *(a.sid for a in expected.accounts),
            }
            # the benchmark reads it as it reads the emulator's (row a2 failed on it)
            assert in_flight(log) == (3, 1)  # the three subaccounts at once, one each


def test_a_request_that_was_not_recorded_is_not_found():
    with Replay() as replay:
        replay.replay(latency_s=0.0)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{replay.url}/2010-04-01/Accounts.json", timeout=5)
        assert refused.value.code == 404
