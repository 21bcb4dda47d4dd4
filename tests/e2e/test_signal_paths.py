"""A first signal before any write, on the paths the sweeps of test_signal_points.py do
not take: a scoped plan's reads out of its scope, a plan saved with --out, a git that
the terminal's Ctrl-C stopped too. Each signal is a real one, sent to the process
(this one, as a function of wa-sync's is entered; or a spawned one's process group, as
a terminal does) while it runs against the emulator.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.commands.test_changed_since import commit
from tests.e2e.helpers import customer_doc, estate_writes, spawn, wait_for
from tests.e2e.test_lock import lock_documents

OUT_OF_SCOPE = 12
SENDERS = "/v2/Channels/Senders"
CONTENTS = "/v1/ContentAndApprovals"


class SignalOn:
    """Sends `signum` to this process as the function `name` of the file ending in
    `file` is entered (the first time)."""

    def __init__(self, file: str, name: str, signum: int = signal.SIGINT):
        self.file, self.name, self.signum, self.sent = file, name, signum, False

    def __call__(self, frame, event, arg):
        code = frame.f_code
        if not self.sent and code.co_name == self.name and code.co_filename.endswith(self.file):
            self.sent = True
            os.kill(os.getpid(), self.signum)
        return


def traced(cli, trace: SignalOn, *args: str):
    sys.settrace(trace)
    try:
        result = cli(*args)
    finally:
        sys.settrace(None)
    assert trace.sent, f"{trace.name} was never called"
    return result


def said_interrupted(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("Interrupted")]


def test_apply_stopped_before_its_first_write_says_so_once(repo, emulator, cli):
    """apply's own message, then the command's end checked for the signal again and
    told it a second time: "Interrupted (SIGTERM) before any change was made." and
    "Interrupted."."""
    repo.customer("clinic-1", customer_doc(1))
    stopped = traced(cli, SignalOn("commands/common.py", "read_and_plan", signal.SIGTERM), "apply",
                     "--auto-approve")  # fmt: skip
    assert stopped.code == 143, stopped.err
    assert said_interrupted(stopped.err) == ["Interrupted (SIGTERM) before any change was made."]
    assert estate_writes(emulator.request_log()) == []
    assert lock_documents(emulator) == []


def registering_out_of_scope(repo, cli) -> None:
    """OUT_OF_SCOPE customers applied, and clinic-99 new: a plan scoped to it registers a
    number, so it reads the others' senders (commands/elsewhere.py)."""
    for n in range(1, OUT_OF_SCOPE + 1):
        repo.customer(f"clinic-{n}", customer_doc(n))
    assert cli("apply", "--auto-approve").code == 0
    repo.customer("clinic-99", customer_doc(99))


def test_a_signal_while_a_scoped_plan_reads_out_of_its_scope_stops_those_reads(repo, emulator, cli):
    """Those reads had no checkpoint: every subaccount's senders were read after the
    signal (12 here; a thousand in a large estate), before apply stopped."""
    registering_out_of_scope(repo, cli)
    emulator.set_faults(latency_ms=200, methods=["GET"])
    emulator.clear_request_log()
    stopped = traced(cli, SignalOn("commands/elsewhere.py", "read_elsewhere"), "apply",
                     "--auto-approve", "--customer", "clinic-99", "--parallelism", "2")  # fmt: skip
    assert stopped.code == 130, stopped.err
    assert "This plan registers a number" in stopped.err
    assert said_interrupted(stopped.err) == ["Interrupted (SIGINT) before any change was made."]
    listings = [r for r in emulator.request_log() if r["path"] == SENDERS and r["method"] == "GET"]
    assert len(listings) < OUT_OF_SCOPE / 2, len(listings)  # the first answers, not all
    assert estate_writes(emulator.request_log()) == []


