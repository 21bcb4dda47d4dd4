"""The writing part of `wa-sync apply`: progress, the audit trail, stops, the summary.

Every outcome goes to standard output (one line, numbered on a terminal) and to the
`--report` file. Output that can no longer be written (a closed pipe, a full disk)
does not end the apply half-way in silence: it stops new changes from starting, as a
first signal does (SPEC §4.8), says so on standard error, and the exit code is 1. A
second signal stops at once: the changes without an outcome are then reported as
unknown (in flight, or not started), for the next apply to complete.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import TextIO

from wa_sync.apply import Outcome, Result, apply_plan
from wa_sync.gateway.base import Gateway
from wa_sync.interrupts import Interrupted, Stop
from wa_sync.model import Config, LiveEstate
from wa_sync.plan.change import Action, NoteKind, Plan
from wa_sync.progress import Progress, progress
from wa_sync.render import EMULATOR_BANNER
from wa_sync.report import ReportWriter
from wa_sync.runtime import Runtime
from wa_sync.visible import one_line, visible

SYMBOLS = {
    Result.OK: "✓",
    Result.FAILED: "✗",
    Result.SKIPPED: "–",
    Result.NOT_STARTED: "·",
    Result.UNKNOWN: "?",
}
EXIT_ERROR = 1
RESUME = "Run `wa-sync apply` again to complete the rest: it resumes safely, with no duplicate."


class Execution:
    """One apply's writes and what is said about them; `writer` is set by the caller."""

    def __init__(self, runtime: Runtime, plan: Plan, stop: Stop):
        self.runtime, self.plan, self.stop = runtime, plan, stop
        self.writer: ReportWriter | None = None
        self.outcomes: list[Outcome] = []
        self.lines = Lines(runtime.stdout, total=len(plan.actionable))
        self.hard_stop: Interrupted | None = None
        self._lock = threading.Lock()
        self._closed = False  # after a hard stop, late outcomes of the writes left behind
        self._stdout_ok = True

    def run(self, config: Config, live: LiveEstate, gateway: Gateway, *, parallelism: int) -> None:
        total = self.lines.total
        with progress(self.runtime, "Applying", "changes", total=total) as shown:
            self.lines.shown = shown
            try:
                apply_plan(
                    self.plan,
                    config,
                    live,
                    gateway,
                    parallelism=parallelism,
                    on_outcome=self.record,
                    stopped=self.runtime.stopping,  # a first signal too (interrupts.py)
                    checkpoint=self.runtime.checkpoint,  # a second signal: at once
                )
            except Interrupted as exc:
                self.hard_stop = exc
                self._record_the_rest()
            finally:
                self.runtime.finishing()  # the writes are over: a signal changes nothing
                with self._lock:
                    self._closed = True
                if self.writer is not None:
                    self.writer.stopped_by = self.stopped_by()
                    self.writer.not_read = not_read(self.plan)

    def stopped_at_first_write(self, reason: str, exit_code: int) -> None:
        """A signal that came before the first write, found there once the report was
        open: the report lists every change as not started, and says why."""
        for change in self.plan.actionable:
            self.record(Outcome(change, Result.NOT_STARTED, error="not started"))
        if self.writer is not None:
            self.writer.stopped_by = reason
            self.writer.not_read = not_read(self.plan)
            self.writer.before_any_change, self.writer.exit_code = True, exit_code

    def record(self, outcome: Outcome) -> None:
        """One outcome, from the thread that made it."""
        with self._lock:
            if self._closed:
                return
            self.outcomes.append(outcome)
        if self._stdout_ok and outcome.result is not Result.NOT_STARTED:
            try:
                self.lines.show(outcome)
            except (OSError, ValueError) as exc:  # ValueError: stdout closed
                self._stdout_ok = False
                self._output_failed("standard output", exc)
        if self.writer is not None:
            try:
                self.writer.write(outcome.as_record())
            except OSError as exc:
                self._output_failed(f"the report {self.writer.path}", exc)

    def _output_failed(self, what: str, exc: BaseException) -> None:
        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        reason = f"{what} could not be written ({why})"
        if self.stop.request(reason, EXIT_ERROR):
            say(
                self.runtime.stderr,
                f"Error: {reason}: no new change will start; the "
                f"changes in flight finish, and the summary follows on standard error.",
            )

    def _record_the_rest(self) -> None:
        """After a hard stop: every change without an outcome, as unknown."""
        with self._lock:
            done = {id(o.change) for o in self.outcomes}
        for change in self.plan.actionable:
            if id(change) not in done:
                error = "stopped at once: in flight or not started, the next apply finds out"
                self.record(Outcome(change, Result.UNKNOWN, error=error))

    def stopped_by(self) -> str:
        if self.hard_stop is not None:
            return f"{self.hard_stop.received()}, stopped at once"
        return self.stop.reason

    def finish(self) -> int:
        """Print the summary (on standard error when standard output is gone); the exit
        code: 128 + the signal's number after a signal, else 1 for anything not done."""
        text = summarise(self.plan, self.outcomes, stopped_by=self.stopped_by())
        written = False
        if self._stdout_ok:
            try:
                self.runtime.stdout.write(text)
                self.runtime.stdout.flush()
                written = True
            except (OSError, ValueError):
                pass
        if not written:
            say(self.runtime.stderr, text.rstrip("\n"))
        if self.hard_stop is not None:
            return self.hard_stop.exit_code
        if self.stop.requested():
            return self.stop.exit_code
        done = all(o.ok for o in self.outcomes) and not self.plan.unread
        return 0 if done else EXIT_ERROR


