"""A real SIGINT at any point of an apply before its first write stops it cleanly:
exit 130, "before any change was made", no traceback, no write, no lock left; a plan
too, and a second SIGINT right after the first.

CPython runs a signal's handler in the main thread right after a call returns. A
handler that raised there could land inside Python code holding a lock (`threading`'s
own, as inside `Thread.start`, which then said "internal error"; a pool's or a
future's, which hangs the interpreter's exit). The trace below sends the process a
SIGINT after the nth call in wa-sync's, `threading`'s, `queue`'s and
`concurrent.futures`' code, for points spread over the whole of the apply up to its
first write, taking the lock and the reads included. The apply runs in this process
(the main thread, where signals land) against the emulator. Whether a thread has
started, or a future is done, when the signal lands changes which code it lands in, so
this sweep is a guard, not a reproduction: tests/test_interrupts.py holds the
deterministic one (a signal inside `Condition.wait`).
"""

from __future__ import annotations

import concurrent.futures
import dis
import faulthandler
import json
import os
import queue
import signal
import sys
import threading
import time
from pathlib import Path

from tests.e2e.helpers import customer_doc, estate_writes
from tests.e2e.test_interrupts import assert_no_duplicates
from tests.e2e.test_lock import lock_documents

TRACED = (
    threading.__file__,
    queue.__file__,
    str(Path(concurrent.futures.__file__).parent),
    str(Path(__file__).resolve().parents[2] / "wa_sync"),
)
POOLS = ("wa-sync-read", "apply_")
APPLY = ("commands/apply.py", "_run")
FIRST_WRITE = ("interrupts.py", "writing")
PLAN = ("commands/plan.py", "run")
PLAN_END = ("commands/plan.py", "render")  # the plan made, before it is printed
WRITES = ("commands/execution.py", "run")  # the writes, from the first
WRITES_END = ("commands/execution.py", "finish")
SAMPLES = 20  # points tried, spread evenly, with a quarter of those in Thread.start and a
# tenth of those in threading's, queue's and futures' code (a pool's, a future's locks)


class SignalAt:
    """Counts the points after a call in the traced code, from `start` (a function of a
    file, where the command's signal policy is in place) to `end` (the apply's first
    write, `Signals.writing`, or the command's own end), and sends SIGINT to this
    process at the `nth`. A run with fewer points (the threads' timing changes the
    count a little) gets it at `end`; with `nth` 0 it only counts, and sends it at
    `end`: no apply writes."""

    CALLS = frozenset(dis.opmap[name] for name in ("CALL", "CALL_FUNCTION_EX"))

    def __init__(self, nth: int = 0, *, start=APPLY, end=FIRST_WRITE, twice: bool = False):
        self.nth, self.seen, self.start, self.end = nth, 0, start, end
        self.twice = twice  # a second SIGINT at the point after the nth
        self.started = self.ended = self.sent = False
        self.finished = False  # every signal sent, or the end reached: nothing left to trace
        self.in_start: list[int] = []  # the points inside Thread.start
        self.in_locks: list[int] = []  # the points in threading's, queue's, futures' code
        self.after_call: dict[int, bool] = {}

    def __call__(self, frame, event, arg):
        if self.finished:
            sys.settrace(None)  # the rest of the run goes untraced, as it runs for a user
            return None
        code = frame.f_code
        if (code.co_filename.endswith(self.start[0])) and code.co_name == self.start[1]:
            self.started = True
        if self.end and code.co_filename.endswith(self.end[0]) and code.co_name == self.end[1]:
            self.ended = self.finished = True
            if not self.sent:
                self.send()
        if not self.started or self.finished or not code.co_filename.startswith(TRACED):
            return None
        frame.f_trace_lines, frame.f_trace_opcodes = False, True  # opcode events only
        return self.opcodes

    def opcodes(self, frame, event, arg):
        if self.finished:
            return None
        if event == "opcode":
            key = id(frame)
            returned = self.after_call.get(key, False)
            self.after_call[key] = frame.f_code.co_code[frame.f_lasti] in self.CALLS
            if returned:
                self.point(frame)
        return self.opcodes

    def point(self, frame) -> None:
        """The point after a call returned in `frame`."""
        self.seen += 1
        if not frame.f_code.co_filename.startswith(TRACED[-1]):
            self.in_locks.append(self.seen)
        if frame.f_code.co_filename == threading.__file__ and _in_thread_start(frame):
            self.in_start.append(self.seen)
        if self.seen == self.nth or (self.twice and self.seen == self.nth + 1):
            self.send()
            self.finished = not self.twice or self.seen > self.nth

    def send(self) -> None:
        self.sent = True
        os.kill(os.getpid(), signal.SIGINT)


