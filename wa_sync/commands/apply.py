"""`wa-sync apply [PLANFILE]`: make Twilio match the configuration (SPEC §3, §4.2).

Without PLANFILE it plans and asks for `yes` on a terminal (or takes
--auto-approve). With PLANFILE it re-reads the configuration and Twilio, refuses a
stale plan before any write, and carries out exactly what was reviewed.

One apply at a time (SPEC §4.8): the estate lock (wa_sync/lock.py) is taken before
Twilio is read and held to the end. Signals follow wa_sync/interrupts.py; the writes,
their progress, report and summary are commands/execution.py's.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TextIO

from wa_sync.commands.common import (
    customer_file_ids,
    load_and_connect,
    read_and_plan,
    signals_recorded,
    unread_error,
)
from wa_sync.commands.execution import EXIT_ERROR, Execution, not_read, say
from wa_sync.commands.plan import render
from wa_sync.errors import INTERNAL_ERROR, UsageError, WaSyncError
from wa_sync.gateway.base import Gateway
from wa_sync.interrupts import Interrupted, Signals, Stop
from wa_sync.lock import EstateLock, LockBusy, parse_duration
from wa_sync.lockdoc import DEFAULT_TTL, MAX_TTL, MIN_TTL, this_process
from wa_sync.model import Settings
from wa_sync.plan.change import Plan
from wa_sync.plan.scope import select_customers
from wa_sync.plan.stale import check_fresh
from wa_sync.render.json import SavedPlan, read_plan
from wa_sync.report import ReportWriter
from wa_sync.runtime import Runtime
from wa_sync.visible import visible
from wa_sync.wording import listed


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root,
        planfile=args.planfile,
        only=args.customer,
        shard=args.shard,
        changed_since=args.changed_since,
        auto_approve=args.auto_approve,
        parallelism=args.parallelism,
        prune=args.prune,
        allow_mass_delete=args.allow_mass_delete,
        report=args.report,
        lock_timeout=args.lock_timeout,
        emulator=args.emulator,
        color=runtime.use_color(no_color_flag=args.no_color),
        runtime=runtime,
        verbose=bool(args.verbose),
    )


def run(
    *,
    root: str,
    planfile: str | None,
    only: Sequence[str] | None,
    shard: tuple[int, int] | None,
    auto_approve: bool,
    parallelism: int | None,
    prune: bool | None,
    allow_mass_delete: bool,
    report: str | None,
    emulator: bool,
    color: bool,
    runtime: Runtime,
    lock_timeout: str | None = None,
    changed_since: str | None = None,
    verbose: bool = False,
) -> int:
    """Apply under the signal policy of SPEC §4.8 (wa_sync/interrupts.py)."""
    stop = Stop()
    policy = Signals(stop, on_stop=lambda name: _tell_stopping(runtime.stderr, name))
    writer = ReportWriter(report, environ=runtime.environ, repo_root=root) if report else None
    options = Options(
        root=root,
        planfile=planfile,
        only=only,
        shard=shard,
        auto_approve=auto_approve,
        parallelism=parallelism,
        prune=prune,
        allow_mass_delete=allow_mass_delete,
        report=writer,
        lock_timeout=lock_timeout,
        changed_since=changed_since,
        emulator=emulator,
        color=color,
        verbose=verbose,
    )
    try:  # around the block: its end checks for a signal too (signals_recorded)
        with signals_recorded(runtime, policy):
            return _run(options, runtime=runtime, stop=stop, signals=policy)
    except Interrupted as exc:
        return _interrupted(exc, written=policy.has_written, writer=writer, err=runtime.stderr)
    except Exception as exc:  # told by cli.main, in the same words
        why = str(exc) if isinstance(exc, WaSyncError) else INTERNAL_ERROR
        busy = isinstance(exc, LockBusy)
        _stopped_early(writer, why, EXIT_ERROR, runtime.stderr, another_apply_runs=busy)
        raise


def _interrupted(
    exc: Interrupted, *, written: bool, writer: ReportWriter | None, err: TextIO
) -> int:
    if written:  # a signal again while the stop at once was being told
        err.write(
            f"Interrupted ({exc}) while changes were being made: run `wa-sync apply` "
            "again to complete them, with no duplicate.\n"
        )
    else:  # before the first write: nothing was changed
        err.write(f"Interrupted ({exc}) before any change was made.\n")
        _stopped_early(writer, f"{exc} received", exc.exit_code, err)
    return exc.exit_code


def _stopped_early(
    writer: ReportWriter | None,
    why: str,
    exit_code: int,
    err: TextIO,
    *,
    another_apply_runs: bool = False,
) -> None:
    """An apply that stops before it opened its --report (an invalid configuration,
    missing credentials, the lock held, Twilio refusing the reads, a stale plan, a
    signal) still writes one, so that a report left at that path by an earlier run is
    never read as this run's: no change, and why."""
    if writer is None or writer.opened:
        return
    try:
        writer.stopped_before_any_change(why, exit_code, another_apply_runs=another_apply_runs)
    except UsageError as exc:
        say(err, f"Error: {visible(str(exc))}")


