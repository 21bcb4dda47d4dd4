"""Interrupts (SPEC §4.8): the first SIGINT or SIGTERM stops apply from starting new
writes, the writes in flight finish, the summary and the report say what was done and
what was not, and the exit code is 130 or 143; a second signal stops at once; the next
apply completes the rest with no duplicate.

Each apply runs in its own process against the emulator with latency; the writes that
started after the signal are counted from the emulator's request log (its monotonic
times are the machine's, as the test's are).
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import customer_doc, estate_writes, spawn, wait_for
from tests.e2e.test_faults import assert_no_duplicates

CUSTOMERS = 24
PARALLELISM = 4
CHANGES = CUSTOMERS * 8  # a subaccount, a sender, three contents, three submissions each


@pytest.fixture
def estate(repo, emulator):
    for n in range(1, CUSTOMERS + 1):
        repo.customer(f"clinic-{n}", customer_doc(n))
    emulator.set_faults(latency_ms=150, methods=["POST", "DELETE"])
    return repo


def start_apply(estate, env, report: Path, **popen):
    return spawn(
        estate.root,
        env,
        "apply",
        "--auto-approve",
        "--parallelism",
        str(PARALLELISM),
        "--report",
        str(report),
        **popen,
    )


def writes_started(emulator, since: float = 0.0) -> list[dict]:
    return [r for r in estate_writes(emulator.request_log()) if r["started"] > since]


def signal_mid_apply(process, emulator, signum: int) -> float:
    """Send `signum` once the apply has made a few writes; when it was sent."""
    wait_for(lambda: len(writes_started(emulator)) >= 6, "the apply's first writes")
    sent = time.monotonic()
    process.send_signal(signum)
    return sent


def read_report(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_resumes(cli, emulator) -> None:
    emulator.set_faults()
    again = cli("apply", "--auto-approve")
    assert again.code == 0, again.out + again.err
    assert_no_duplicates(emulator)
    final = cli("plan", "--detailed-exitcode")
    assert final.code == 0, final.out + final.err


@pytest.mark.parametrize(
    ("signum", "code", "name"),
    [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_stops_new_writes_and_the_next_apply_completes_the_rest(
    estate, emulator, env, cli, tmp_path, signum, code, name
):
    report = tmp_path / "report.jsonl"
    process = start_apply(estate, env, report)
    sent = signal_mid_apply(process, emulator, signum)
    out, err = process.communicate(timeout=120)

    assert process.returncode == code, err
    assert len(writes_started(emulator, since=sent)) <= PARALLELISM
    assert f"{name} received: no new change will start" in err
    assert f"Apply stopped ({name} received)" in out
    records = read_report(report)
    changes = [r for r in records if r["type"] == "change"]
    summary = records[-1]
    assert summary["type"] == "summary"
    assert summary["completed"] is False
    assert summary["stopped_by"] == f"{name} received"
    assert len(changes) == CHANGES  # every change is on record, done or not
    not_started = [r["address"] for r in changes if r["result"] == "not_started"]
    assert not_started
    assert {r["result"] for r in changes} <= {"ok", "not_started"}
    assert all(
        f"  {'submit' if '/template.' in a else 'create'} {a}" in out
        for a in not_started
        if a.count("/") == 0
    )
    assert_resumes(cli, emulator)


def test_sigint_works_without_a_terminal_and_when_inherited_ignored(
    estate, emulator, env, cli, tmp_path
):
    """A non-interactive shell starts background jobs with SIGINT ignored."""

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    report = tmp_path / "report.jsonl"
    process = start_apply(estate, env, report, stdin=None, preexec_fn=ignore_sigint)
    sent = signal_mid_apply(process, emulator, signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert len(writes_started(emulator, since=sent)) <= PARALLELISM
    assert read_report(report)[-1]["stopped_by"] == "SIGINT received"
    assert_resumes(cli, emulator)


def test_a_second_signal_stops_at_once_and_nothing_is_duplicated(
    estate, emulator, env, cli, tmp_path
):
    """The second is SIGTERM, as a CI runner cancels (SIGINT, then SIGTERM): the report
    said "SIGTERM received twice", of a SIGTERM received once."""
    report = tmp_path / "report.jsonl"
    process = start_apply(estate, env, report)
    wait_for(lambda: len(writes_started(emulator)) >= 6, "the apply's first writes")
    emulator.set_faults(latency_ms=4000, methods=["POST", "DELETE"])  # the next writes hang
    time.sleep(0.5)  # each worker's next write has started, and takes 4 s
    process.send_signal(signal.SIGINT)
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(process.stderr), daemon=True)
    reader.start()
    wait_for(lambda: any("SIGINT received" in line for line in said), "the first signal's effect")
    process.send_signal(signal.SIGTERM)
    out = process.stdout.read()
    process.wait(timeout=60)
    reader.join(timeout=10)
    err = "".join(said)

    assert process.returncode == 143, err  # the signal that stopped it at once
    assert "Apply stopped (SIGINT received, then SIGTERM, stopped at once)" in out
    records = read_report(report)
    summary = records[-1]
    assert summary["type"] == "summary"
    assert summary["completed"] is False
    assert summary["stopped_by"] == "SIGINT received, then SIGTERM, stopped at once"
    results = {r["result"] for r in records if r["type"] == "change"}
    assert "unknown" in results  # the writes left in flight
    assert "Stopped at once, these may or may not have been made:" in out
    assert "The apply lock is left to expire within 60 s" in err
    assert not [
        r
        for r in emulator.request_log()
        if r["method"] == "DELETE" and "/Documents/" in r["path"]  # no release of the lock
    ]
    emulator.advance_clock(61)
    assert_resumes(cli, emulator)


def test_a_signal_before_the_first_write_changes_nothing(estate, emulator, env, cli):
    emulator.set_faults(latency_ms=300, methods=["GET"])  # a slow read, before any write
    process = spawn(estate.root, env, "apply", "--auto-approve")
    wait_for(
        lambda: (
            any(r["method"] == "GET" for r in emulator.request_log()) or process.poll() is not None
        ),
        "the apply's first read",
    )
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert "before any change was made" in err
    assert estate_writes(emulator.request_log()) == []
    assert "Traceback" not in err
    assert_resumes(cli, emulator)


def test_a_third_signal_while_the_writes_left_behind_end_is_not_a_traceback(
    estate, emulator, env, cli, tmp_path
):
    """After a stop at once the process still waits for the writes in flight; a third
    Ctrl-C there printed a KeyboardInterrupt traceback from the interpreter's exit."""
    process = start_apply(estate, env, tmp_path / "report.jsonl")
    wait_for(lambda: len(writes_started(emulator)) >= 6, "the apply's first writes")
    emulator.set_faults(latency_ms=6000, methods=["POST", "DELETE"])  # the next writes hang
    time.sleep(0.5)
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(process.stderr), daemon=True)
    reader.start()
    process.send_signal(signal.SIGINT)
    wait_for(lambda: any("SIGINT received" in line for line in said), "the first signal's effect")
    process.send_signal(signal.SIGINT)
    wait_for(lambda: any("left to expire" in line for line in said), "the stop at once")
    time.sleep(0.5)  # past the summary: the process waits for the writes in flight
    process.send_signal(signal.SIGINT)
    process.stdout.read()
    process.wait(timeout=60)
    reader.join(timeout=10)
    err = "".join(said)

    assert process.returncode in (-signal.SIGINT, 130), err
    assert "Traceback" not in err
    assert "Exception ignored" not in err
    emulator.advance_clock(61)
    assert_resumes(cli, emulator)


