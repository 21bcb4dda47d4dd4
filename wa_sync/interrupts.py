"""How apply stops (SPEC §4.8): a first SIGINT or SIGTERM stops it from starting new
writes, a second stops it at once.

No signal raises where it lands, but at the prompt. CPython runs a handler in the main
thread after any call there, so an exception from it can land inside Python code that
holds a lock (`threading`'s conditions and semaphores, a pool's queue, the futures a
wait is on): the lock stays taken, and a thread that needs it later, or the
interpreter's exit, waits for ever. Nor does the handler take a lock or write a line:
landing where the main thread holds that lock, or is inside that stream's write, it
would wait for itself for ever. So the handler only records signals (it sets
attributes), and they are acted on where it is safe, by the command's own code:

- Before the first write an apply has changed nothing, so it stops there: at the next
  `checkpoint()` (after the load, while it waits for the apply lock, as each customer
  is read, before the plan is confirmed; the transport's, before each request and in
  its waits, so within half a second of a wait or once the attempt in flight ends) or
  at `writing()`, with `Interrupted`. At the confirmation prompt, which waits for a
  line that may never come, it stops at once. A second signal changes nothing in a
  stop already under way.
- Once it writes, the first signal only asks it to stop (`Stop`), and says so, within
  half a second: at the next checkpoint (apply's wait for its writes looks each half
  second; the transport's, before each request), as a write thread looks before its
  next change (`stopping()`), or at the end of the writes (`finishing()`). The writes
  in flight finish (each bounded by the request timeout: one that Twilio asks to wait
  is not tried again, gateway/http.py), the others are reported as not started, and
  the exit code is 128 + the signal's number (130, 143).
- A second signal while writing is the user's "stop at once": at the next checkpoint
  (apply's wait for its writes looks each half second, a request before it starts or
  in its waits) `Interrupted` leaves the writes in flight behind.

After a second signal, a third ends the process as the system does.
The same `Stop` serves the other reasons to stop starting writes: the apply lock lost,
the report or standard output no longer writable (a first signal after those still only
stops new writes). Once the writes are over, signals change nothing: the apply's result
stands, and its end (the report's last line, the lock's release, the summary) is not cut.
So for any command that talks to Twilio once its signal block ended normally.

That holds to the process's last instruction. In the `wa-sync` process
(`cli.entry_point`: `handled(to_the_end=True)`) the command's handlers are not given
back to Python's, whose KeyboardInterrupt (SIGTERM: the end of the process) would cut
the command's end and the interpreter's exit; and once the interpreter has waited for
its threads (atexit), the signals are ignored, since Python then puts the system's
default back for its last milliseconds. After an error or a stop the command's rules
go on: a second signal lets a third end the process while the interpreter waits for
the writes a stop at once left in flight, or an attempt on its way (reads left behind
end as the gateway closes its transport: gateway/http.py `Transport.close`).

The handlers are installed whatever the signals' dispositions were: a process started
in the background by a non-interactive shell inherits SIGINT ignored, and CI runners
cancel with SIGINT then SIGTERM.
"""

from __future__ import annotations