class SecondWhileWriting(SignalAt):
    """A first SIGINT as the writes start, and a second at the `nth` point after."""

    def __init__(self, nth: int = 0):
        super().__init__(nth, start=WRITES, end=WRITES_END)

    def __call__(self, frame, event, arg):
        code = frame.f_code
        if not self.started and code.co_filename.endswith(WRITES[0]) and code.co_name == WRITES[1]:
            os.kill(os.getpid(), signal.SIGINT)
        return super().__call__(frame, event, arg)


def _in_thread_start(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_name == "start" and frame.f_code.co_filename == threading.__file__:
            return True
        frame = frame.f_back
    return False


def traced(cli, trace: SignalAt, *args: str):
    """`wa-sync ARGS` under `trace`; a hang ends the run with every thread's stack
    (faulthandler). The signals' handlers are this process's again after it (a second
    signal leaves the system's, so that a third would end the process)."""
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    faulthandler.dump_traceback_later(120, exit=True)
    sys.settrace(trace)
    try:
        return cli(*args)
    finally:
        sys.settrace(None)
        faulthandler.cancel_dump_traceback_later()
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def pool_threads_left(seconds: float = 10.0) -> list[str]:
    """The read and write pools' threads still alive after `seconds`: one blocked on a
    lock the interrupt left taken would hold the interpreter's exit for ever (it joins
    them)."""
    deadline = time.monotonic() + seconds
    while True:
        left = [t.name for t in threading.enumerate() if t.name.startswith(POOLS)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def points_to_try(counted: SignalAt, *, every: int = 1) -> list[int]:
    """SAMPLES points spread evenly, and one of every 4 × `every` in `Thread.start` and
    10 × `every` in threading's, queue's and futures' code."""
    spread = {1 + i * (counted.seen - 1) // (SAMPLES - 1) for i in range(SAMPLES)}
    in_locks = set(counted.in_start[:: 4 * every]) | set(counted.in_locks[:: 10 * every])
    return sorted(spread | in_locks)


def test_a_first_signal_anywhere_before_the_first_write_stops_the_apply_cleanly(
    repo, emulator, cli, tmp_path
):
    """... and its --report says so, wherever the signal landed: before the report was
    opened (the whole report written at once) or after (every change not started)."""
    for n in (1, 2):
        repo.customer(f"clinic-{n}", customer_doc(n))
    report = tmp_path / "report.jsonl"
    counted = SignalAt()
    counting = traced(cli, counted, "apply", "--auto-approve", "--report", str(report))
    assert counting.code == 130  # at the first write
    assert counted.ended, "the apply never reached its first write"
    assert counted.seen > 500, counted.seen
    assert counted.in_start, "the trace did not see the lock's heartbeat start"

    for nth in points_to_try(counted):
        report.write_text("an earlier run's report\n")
        result = traced(cli, SignalAt(nth), "apply", "--auto-approve", "--report", str(report))
        where = f"a SIGINT after call {nth} of {counted.seen}"
        assert result.code == 130, f"{where}: exit {result.code}\n{result.err}"
        assert "Interrupted (SIGINT) before any change was made." in result.err, where
        summary = json.loads(report.read_text().splitlines()[-1])
        assert summary["stopped_by"] == "SIGINT received", f"{where}: {summary}"
        assert summary["before_any_change"] is True, where
        assert summary["exit_code"] == 130, where
        assert "internal error" not in result.err.lower(), f"{where}\n{result.err}"
        assert estate_writes(emulator.request_log()) == [], where
        assert lock_documents(emulator) == [], f"{where}: the lock was left"
        assert pool_threads_left() == [], f"{where}: a pool's thread never ends"
        emulator.clear_request_log()


def test_a_first_signal_anywhere_in_a_plan_stops_it_cleanly(repo, emulator, cli):
    """A plan used Python's own handler: its KeyboardInterrupt, landing in a pool's or a
    future's lock, left read threads blocked for ever (the interpreter's exit waits for
    them), and one landing where Python drops it (a finalizer) was lost: the plan ended
    0, as if never interrupted."""
    for n in (1, 2, 3):
        repo.customer(f"clinic-{n}", customer_doc(n))
    assert cli("apply", "--auto-approve").code == 0
    counted = SignalAt(start=PLAN, end=PLAN_END)
    assert traced(cli, counted, "plan").code == 130  # counts, and stops at the end
    assert counted.seen > 500, counted.seen

    for nth in points_to_try(counted):
        result = traced(cli, SignalAt(nth, start=PLAN, end=PLAN_END), "plan")
        where = f"a SIGINT after call {nth} of {counted.seen}"
        assert result.code == 130, f"{where}: exit {result.code}\n{result.err}"
        assert "Interrupted." in result.err, where
        assert "internal error" not in result.err.lower(), f"{where}\n{result.err}"
        assert pool_threads_left() == [], f"{where}: a pool's thread never ends"


def test_a_second_signal_anywhere_in_a_plan_stops_it_cleanly(repo, emulator, cli):
    """A second signal raised where it landed, and as often as not that was inside the
    locks of a pool or a future: "internal error", or a read thread blocked for ever."""
    for n in (1, 2, 3):
        repo.customer(f"clinic-{n}", customer_doc(n))
    assert cli("apply", "--auto-approve").code == 0
    counted = SignalAt(start=PLAN, end=PLAN_END)
    assert traced(cli, counted, "plan").code == 130  # counts, and stops at the end
    for nth in points_to_try(counted):
        result = traced(cli, SignalAt(nth, start=PLAN, end=PLAN_END, twice=True), "plan")
        where = f"two SIGINTs after calls {nth} and {nth + 1} of {counted.seen}"
        assert result.code == 130, f"{where}: exit {result.code}\n{result.err}"
        assert "internal error" not in result.err.lower(), f"{where}\n{result.err}"
        assert pool_threads_left() == [], f"{where}: a pool's thread never ends"


def test_a_second_signal_anywhere_while_writing_stops_the_apply_at_once(repo, emulator, cli):
    """It raised where it landed: as the write pool started a thread, inside
    `Thread.start`'s wait, "internal error" (release unlocked lock). Each point gets
    customers of its own to write; one apply of them all then completes what was left."""
    written: list[int] = []

    def customers_of_their_own() -> None:
        emulator.advance_clock(61)  # the lock a stop at once leaves expires
        for old in (repo.root / "customers").glob("*.yaml"):
            old.unlink()
        first = 10 * (len(written) // 4)
        for n in range(first, first + 4):
            repo.customer(f"clinic-{n}", customer_doc(n))
            written.append(n)

    customers_of_their_own()
    counted = SignalAt(start=WRITES, end=WRITES_END)
    assert traced(cli, counted, "apply", "--auto-approve").code == 0  # counts only
    assert counted.seen > 300, counted.seen

    for nth in points_to_try(counted, every=3):  # a point costs an apply of its own
        customers_of_their_own()
        result = traced(cli, SecondWhileWriting(nth), "apply", "--auto-approve")
        where = f"a second SIGINT after call {nth} of {counted.seen} of the writes"
        assert result.code == 130, f"{where}: exit {result.code}\n{result.err}"
        assert "internal error" not in result.err.lower(), f"{where}\n{result.err}"
        assert pool_threads_left() == [], f"{where}: a pool's thread never ends"

    emulator.advance_clock(61)
    for n in written:
        repo.customer(f"clinic-{n}", customer_doc(n))
    assert cli("apply", "--auto-approve").code == 0
    assert cli("plan", "--detailed-exitcode").code == 0
    assert_no_duplicates(emulator)
