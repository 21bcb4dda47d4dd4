"""Progress of long work (reading Twilio, applying) on standard error (issue 20).

The work reports events through two small hooks, `step()` (one more done) and
`update(done, total)`; this module alone decides how they are shown. On a terminal:
one live line, redrawn every LIVE_REFRESH seconds (done/total, elapsed time, rate).
Elsewhere (a CI log, a pipe), or with NO_COLOR, --no-color or TERM=dumb: a plain line
every `interval` seconds (WA_SYNC_PROGRESS_INTERVAL, 10 by default). Work over before
the first line shows nothing; once a line was shown, the end adds the final count.
Standard output is never written here: it may carry a plan for a machine (JSON,
markdown).

Plain code rather than rich: a line and a timer are all it takes, and importing
rich.progress takes 0.15 s (rich.live 0.06 s) on every command that reads Twilio.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from wa_sync.errors import TwilioError, UsageError
from wa_sync.model import Customer, LiveCustomer, LiveEstate
from wa_sync.runtime import Runtime

if TYPE_CHECKING:
    from wa_sync.gateway.base import Gateway

INTERVAL_VARIABLE = "WA_SYNC_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 10.0  # seconds between two plain lines
LIVE_REFRESH = 0.2  # seconds between two draws of the live line
_CLEAR_LINE = "\r\033[K"  # back to the start of the line, erase to its end


class Progress:
    """The progress of one piece of work: thread-safe, drawn by its own timer thread."""

    def __init__(
        self,
        stream: TextIO,
        label: str,
        unit: str,
        *,
        total: int,
        live: bool,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.label, self.unit = stream, label, unit
        self.total, self.done = total, 0
        self.live, self.interval, self.clock = live, interval, clock
        self.started = clock()
        self.shown = False  # a line was written: the end adds the final count
        self._drawn = False  # the live line is on the screen
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer = threading.Thread(target=self._tick, name="wa-sync-progress", daemon=True)

    def update(self, done: int, total: int) -> None:
        with self._lock:
            self.done, self.total = done, total

    def step(self) -> None:
        """One more unit done."""
        with self._lock:
            self.done += 1

    def above(self, out: TextIO, text: str) -> None:
        """Write `text` to `out` (a line of the work's own output) with the live line,
        which shares the terminal, erased first and drawn again after it."""
        with self._lock:
            if self._drawn:
                self._write(_CLEAR_LINE)
            out.write(text)
            out.flush()
            if self._drawn:
                self._write(self.status())

    def status(self) -> str:
        """ "Reading Twilio: 120/300 customers, 5.0 s, 24.0/s"."""
        elapsed = self.clock() - self.started
        rate = f", {self.done / elapsed:.1f}/s" if elapsed > 0 and self.done else ""
        return f"{self.label}: {self.done}/{self.total} {self.unit}, {_duration(elapsed)}{rate}"

    def start(self) -> None:
        self._timer.start()

    def finish(self) -> None:
        """Stop the timer; after a shown line, write the final count."""
        self._stop.set()
        if self._timer.is_alive():
            self._timer.join()
        with self._lock:
            if self.live and self._drawn:
                self._write(f"{_CLEAR_LINE}{self.status()}\n")
            elif self.shown:
                self._write(f"{self.status()}\n")

    def _tick(self) -> None:
        period = LIVE_REFRESH if self.live else self.interval
        while not self._stop.wait(period):
            with self._lock:
                if self.live:
                    self._write(f"{_CLEAR_LINE}{self.status()}")
                    self._drawn = True
                else:
                    self._write(f"{self.status()}\n")
                self.shown = True

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed stream: progress is not worth failing for
            pass


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


@contextmanager
def progress(runtime: Runtime, label: str, unit: str, *, total: int) -> Iterator[Progress]:
    """A Progress on the runtime's standard error for the block's duration: live on a
    terminal that takes colour, plain lines elsewhere."""
    shown = Progress(
        runtime.stderr,
        label,
        unit,
        total=total,
        live=runtime.use_color(no_color_flag=False, stream_isatty=runtime.stderr_isatty),
        interval=progress_interval(runtime.environ),
    )
    shown.start()
    try:
        yield shown
    finally:
        shown.finish()


def progress_interval(environ: Mapping[str, str]) -> float:
    """WA_SYNC_PROGRESS_INTERVAL in seconds (a positive number), or the default."""
    raw = environ.get(INTERVAL_VARIABLE, "")
    if not raw:
        return DEFAULT_INTERVAL
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise UsageError(
            f"{INTERVAL_VARIABLE}={raw!r} is not a number of seconds above 0: set it "
            f"to, for example, 10 (seconds between two progress lines), or unset it"
        )
    return seconds


def read_with_progress(
    runtime: Runtime,
    gateway: Gateway,
    customers: Collection[Customer],
    on_customer: Callable[[LiveCustomer], None] | None = None,
    on_unread: Callable[[str, TwilioError], None] | None = None,
) -> LiveEstate:
    """`gateway.read`, counting the customers read (or not read) on a progress line; a
    signal the command recorded stops it as a customer is read (`runtime.checkpoint`)."""
    with progress(runtime, "Reading Twilio", "customers", total=len(customers)) as shown:

        def read_one(current: LiveCustomer) -> None:
            if on_customer is not None:
                on_customer(current)
            shown.step()
            runtime.checkpoint()

        def unread_one(customer_id: str, error: TwilioError) -> None:
            if on_unread is not None:
                on_unread(customer_id, error)
            shown.step()
            runtime.checkpoint()

        told = None if on_unread is None else unread_one  # None: the read raises
        return gateway.read(customers, on_customer=read_one, on_unread=told)
