"""How apply stops (SPEC §4.8): a first SIGINT or SIGTERM stops it from starting new
writes, a second stops it at once.

No signal raises where it lands, but at the prompt. CPython runs a handler in the main
thread after any call there, so an exception from it can land inside Python code that
holds a lock (`threading`'s conditions and semaphores, a pool's queue, the futures a
wait is on): the lock stays taken, and a thread that needs it later, or the
interpreter's exit, waits for ever. So signals are recorded, and acted on where it is
safe:

- Before the first write an apply has changed nothing, so it stops there: at the next
  `checkpoint()` (after the load, while it waits for the apply lock, as each customer
  is read, before the plan is confirmed; the transport's, before each request and in
  its waits, so within half a second of a wait or once the attempt in flight ends) or
  at `writing()`, with `Interrupted`. At the confirmation prompt, which waits for a
  line that may never come, it stops at once. A second signal changes nothing in a
  stop already under way.
- Once it writes, the first signal only asks it to stop (`Stop`): the writes in flight
  finish (each bounded by the request timeout), the others are reported as not
  started, and the exit code is 128 + the signal's number (130, 143).
- A second signal while writing is the user's "stop at once": at the next checkpoint
  (apply's wait for its writes looks each half second, a request before it starts or
  in its waits) `Interrupted` leaves the writes in flight behind.

After a second signal, a third ends the process as the system does.
The same `Stop` serves the other reasons to stop starting writes: the apply lock lost,
the report or standard output no longer writable (a first signal after those still only
stops new writes). Once the writes are over, signals change nothing: the apply's result
stands, and its end (the report's last line, the lock's release, the summary) is not cut.

The handlers are installed whatever the signals' dispositions were: a process started
in the background by a non-interactive shell inherits SIGINT ignored, and CI runners
cancel with SIGINT then SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A signal that stops the command at once."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


class Stop:
    """Why no new write may start; the first reason given wins. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._event = threading.Event()
        self.reason = ""
        self.exit_code = 0

    def request(self, reason: str, exit_code: int) -> bool:
        """Ask to stop; False when a stop was already asked for."""
        with self._lock:
            if self._event.is_set():
                return False
            self.reason, self.exit_code = reason, exit_code
            self._event.set()
            return True

    def requested(self) -> bool:
        return self._event.is_set()


class Signals:
    """The apply's signal policy; `writing()` marks its first write. The handler records
    signals, and raises only at a prompt; a first signal while writing asks `stop`."""

    def __init__(self, stop: Stop, on_stop: Any) -> None:
        self.stop = stop
        self.on_stop = on_stop  # called with the reason when a signal asks to stop
        self._writing = False
        self._finishing = False
        self._signalled = False  # a first signal came while writing
        self._before_writes = 0  # the first signal, when it came before any write
        self._at_once_while_writing = 0  # a second signal while writing
        self._at_once = False  # in a wait that only an exception ends (the prompt)
        self._installed = False  # its handlers are the process's (`handled`)
        self.stopped_at_once = False  # a second signal came: a further one ends the process

    def checkpoint(self) -> None:
        """Stop here (`Interrupted`) if a signal came and nothing was written yet, or a
        second one while writing; never once the writes are over."""
        if self._finishing:
            return
        signum = self._at_once_while_writing or (0 if self._writing else self._before_writes)
        if signum:
            raise Interrupted(signum)

    def writing(self) -> None:
        """The first write is next, unless a signal came before it."""
        self.checkpoint()
        self._writing = True

    @property
    def has_written(self) -> bool:
        return self._writing

    def finishing(self) -> None:
        """The writes are over: what is left (the report's end, the lock's release, the
        summary) is short and must not be cut, so signals are ignored from now on."""
        self._finishing = True

    @contextmanager
    def at_once(self) -> Iterator[None]:
        """A wait in which a signal stops the apply where it lands: reading a terminal's
        line holds no lock, and would not end for a recorded signal. A signal that comes
        as it begins is raised, or found by the checkpoint: never only recorded."""
        self._at_once = True
        try:
            self.checkpoint()
            yield
        finally:
            self._at_once = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        # Only a signal stops at once, and only the second: a stop for another reason
        # (the lock lost, the report unwritable) leaves the first one its usual effect.
        if self._finishing:
            return  # every write is over: the apply's own result stands, its end is short
        if self._at_once:  # the prompt, which comes once every read is over
            self._before_writes = signum
            raise Interrupted(signum)
        if self._before_writes or self._signalled:
            # A second signal. Raised here, it landed in the locks of a pool or a future
            # as often as not: "internal error", or a thread blocked for ever, which the
            # interpreter's exit waits for (a sweep of second signals in a plan: 154 of
            # 229 points). Before any write the first one's stop is under way; while
            # writing, the stop at once comes at the next checkpoint (apply's wait for
            # its writes, each half second; a request's start or wait). A third signal
            # ends the process as the system does.
            if self._signalled:
                self._at_once_while_writing = self._at_once_while_writing or signum
            self.stopped_at_once = True
            if self._installed:
                for each in SIGNALS:
                    signal.signal(each, signal.SIG_DFL)
            return
        if not self._writing:
            self._before_writes = signum  # acted on at the next checkpoint
            return
        self._signalled = True
        name = signal.Signals(signum).name
        self.stop.request(f"{name} received", 128 + signum)  # a first reason stays first
        self.on_stop(name)


@contextmanager
def handled(policy: Signals) -> Iterator[Signals]:
    """SIGINT and SIGTERM handled by `policy` in this block (only possible in the main
    thread: elsewhere, as when a test calls the CLI from a thread, nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield policy
        return
    before = {signum: signal.signal(signum, policy.handle) for signum in SIGNALS}
    policy._installed = True
    try:
        yield policy
    finally:
        policy._installed = False
        for signum, handler in before.items():
            # After a stop at once, the reads or writes left in flight still hold the
            # process until they end (the interpreter waits for the pool's threads, and
            # for ever for one the exception left blocked): a further signal then ends
            # it as the system would, not with a KeyboardInterrupt traceback from inside
            # that wait.
            signal.signal(signum, signal.SIG_DFL if policy.stopped_at_once else handler)
