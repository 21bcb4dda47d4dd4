"""A command that ends while some of its reads are still under way (a first signal before
any write ends it as soon as one read stops for it) leaves those reads behind: their
pool is given up, not waited for, yet the interpreter's exit waits for its threads. Once
the command's signal block was over nothing stopped them: a read answered 429 then
waited out Twilio's `Retry-After` (a minute), and the process printed `Interrupted.` and
hung that long (in CI, a job that hangs after its error); a Ctrl-C there was only
recorded. The gateway's close now ends them (gateway/http.py `Transport.close`).

The command runs in its own process (`python -m wa_sync`) against the emulator, whose
GETs take LATENCY_MS: clinic-1's read stops at its contents' listing, answered 429 with
`Retry-After`, while clinic-2's, one request behind (its senders' listing answered 500
once), has its own listing of contents on its way; then the signal comes.
"""

from __future__ import annotations

import signal
import time

from tests.e2e.helpers import customer_doc, spawn, wait_for
from tests.e2e.test_reconcile import account_of

LATENCY_MS = 3000  # each GET's
SENDERS = "/v2/Channels/Senders"
CONTENTS = "/v1/ContentAndApprovals"


def contents_refused(emulator) -> set[str]:
    """The accounts whose listing of contents was answered 429."""
    log = emulator.request_log()
    return {r["account_sid"] for r in log if r["path"] == CONTENTS and r["status"] == 429}


def test_a_read_left_behind_by_a_signal_does_not_hold_the_process_for_twilios_retry_after(
    repo, emulator, env, cli
):
    for n in (1, 2):
        repo.customer(f"clinic-{n}", customer_doc(n))
    assert cli("apply", "--auto-approve").code == 0
    first, second = (account_of(emulator, f"clinic-{n}")["sid"] for n in (1, 2))
    emulator.set_rate_limits({"list": 0.01})  # a token a hundred seconds: Retry-After 100
    assert cli("plan").code == 0  # took each subaccount's token for listing its contents
    emulator.set_faults(latency_ms=LATENCY_MS, methods=["GET"])
    emulator.fail_next("GET", SENDERS, status=500, account=second)  # one request behind
    emulator.clear_request_log()
    process = spawn(repo.root, env, "plan")
    try:
        wait_for(
            lambda: first in contents_refused(emulator) or process.poll() is not None,
            "clinic-1's listing of contents, answered 429",
        )
        assert process.poll() is None, process.communicate()
        time.sleep(LATENCY_MS / 2000)  # clinic-2's listing of contents is half way
        assert second not in contents_refused(emulator)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)  # not after clinic-2's Retry-After
    finally:
        process.kill()

    assert process.returncode == 130, err
    assert err.splitlines()[-1] == "Interrupted.", err
    assert "Traceback" not in err
    assert second in contents_refused(emulator)  # answered 429 after the signal ...
    log = emulator.request_log()
    assert [r["path"] for r in log if r["account_sid"] == second].count(CONTENTS) == 1  # once
