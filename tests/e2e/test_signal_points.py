"""A real SIGINT at any point of an apply before its first write stops it cleanly:
exit 130, "before any change was made", no traceback, no write, no lock left.

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
import os
import queue
import signal
import sys
import threading
import time
from pathlib import Path

from tests.e2e.helpers import customer_doc, estate_writes
from tests.e2e.test_lock import lock_documents

TRACED = (
    threading.__file__,
    queue.__file__,
    str(Path(concurrent.futures.__file__).parent),
    str(Path(__file__).resolve().parents[2] / "wa_sync"),
)
POOLS = ("wa-sync-read", "apply_")
SAMPLES = 30  # points tried, spread evenly, with every Thread.start one and a third of
# those in threading's, queue's and futures' code (a pool's, a future's locks)


class SignalAt:
    """Counts the points after a call in the traced code, from the apply's signal policy
    being in place (its `_run`) to its first write (`Signals.writing`), and sends SIGINT
    to this process at the `nth`, or at the first write when a run has fewer (the
    threads' timing changes the count a little; with `nth` 0 it only counts): no run
    writes."""

    CALLS = frozenset(dis.opmap[name] for name in ("CALL", "CALL_FUNCTION_EX"))

    def __init__(self, nth: int = 0):
        self.nth, self.seen = nth, 0
        self.started = self.writing = False
        self.in_start: list[int] = []  # the points inside Thread.start
        self.in_locks: list[int] = []  # the points in threading's, queue's, futures' code
        self.after_call: dict[int, bool] = {}

    def __call__(self, frame, event, arg):
        code = frame.f_code
        if code.co_name == "_run" and code.co_filename.endswith("commands/apply.py"):
            self.started = True
        if code.co_name == "writing" and code.co_filename.endswith("interrupts.py"):
            self.writing = True
            if self.seen < self.nth or not self.nth:
                os.kill(os.getpid(), signal.SIGINT)
        if not self.started or self.writing or not code.co_filename.startswith(TRACED):
            return None
        frame.f_trace_opcodes = True
        return self.opcodes

    def opcodes(self, frame, event, arg):
        if event != "opcode" or self.writing:
            return self.opcodes
        returned = self.after_call.get(id(frame), False)
        self.after_call[id(frame)] = frame.f_code.co_code[frame.f_lasti] in self.CALLS
        if returned:
            self.seen += 1
            if not frame.f_code.co_filename.startswith(TRACED[-1]):
                self.in_locks.append(self.seen)
            if frame.f_code.co_filename == threading.__file__ and _in_thread_start(frame):
                self.in_start.append(self.seen)
            if self.seen == self.nth:
                os.kill(os.getpid(), signal.SIGINT)
        return self.opcodes


def _in_thread_start(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_name == "start" and frame.f_code.co_filename == threading.__file__:
            return True
        frame = frame.f_back
    return False


def traced_apply(cli, trace: SignalAt):
    """`wa-sync apply --auto-approve` under `trace`; a hang ends the run with every
    thread's stack (faulthandler)."""
    faulthandler.dump_traceback_later(120, exit=True)
    sys.settrace(trace)
    try:
        return cli("apply", "--auto-approve")
    finally:
        sys.settrace(None)
        faulthandler.cancel_dump_traceback_later()


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


def points_to_try(counted: SignalAt) -> list[int]:
    spread = {1 + i * (counted.seen - 1) // (SAMPLES - 1) for i in range(SAMPLES)}
    return sorted(spread | set(counted.in_start) | set(counted.in_locks[::3]))


def test_a_first_signal_anywhere_before_the_first_write_stops_the_apply_cleanly(
    repo, emulator, cli
):
    for n in (1, 2):
        repo.customer(f"clinic-{n}", customer_doc(n))
    counted = SignalAt()
    assert traced_apply(cli, counted).code == 130  # counts, and stops at the first write
    assert counted.writing, "the apply never reached its first write"
    assert counted.seen > 500, counted.seen
    assert counted.in_start, "the trace did not see the lock's heartbeat start"

    for nth in points_to_try(counted):
        result = traced_apply(cli, SignalAt(nth))
        where = f"a SIGINT after call {nth} of {counted.seen}"
        assert result.code == 130, f"{where}: exit {result.code}\n{result.err}"
        assert "Interrupted (SIGINT) before any change was made." in result.err, where
        assert "internal error" not in result.err.lower(), f"{where}\n{result.err}"
        assert estate_writes(emulator.request_log()) == [], where
        assert lock_documents(emulator) == [], f"{where}: the lock was left"
        assert pool_threads_left() == [], f"{where}: a pool's thread never ends"
        emulator.clear_request_log()
