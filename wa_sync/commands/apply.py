"""`wa-sync apply [PLANFILE]`: make Twilio match the configuration (SPEC §3, §4.2).

Without PLANFILE it plans and asks for `yes` on a terminal (or takes
--auto-approve). With PLANFILE it re-reads the configuration and Twilio, refuses a
stale plan before any write, and carries out exactly what was reviewed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from wa_sync.apply import Outcome, Result, apply_plan
from wa_sync.commands.common import EMULATOR_BANNER, load_and_connect, read_and_plan
from wa_sync.commands.plan import render
from wa_sync.errors import UsageError, WaSyncError
from wa_sync.plan.change import Action, Plan
from wa_sync.plan.stale import check_fresh
from wa_sync.render.json import SavedPlan, read_plan
from wa_sync.report import ReportWriter
from wa_sync.runtime import Runtime
from wa_sync.visible import visible

SYMBOLS = {Result.OK: "✓", Result.FAILED: "✗", Result.SKIPPED: "–"}


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root,
        planfile=args.planfile,
        only=args.customer,
        shard=args.shard,
        auto_approve=args.auto_approve,
        parallelism=args.parallelism,
        prune=args.prune,
        allow_mass_delete=args.allow_mass_delete,
        report=args.report,
        emulator=args.emulator,
        color=runtime.use_color(no_color_flag=args.no_color),
        runtime=runtime,
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
) -> int:
    saved = _read_saved(planfile) if planfile else None
    if saved is not None:  # the saved plan fixes the scope and the options it was made with
        only, shard = list(saved.customers), None
        prune, allow_mass_delete = saved.prune, saved.allow_mass_delete
    with load_and_connect(
        runtime, root=root, only=only, shard=shard, emulator=emulator, parallelism=parallelism
    ) as (loaded, gateway):
        workers = parallelism or loaded.config.settings.parallelism
        live, plan = read_and_plan(
            loaded,
            gateway,
            prune=prune,
            allow_mass_delete=allow_mass_delete,
            runtime=runtime,
        )
        if saved is not None and planfile:
            if saved.emulator != gateway.emulated:
                made, now = (
                    ("the emulator", "Twilio") if saved.emulator else ("Twilio", "the emulator")
                )
                raise UsageError(
                    f"the saved plan {planfile} was made against {made}, but this apply "
                    f"would run against {now}. Nothing was changed."
                )
            check_fresh(
                source=planfile,
                saved_config_digest=saved.config_digest,
                saved_live_digests=saved.live_digests,
                saved_changes=saved.changes,
                current=plan,
            )
        runtime.stdout.write(render(plan, "text", color=color))
        if not plan.has_changes:
            runtime.stdout.write("Nothing to apply.\n")
            return 0
        if saved is None and not auto_approve:
            _confirm(runtime)
        with ExitStack() as stack:
            writer = (
                stack.enter_context(ReportWriter(report, environ=runtime.environ))
                if report
                else None
            )
            progress = _Progress(
                runtime.stdout, total=len(plan.actionable), tty=runtime.stdout_isatty
            )

            def on_outcome(outcome: Outcome) -> None:
                progress.show(outcome)
                if writer is not None:
                    writer.write(outcome.as_record())

            outcomes = apply_plan(
                plan, loaded.config, live, gateway, parallelism=workers, on_outcome=on_outcome
            )
    runtime.stdout.write(summarise(plan, outcomes))
    return 0 if all(o.ok for o in outcomes) else 1


def _read_saved(planfile: str) -> SavedPlan:
    try:
        text = Path(planfile).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the plan file {planfile}: {exc}") from exc
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


class _Progress:
    """One line per completed change; numbered on a terminal."""

    def __init__(self, out: TextIO, *, total: int, tty: bool):
        self.out, self.total, self.tty, self.done = out, total, tty, 0

    def show(self, outcome: Outcome) -> None:
        self.done += 1
        counter = f"[{self.done}/{self.total}] " if self.tty else ""
        change = outcome.change
        detail = f" ({outcome.sid})" if outcome.ok and outcome.sid else ""
        error = f": {outcome.error}" if outcome.error else ""
        line = f"{counter}{SYMBOLS[outcome.result]} {change.action.value} {change.address}"
        self.out.write(visible(f"{line}{detail}{error}") + "\n")  # names are Twilio's
        self.out.flush()


def summarise(plan: Plan, outcomes: Sequence[Outcome]) -> str:
    done = sum(o.ok for o in outcomes)
    failed = [o for o in outcomes if o.result is Result.FAILED]
    skipped = sum(o.result is Result.SKIPPED for o in outcomes)
    lines = [""]
    if plan.emulator:
        lines.append(EMULATOR_BANNER)
    status = "Apply complete" if not failed and not skipped else "Apply finished with failures"
    lines.append(f"{status}: {done} done, {len(failed)} failed, {skipped} skipped.")
    if failed:
        lines.append("Failed:")
        lines += [f"  {o.change.address}: {o.error}" for o in failed]
        lines.append("Run `wa-sync apply` again once the cause is fixed: it resumes safely.")
    blocked = [c for c in plan.changes if c.action is Action.BLOCKED]
    if blocked:
        lines.append(f"{len(blocked)} blocked change(s) wait on people; see `wa-sync status`.")
    return visible("\n".join(lines)) + "\n"