def not_read(plan: Plan) -> dict[str, str]:
    """The customers Twilio was not read for, and why: for the --report summary."""
    return {n.customer: n.message for n in plan.notes if n.kind is NoteKind.UNREAD}


class Lines:
    """One numbered line per completed change, on a terminal and in a CI log alike;
    the progress line on standard error (`shown`, while apply runs) counts them too."""

    def __init__(self, out: TextIO, *, total: int):
        self.out, self.total, self.done = out, total, 0
        self.shown: Progress | None = None
        self._lock = threading.Lock()  # workers finish at once: one number, one line each

    def show(self, outcome: Outcome) -> None:
        with self._lock:
            self._show(outcome)

    def _show(self, outcome: Outcome) -> None:
        self.done += 1
        change = outcome.change
        detail = f" ({outcome.sid})" if outcome.ok and outcome.sid else ""
        error = f": {outcome.error}" if outcome.error else ""
        line = f"[{self.done}/{self.total}] {SYMBOLS[outcome.result]} {change.action.value} "
        text = one_line(f"{line}{change.address}{detail}{error}") + "\n"  # names are Twilio's
        if self.shown is None:
            self.out.write(text)
            self.out.flush()
        else:
            self.shown.update(self.done, self.total)
            self.shown.above(self.out, text)


def summarise(plan: Plan, outcomes: Sequence[Outcome], *, stopped_by: str = "") -> str:
    def having(result: Result) -> list[Outcome]:
        return [o for o in outcomes if o.result is result]

    failed, not_started, unknown = (
        having(Result.FAILED),
        having(Result.NOT_STARTED),
        having(Result.UNKNOWN),
    )
    lines = [""]
    if plan.emulator:
        lines.append(EMULATOR_BANNER)
    counts = (
        f"{len(having(Result.OK))} done, {len(failed)} failed, "
        f"{len(having(Result.SKIPPED))} skipped"
    )
    if stopped_by:
        counts += f", {len(not_started)} not started"
        counts += f", {len(unknown)} unknown" if unknown else ""
    unread = [n for n in plan.notes if n.kind is NoteKind.UNREAD]
    counts += f"; {len(unread)} customer(s) not read from Twilio" if unread else ""
    if stopped_by:  # the changes counted first, then the customers not read at all
        lines.append(f"Apply stopped ({stopped_by}): {counts}.")
    elif len(failed) + len(having(Result.SKIPPED)) + len(unread):
        lines.append(f"Apply finished with failures: {counts}.")
    else:
        lines.append(f"Apply complete: {counts}.")
    if failed:
        lines.append("Failed:")
        lines += [f"  {one_line(o.change.address)}: {o.error}" for o in failed]
    if unread:  # SPEC §4.2: listed with why, as a failure is
        lines.append("Not read from Twilio, so nothing was applied for them:")
        lines += [f"  {n.address}: {n.message}" for n in unread]
    lines += _not_done(plan, not_started, unknown)
    if failed or not_started or unknown or unread:
        lines.append(
            RESUME
            if not (failed or unread) or stopped_by
            else "Run `wa-sync apply` again once the cause is fixed: it resumes safely."
        )
    blocked = [c for c in plan.changes if c.action is Action.BLOCKED]
    if blocked:
        lines.append(f"{len(blocked)} blocked change(s) wait on people; see `wa-sync status`.")
    return visible("\n".join(lines)) + "\n"


def _not_done(plan: Plan, not_started: list[Outcome], unknown: list[Outcome]) -> list[str]:
    """The changes a stop left undone, or unknown, in the plan's order."""
    order = {id(change): index for index, change in enumerate(plan.actionable)}
    lines = []
    for title, group in (
        ("Not started:", not_started),
        ("Stopped at once, these may or may not have been made:", unknown),
    ):
        if group:
            group = sorted(group, key=lambda o: order.get(id(o.change), 0))
            lines.append(title)
            lines += [f"  {o.change.action.value} {one_line(o.change.address)}" for o in group]
    return lines


def say(err: TextIO, line: str) -> None:
    """A line on standard error, from any thread (never a signal handler: the main thread
    may be inside that stream's write, interrupts.py); never raises."""
    with contextlib.suppress(OSError, ValueError):
        err.write(line + "\n")
        err.flush()
