"""The fault campaign (issue 8): seeded random schedules of 429s, 5xx, dropped
connections, latency spikes and kill points over a multi-customer apply.

Property: once the faults stop, a few re-applies bring Twilio (the emulator) to
exactly the desired state with no duplicate subaccount, sender or content, and a
final plan reports no changes. Bounded: a fixed set of seeds, a few rounds each.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.e2e.helpers import customer_doc
from tests.e2e.test_faults import REPO_ROOT, assert_no_duplicates, converge

CUSTOMERS = 5
EXPECTED_CONTENTS = {
    ("appointment_reminder", "en"),
    ("appointment_reminder", "es"),
    ("recall_offer", "en"),
}


def assert_desired_state(emu) -> None:
    state = emu.state()
    managed = {
        a["friendly_name"]: a["sid"]
        for a in state["accounts"]
        if a["friendly_name"].startswith("wa-sync:")
    }
    assert set(managed) == {f"wa-sync:clinic-{n}" for n in range(1, CUSTOMERS + 1)}
    for name, account_sid in managed.items():
        n = int(name.rsplit("-", 1)[1])
        contents = state["contents"].get(account_sid, [])
        assert {(c["friendly_name"], c["language"]) for c in contents} == EXPECTED_CONTENTS
        assert all(c["approval"]["status"] != "unsubmitted" for c in contents), name
        senders = state["senders"].get(account_sid, [])
        assert [s["sender_id"] for s in senders] == [f"whatsapp:+1415555{n:04d}"]


def killed_apply(root, env, rng: random.Random) -> None:
    """An apply in its own process, SIGKILLed at a random moment."""
    process = subprocess.Popen(
        [sys.executable, "-m", "wa_sync", "apply", "--auto-approve", "--root", str(root)],
        cwd=REPO_ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(rng.uniform(0.3, 2.0))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.parametrize("seed", [11, 23, 47])
def test_random_fault_schedules_converge_without_duplicates(seed, repo, cli, emulator, env):
    rng = random.Random(seed)
    for n in range(1, CUSTOMERS + 1):
        repo.customer(f"clinic-{n}", customer_doc(n))
    for _ in range(4):
        emulator.set_faults(
            rate_limit_rate=rng.choice([0.0, 0.1, 0.2]),
            retry_after=0,
            error_rate=rng.choice([0.0, 0.1, 0.2]),
            error_status=rng.choice([500, 502, 503]),
            drop_rate=rng.choice([0.0, 0.05, 0.1]),
            latency_ms=rng.choice([0, 0, 20, 80]),
        )
        if rng.random() < 0.4:
            killed_apply(repo.root, env, rng)
            emulator.advance_clock(61)  # the killed apply's lock expires (SPEC §4.8)
        else:
            cli("apply", "--auto-approve")  # may fail: the faults are meant to bite
    emulator.set_faults()
    converge(cli)
    assert_no_duplicates(emulator)
    assert_desired_state(emulator)
    final = cli("plan", "--detailed-exitcode")
    assert final.code == 0, final.out + final.err