import atexit
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A signal that stops the command at once."""

    def __init__(self, signum: int, *, first: int = 0):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.first = first or signum  # a stop at once: the signal that came before it
        self.exit_code = 128 + signum

    def received(self) -> str:
        """The signals of a stop at once: "SIGINT received twice", or, as a CI runner
        cancels, "SIGINT received, then SIGTERM"."""
        if self.first == self.signum:
            return f"{self} received twice"
        return f"{signal.Signals(self.first).name} received, then {self}"


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
    signals (it sets attributes: no lock, no stream), and raises only at a prompt; a
    first signal while writing asks `stop`, from the next checkpoint or `stopping()`."""

    def __init__(self, stop: Stop, on_stop: Any) -> None:
        self.stop = stop
        self.on_stop = on_stop  # called with the reason when a signal asks to stop
        self._writing = False
        self._finishing = False
        self._signalled = 0  # the first signal, when it came while writing
        self._told = threading.Lock()  # the first one's stop asked for once (never the handler)
        self._stop_asked = False
        self._before_writes = 0  # the first signal, when it came before any write
        self._at_once_while_writing = 0  # a second signal while writing
        self._at_once = False  # in a wait that only an exception ends (the prompt)
        self._installed = False  # its handlers are the process's (`handled`)
        self.stopped_at_once = False  # a second signal came: a further one ends the process

    def checkpoint(self) -> None:
        """Stop here (`Interrupted`) if a signal came and nothing was written yet, or a
        second one while writing; never once the writes are over. A first one while
        writing asks `stop` here."""
        if self._finishing:
            return
        self._ask_stop()
        if self._at_once_while_writing:
            raise Interrupted(self._at_once_while_writing, first=self._signalled)
        signum = 0 if self._writing else self._before_writes
        if signum:
            raise Interrupted(signum)

    def writing(self) -> None:
        """The first write is next, unless a signal came before it."""
        self.checkpoint()
        self._writing = True
        # a signal whose handler ran between the two lines was taken for one before any
        # write, which no checkpoint acts on from here: it is a first one while writing
        self._signalled = self._signalled or self._before_writes

    @property
    def has_written(self) -> bool:
        return self._writing

    def stopping(self) -> bool:
        """True once no new write may start: a first signal while writing asks `stop`."""
        self._ask_stop()
        return self.stop.requested()

    def finishing(self) -> None:
        """The writes are over: what is left (the report's end, the lock's release, the
        summary) is short and must not be cut, so signals are ignored from now on; a
        first signal that came while writing still asks `stop` (the exit code says it)."""
        self._ask_stop()
        self._finishing = True

    def _ask_stop(self) -> None:
        """A first signal that came while writing: ask `stop` and tell it, once. Here,
        from the apply's own code (a checkpoint, a thread's look at `stopping()`), not
        from the handler: the main thread may hold the `Stop`'s lock where the signal
        lands (the handler would wait for it for ever), or be inside a write to standard
        error (the line would be lost: "reentrant call")."""
        if not self._signalled or self._stop_asked:
            return
        name = signal.Signals(self._signalled).name
        with self._told:  # the threads that look find the stop asked for once this is
            if self._stop_asked:
                return
            self.stop.request(f"{name} received", 128 + self._signalled)  # a first reason stays
            self._stop_asked = True
        self.on_stop(name)

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
        if self._writing:
            self._signalled = signum  # the stop is asked for at the next checkpoint
        else:
            self._before_writes = signum  # acted on at the next checkpoint


@contextmanager
def handled(policy: Signals, *, to_the_end: bool = False) -> Iterator[Signals]:
    """SIGINT and SIGTERM handled by `policy` in this block (only possible in the main
    thread: elsewhere, as when a test calls the CLI from a thread, nothing changes).
    `to_the_end`: the process ends with this block's command (`cli.entry_point`): its
    handlers stay to the end rather than go back to Python's (`_ignored_at_exit`)."""
    if threading.current_thread() is not threading.main_thread():
        yield policy
        return
    before = {signum: signal.signal(signum, policy.handle) for signum in SIGNALS}
    policy._installed = True
    if to_the_end:
        atexit.register(_ignored_at_exit)
    try:
        yield policy
    finally:
        if not to_the_end:
            policy._installed = False
            for signum, handler in before.items():
                # After a stop at once, the reads or writes left in flight still hold
                # the process until they end (the interpreter waits for the pool's
                # threads, and for ever for one the exception left blocked): a further
                # signal then ends it as the system would, not with a KeyboardInterrupt
                # traceback from inside that wait.
                signal.signal(signum, signal.SIG_DFL if policy.stopped_at_once else handler)


def _ignored_at_exit() -> None:
    """At the interpreter's exit, once it has waited for the threads (only the main one
    is left): signals ignored from here. Python puts the system's default back for the
    handlers it ran (not for an ignored signal) before it tears its modules down, and a
    signal in those last milliseconds would end the process by it, whatever its exit
    code was. Blocked first in this thread: one that came as the handler changed would
    be told on standard error ("Signal 2 ignored due to race condition"); blocked, it
    waits, and the change to ignored drops it. (A daemon thread still alive here may
    still take one in that instant, and it is told.)"""
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