@dataclass(frozen=True, kw_only=True)
class Options:
    root: str
    planfile: str | None
    only: Sequence[str] | None
    shard: tuple[int, int] | None
    auto_approve: bool
    parallelism: int | None
    prune: bool | None
    allow_mass_delete: bool
    report: ReportWriter | None  # not opened yet
    lock_timeout: str | None
    changed_since: str | None
    emulator: bool
    color: bool
    verbose: bool = False  # the plan shown lists what it would count (render/text.py)


def _run(o: Options, *, runtime: Runtime, stop: Stop, signals: Signals) -> int:
    saved = _read_saved(o.planfile) if o.planfile else None
    only, shard, prune, allow_mass_delete = o.only, o.shard, o.prune, o.allow_mass_delete
    changed_since = o.changed_since
    if saved is not None:  # the saved plan fixes the scope and the options it was made with
        _check_options(saved, o)
        # a --shard that holds all of it (_check_options) stays: its lock is the shard's,
        # so that the other shards' jobs apply theirs at the same time
        only, changed_since = list(saved.customers), None
        prune, allow_mass_delete = saved.prune, saved.allow_mass_delete
    locks: list[EstateLock] = []
    estate_lock = _estate_lock(runtime, flag=o.lock_timeout, shard=shard, stop=stop, made=locks)
    with load_and_connect(
        runtime,
        root=o.root,
        only=only,
        shard=shard,
        emulator=o.emulator,
        parallelism=o.parallelism,
        changed_since=changed_since,
        lock=estate_lock,
    ) as (loaded, gateway):
        workers = o.parallelism or loaded.config.settings.parallelism
        live, plan = read_and_plan(
            loaded, gateway, prune=prune, allow_mass_delete=allow_mass_delete, runtime=runtime
        )
        signals.checkpoint()
        if saved is not None and o.planfile:
            _check_saved(saved, o.planfile, plan, emulated=gateway.emulated)
        _show_plan(runtime, render(plan, "text", color=o.color, verbose=o.verbose))
        if not plan.has_changes:
            signals.checkpoint()  # a signal before the plan was shown stops it
            signals.finishing()  # no write to make: a signal now changes nothing
            return _nothing_to_apply(o, runtime, plan)
        if saved is None and not o.auto_approve:
            with signals.at_once():
                _confirm(runtime)
        execution = Execution(runtime, plan, stop)
        writes = partial(execution.run, loaded.config, live, gateway, parallelism=workers)
        _execute(o, runtime, execution, writes, signals=signals, locks=locks)
    return execution.finish()


def _execute(
    o: Options,
    runtime: Runtime,
    execution: Execution,
    writes: Callable[[], None],
    *,
    signals: Signals,
    locks: list[EstateLock],
) -> None:
    """The writes, with the report open from before the first; after a stop at once,
    the lock is left to expire."""
    with ExitStack() as stack:
        if o.report:
            execution.writer = stack.enter_context(o.report)
        try:
            signals.writing()
        except Interrupted as exc:  # a signal from before the first write: it says so
            execution.stopped_at_first_write(f"{exc} received", exc.exit_code)
            raise
        writes()  # signals change nothing once it returns (Execution.run: finishing)
        if execution.hard_stop is not None:
            for lock in locks:
                lock.abandon()
                say(
                    runtime.stderr,
                    "The apply lock is left to expire within "
                    f"{lock.holder.ttl} s, or remove it with `wa-sync unlock`.",
                )


def _nothing_to_apply(o: Options, runtime: Runtime, plan: Plan) -> int:
    """0, or 1 when some customers were not read from Twilio (SPEC §4.2). The audit
    trail says that this run changed nothing (and why it failed, if it did), so that a
    report left by an earlier run at that path is never taken for this one's."""
    _show_plan(runtime, "Nothing to apply.\n")
    if o.report:
        with o.report as writer:
            writer.not_read = not_read(plan)
    if not plan.unread:
        return 0
    say(runtime.stderr, f"Error: {unread_error(plan)}.")
    return EXIT_ERROR


def _ttl(runtime: Runtime) -> int:
    raw = runtime.environ.get("WA_SYNC_LOCK_TTL") or DEFAULT_TTL
    ttl = parse_duration(raw, what="WA_SYNC_LOCK_TTL")  # inf for 400 digits
    if ttl > MAX_TTL:
        raise UsageError(
            f"WA_SYNC_LOCK_TTL: {raw!r} is more than Twilio Sync lets a lock live "
            f"({MAX_TTL} s, a year). Apply renews its lock while it runs, so this is only "
            f"how long a killed apply's lock outlives it: {DEFAULT_TTL} s by default"
        )
    return max(MIN_TTL, int(ttl))