def test_a_plan_interrupted_after_its_reads_neither_saves_nor_prints_it(
    repo, emulator, cli, tmp_path
):
    """It was saved with --out and printed whole, and only then said "Interrupted."."""
    registering_out_of_scope(repo, cli)
    saved = tmp_path / "plan.json"
    stopped = traced(cli, SignalOn("plan/build.py", "finish"), "plan", "--customer", "clinic-99",
                     "--out", str(saved))  # fmt: skip
    assert stopped.code == 130, stopped.err
    assert said_interrupted(stopped.err) == ["Interrupted."]
    assert stopped.out == ""
    assert not saved.exists()


def slow_git(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A `git` first on PATH that says when it starts, then waits before running git."""
    bin_dir, started = tmp_path / "bin", tmp_path / "git-started"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(f'#!/bin/sh\ntouch {started}\nsleep 5\nexec {shutil.which("git")} "$@"\n')
    wrapper.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, started


def test_ctrl_c_on_a_terminal_while_git_runs_is_told_as_an_interrupt(repo, emulator, env, tmp_path):
    """A terminal's Ctrl-C goes to the whole process group: git stops too, and the
    signal, only recorded, came second to git's failure: "Error: --changed-since ...
    is not in a git work tree (git rev-parse exited -2)", exit 1."""
    repo.customer("clinic-1", customer_doc(1))
    base = commit(repo.root)
    repo.customer("clinic-2", customer_doc(2))
    path, started = slow_git(tmp_path)
    apply = spawn(repo.root, env, "apply", "--auto-approve", "--changed-since", base,
                  env_extra=path, start_new_session=True)  # fmt: skip
    wait_for(lambda: started.exists() or apply.poll() is not None, "git")
    assert apply.poll() is None, apply.communicate()
    os.killpg(apply.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
    _out, err = apply.communicate(timeout=60)
    assert apply.returncode == 130, err
    assert said_interrupted(err) == ["Interrupted (SIGINT) before any change was made."]
    assert "Error" not in err
    assert estate_writes(emulator.request_log()) == []


def test_a_report_opened_before_the_signal_was_found_lists_every_change_as_not_started(
    repo, emulator, cli, tmp_path
):
    """A signal while the plan was shown (or the report opened) is found at the first
    write, once the report is open: it held a header and a summary of 0 changes, with
    no word of the plan's changes nor of the signal."""
    repo.customer("clinic-1", customer_doc(1))
    report = tmp_path / "report.jsonl"
    stopped = traced(cli, SignalOn("commands/apply.py", "_show_plan", signal.SIGTERM), "apply",
                     "--auto-approve", "--report", str(report))  # fmt: skip
    assert stopped.code == 143, stopped.err
    assert said_interrupted(stopped.err) == ["Interrupted (SIGTERM) before any change was made."]
    assert estate_writes(emulator.request_log()) == []
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    changes = [line for line in lines if line["type"] == "change"]
    summary = lines[-1]
    assert len(changes) == 8, changes  # a subaccount, a sender, 3 contents, 3 submissions
    assert {c["result"] for c in changes} == {"not_started"}
    assert summary["type"] == "summary"
    assert not summary["completed"]
    assert summary["stopped_by"] == "SIGTERM received"
    assert summary["counts"] == {"not_started": 8}
    assert summary["before_any_change"] is True
    assert summary["exit_code"] == 143


def interrupted_while_twilio_asks_to_wait(repo, emulator, env, *command: str) -> tuple[int, str]:
    """`wa-sync COMMAND` for clinic-1, every read answered 429 and "Retry-After: 60",
    sent SIGINT once its first request is in: its exit code and standard error, within
    30 s (not after the five attempts and their waits)."""
    repo.customer("clinic-1", customer_doc(1))
    emulator.set_faults(rate_limit_rate=1.0, retry_after=60, methods=["GET"])
    emulator.clear_request_log()
    process = spawn(repo.root, env, *command)
    try:
        wait_for(lambda: emulator.request_log() or process.poll() is not None, "the first read")
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    return process.returncode, err


def test_a_signal_while_twilio_asks_to_wait_stops_the_plan_without_waiting(repo, emulator, env):
    """The recorded signal was only acted on once a customer was read: with every read
    answered 429 and "Retry-After: 60", after the request's five attempts and four
    waits of a minute. Now the request's wait looks for it (gateway/http.py)."""
    code, err = interrupted_while_twilio_asks_to_wait(repo, emulator, env, "plan")
    assert code == 130, err
    assert said_interrupted(err) == ["Interrupted."]
    assert len(emulator.request_log()) == 1


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (("apply", "--auto-approve"), "Interrupted (SIGINT) before any change was made."),
        (("unlock", "--yes"), "Interrupted."),
    ],
    ids=["apply-taking-the-lock", "unlock"],
)
def test_a_signal_while_twilio_asks_the_lock_s_requests_to_wait_stops_them(
    repo, emulator, env, command, said
):
    """The apply lock's requests (taking it, unlock's reads) went over the lock's own
    connections, which no signal stops so that the release goes on: with Sync answering
    429 and "Retry-After: 60", apply (or unlock) went on through the five attempts and
    their waits, about four minutes after the signal."""
    code, err = interrupted_while_twilio_asks_to_wait(repo, emulator, env, *command)
    assert code == 130, err
    assert said_interrupted(err) == [said]
    assert [r["path"] for r in emulator.request_log()] == ["/v1/Services"]
    emulator.set_faults()
    assert lock_documents(emulator) == []


