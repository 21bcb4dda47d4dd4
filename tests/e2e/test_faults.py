"""Apply under faults: rate limits, server errors, lost responses, a killed process.

The property is always the same: a few re-applies converge to the desired state
with no duplicate subaccount, sender or content, and a final plan has no changes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.helpers import customer_doc, estate_writes

REPO_ROOT = Path(__file__).resolve().parents[2]


def assert_no_duplicates(emu) -> None:
    state = emu.state()
    names = Counter(a["friendly_name"] for a in state["accounts"])
    assert all(n == 1 for name, n in names.items() if name.startswith("wa-sync:")), names
    for account_sid, contents in state["contents"].items():
        keys = Counter((c["friendly_name"], c["language"]) for c in contents)
        assert all(n == 1 for n in keys.values()), (account_sid, keys)
    for account_sid, senders in state["senders"].items():
        ids = Counter(s["sender_id"] for s in senders)
        assert all(n == 1 for n in ids.values()), (account_sid, ids)


def converge(cli, attempts: int = 5) -> int:
    """Apply until an apply succeeds; return how many it took."""
    for attempt in range(1, attempts + 1):
        if cli("apply", "--auto-approve").code == 0:
            return attempt
    raise AssertionError(f"no convergence in {attempts} applies")


@pytest.fixture
def estate(repo):
    for n in range(1, 5):
        repo.customer(f"clinic-{n}", customer_doc(n))
    return repo


def test_thirty_percent_429_and_5xx_converge_without_duplicates(estate, cli, emulator):
    emulator.set_faults(rate_limit_rate=0.15, retry_after=0, error_rate=0.15, error_status=503)
    converge(cli)
    emulator.set_faults()
    assert_no_duplicates(emulator)
    assert cli("plan", "--detailed-exitcode").code == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", r"^/2010-04-01/Accounts\.json$"),
        ("POST", r"^/v2/Channels/Senders$"),
        ("POST", r"^/v1/Content$"),
        ("POST", r"^/v1/Content/HX[0-9a-f]+/ApprovalRequests/whatsapp$"),
    ],
    ids=["subaccount", "sender", "content", "submission"],
)
def test_a_lost_response_after_commit_creates_no_duplicate(estate, cli, emulator, method, path):
    emulator.fail_next(method, path, status=500, count=1, mode="commit_then_drop")
    converge(cli)
    assert_no_duplicates(emulator)
    assert cli("plan", "--detailed-exitcode").code == 0


def test_an_apply_killed_mid_write_is_completed_by_the_next_one(estate, emulator, env, cli):
    emulator.set_faults(latency_ms=150, methods=["POST"])
    process = subprocess.Popen(
        [sys.executable, "-m", "wa_sync", "apply", "--auto-approve", "--root", str(estate.root)],
        cwd=REPO_ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            posts = [r for r in emulator.request_log() if r["path"] == "/v1/Content"]
            if posts:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the apply never created a content")
        time.sleep(0.1)  # another write is in flight now
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    emulator.set_faults()
    # its lock outlives it (SPEC §4.8): the next apply refuses, naming it, and writes nothing
    emulator.clear_request_log()
    refused = cli("apply", "--auto-approve")
    assert refused.code == 1
    assert f"pid {process.pid}" in refused.err
    assert "wa-sync unlock" in refused.err
    assert not estate_writes(emulator.request_log())
    emulator.advance_clock(61)  # past the lock's time to live: Twilio deletes it
    converge(cli)
    assert_no_duplicates(emulator)
    assert cli("plan", "--detailed-exitcode").code == 0