def _estate_lock(
    runtime: Runtime,
    *,
    flag: str | None,
    shard: tuple[int, int] | None,
    stop: Stop,
    made: list[EstateLock],
) -> Callable[[Gateway, Settings], EstateLock]:
    """The lock `load_and_connect` takes before its first read (SPEC §4.8). A bad
    --lock-timeout is refused at once, before anything is loaded; without it, the wait
    is the loaded settings' `lock_timeout`."""
    timeout = parse_duration(flag, what="--lock-timeout") if flag is not None else None
    ttl = _ttl(runtime)

    def lost(why: str) -> None:
        if stop.request(f"the apply lock was lost: {why}", EXIT_ERROR):
            say(
                runtime.stderr,
                f"Error: the apply lock was lost: {why}; no new change will "
                f"start, the ones in flight finish.",
            )

    def estate_lock(gateway: Gateway, settings: Settings) -> EstateLock:
        wait = timeout
        if wait is None:
            wait = parse_duration(settings.lock_timeout, what="settings.lock_timeout")
        holder = this_process(runtime.environ, ttl=ttl, shard=shard)
        lock = EstateLock(
            gateway.lock_store(),
            holder,
            taking=gateway.lock_store(stoppable=True),  # a signal ends its waits
            timeout=wait,
            err=runtime.stderr,
            on_lost=lost,
            checkpoint=runtime.checkpoint,  # a signal while it waits for another apply's
        )
        made.append(lock)
        return lock

    return estate_lock


def _check_saved(saved: SavedPlan, planfile: str, plan: Plan, *, emulated: bool) -> None:
    if saved.emulator != emulated:
        made, now = ("the emulator", "Twilio") if saved.emulator else ("Twilio", "the emulator")
        raise UsageError(
            f"the saved plan {planfile} was made against {made}, but this apply "
            f"would run against {now}. Nothing was changed."
        )
    if saved.parent_account and saved.parent_account != plan.parent_account:
        raise UsageError(
            f"the saved plan {planfile} was made under the parent account "
            f"{saved.parent_account}, but these credentials are those of "
            f"{plan.parent_account}. Nothing was changed: run apply with the credentials the "
            "plan was made with, or make a new plan under these."
        )
    check_fresh(
        source=planfile,
        saved_config_digest=saved.config_digest,
        saved_live_digests=saved.live_digests,
        saved_changes=saved.changes,
        current=plan,
    )


def _show_plan(runtime: Runtime, text: str) -> None:
    """The plan, before any write: output that cannot be written stops apply here."""
    try:
        runtime.stdout.write(text)
        runtime.stdout.flush()
    except OSError as exc:
        raise UsageError(
            f"cannot write the plan to standard output ({exc.strerror or exc}); "
            f"nothing was changed."
        ) from exc


def _tell_stopping(err: TextIO, name: str) -> None:
    say(
        err,
        f"{name} received: no new change will start; the changes in flight finish "
        f"(send it again to stop at once).",
    )


def _check_options(saved: SavedPlan, o: Options) -> None:
    """A saved plan is carried out whole, with the options it was made with: an option
    that would leave customers out of it, or change what it may delete, is refused
    rather than ignored (`apply plan.json --customer acme` means acme only)."""
    conflicts = []
    if o.only is not None or o.shard is not None:
        chosen = select_customers(customer_file_ids(o.root), only=o.only, shard=o.shard)
        outside = sorted(set(saved.customers) - set(chosen))
        if outside:
            conflicts.append(f"{_scope_flags(o)} would leave out {listed(outside)}")
    if o.prune is not None and o.prune != saved.prune:
        conflicts.append("--prune was given")
    if o.allow_mass_delete and not saved.allow_mass_delete:
        conflicts.append("--allow-mass-delete was given")
    if not conflicts:
        return
    made = "with" if saved.prune else "without"
    flags = [_scope_flags(o)] if o.only is not None or o.shard else []
    flags += ["--prune"] if o.prune else []
    flags += ["--allow-mass-delete"] if o.allow_mass_delete else []
    command = " ".join(["wa-sync plan", *flags, "--out FILE"])
    raise UsageError(
        f"{o.planfile} was saved for {listed(saved.customers)}, {made} prune, and is carried "
        f"out exactly as saved, but {' and '.join(conflicts)}. Nothing was changed. Save a "
        f"plan with those options (`{command}`), review it and apply that."
    )


def _scope_flags(o: Options) -> str:
    customers = [f"--customer {cid}" for cid in o.only or ()]
    shard = [f"--shard {o.shard[0]}/{o.shard[1]}"] if o.shard else []
    return " ".join(customers + shard)


def _read_saved(planfile: str) -> SavedPlan:
    save = "Give a plan saved with `wa-sync plan --out FILE`."
    try:
        text = Path(planfile).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{planfile}: not a wa-sync plan file (not UTF-8 text). {save}") from exc
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise UsageError(f"cannot read the plan file {planfile}: {why}. {save}") from exc
    return read_plan(text, source=planfile)


def _confirm(runtime: Runtime) -> None:
    if not runtime.stdin_isatty:
        raise UsageError(
            "apply needs confirmation, but standard input is not a terminal. "
            "Review the plan, then run `wa-sync apply --auto-approve`, or save it with "
            "`wa-sync plan --out plan.json` and run `wa-sync apply plan.json`."
        )
    runtime.stdout.write("\nDo you want to make these changes in Twilio? Only 'yes' is accepted: ")
    runtime.stdout.flush()
    if runtime.stdin.readline().strip() != "yes":
        raise WaSyncError("apply cancelled; nothing was changed.")