def signalled_elsewhere(when: Callable[[], bool], what: str) -> threading.Thread:
    """A thread, started, that once `when()` has the system run SIGINT on it, not on the
    main thread: the main thread's wait is then interrupted no more than by a signal that
    came just before that wait began (under load, the main thread held back)."""

    def send() -> None:
        wait_for(when, what)
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)  # this thread's

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_a_signal_that_interrupts_no_wait_of_the_main_thread_still_stops_unlock(
    repo, emulator, cli
):
    """unlock hung (a flaky `make test`, 1 run in about 50 under load): its main thread
    waited without end on a queue while a thread of its own made its request, and the
    SIGINT came just before that wait began: its handler, which only the main thread
    runs, waited for the request's five attempts and their waits of Twilio's
    Retry-After (docs/reliability.md #106)."""
    repo.customer("clinic-1", customer_doc(1))
    emulator.set_faults(rate_limit_rate=1.0, retry_after=10, methods=["GET"])
    emulator.clear_request_log()
    elsewhere = signalled_elsewhere(lambda: bool(emulator.request_log()), "the first read")
    stopped = cli("unlock", "--yes")
    elsewhere.join()
    assert stopped.code == 130, stopped.err
    assert said_interrupted(stopped.err) == ["Interrupted."]
    assert [r["path"] for r in emulator.request_log()] == ["/v1/Services"]  # not tried again


def test_a_signal_that_interrupts_no_wait_of_the_main_thread_stops_the_reads_of_a_plan(
    repo, emulator, cli
):
    """As above, while the main thread waited for the reads of a pool (`as_completed`),
    without end: the subaccount's read went on through its five attempts and their waits
    of Twilio's Retry-After (a minute each). Its wait now looks each half second."""
    repo.customer("clinic-1", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    emulator.set_rate_limits({"list": 0.01})  # a token a hundred seconds: Retry-After 100
    assert cli("plan").code == 0  # took the subaccount's token for listing its contents
    emulator.clear_request_log()

    def contents_refused() -> bool:
        log = emulator.request_log()
        return any(r["path"] == CONTENTS and r["status"] == 429 for r in log)

    elsewhere = signalled_elsewhere(contents_refused, "the contents' listing, answered 429")
    stopped = cli("plan")
    elsewhere.join()
    assert stopped.code == 130, stopped.err
    assert said_interrupted(stopped.err) == ["Interrupted."]
    assert [r["path"] for r in emulator.request_log()].count(CONTENTS) == 1  # not tried again