def test_a_signal_once_there_is_nothing_to_apply_changes_nothing(estate, emulator, env, cli):
    """Once the plan says there is nothing to apply, a signal (here while the lock's
    release is on its way) changes nothing: exit 0, no "Interrupted", as after the last
    write. It used to stop it at once (130), and a signal landing in a callback of
    Python's (a weakref's) printed a traceback (the model test's soak)."""
    emulator.set_faults()
    assert cli("apply", "--auto-approve").code == 0
    emulator.set_faults(latency_ms=2000, methods=["DELETE"])  # the lock's release
    emulator.clear_request_log()
    process = spawn(estate.root, env, "apply", "--auto-approve")
    wait_for(
        lambda: (
            any("ContentAndApprovals" in r["path"] for r in emulator.request_log())
            or process.poll() is not None
        ),
        "the apply's reads",
    )
    time.sleep(0.5)  # the plan is shown; the release's delete is on its way
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, out + err
    assert "Nothing to apply." in out
    assert "Interrupted" not in err
    assert "Traceback" not in err


def test_a_write_twilio_asks_to_wait_after_the_first_signal_is_not_tried_again(
    repo, emulator, env, cli, tmp_path
):
    """SPEC §4.8: the writes in flight finish, bounded by the request timeout. A write
    answered 429 with "Retry-After: 60" went on through its five attempts and their
    waits, about four minutes after the first Ctrl-C. Twilio made none of it (429): it
    fails as Twilio answered, and the next apply makes it."""
    for n in range(1, 5):
        repo.customer(f"clinic-{n}", customer_doc(n))
    report = tmp_path / "report.jsonl"
    emulator.set_faults(latency_ms=100, methods=["POST"])
    process = spawn(repo.root, env, "apply", "--auto-approve", "--parallelism", "2",
                    "--report", str(report))  # fmt: skip
    try:
        wait_for(lambda: len(writes_started(emulator)) >= 3, "the apply's first writes")
        emulator.set_faults(rate_limit_rate=1.0, retry_after=60, methods=["POST"])
        wait_for(lambda: any(r["status"] == 429 for r in emulator.request_log()), "a 429")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)  # not after four minutes
    finally:
        process.kill()

    assert process.returncode == 130, err
    changes = [r for r in read_report(report) if r["type"] == "change"]
    failed = [r for r in changes if r["result"] == "failed"]
    assert failed, out
    assert all("429 Too Many Requests (not tried again: apply is stopping)" in r["error"]
               for r in failed), failed  # fmt: skip
    assert read_report(report)[-1]["stopped_by"] == "SIGINT received"
    assert_resumes(cli, emulator)
