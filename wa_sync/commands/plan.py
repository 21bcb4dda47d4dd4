"""`wa-sync plan`: validate, read live Twilio state, print the plan (SPEC §3, §4.1)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from wa_sync.commands.common import load_and_connect, read_and_plan, unread_error
from wa_sync.errors import UsageError, WaSyncError
from wa_sync.plan.change import Plan
from wa_sync.render.json import render_json
from wa_sync.render.markdown import render_markdown
from wa_sync.render.text import render_text
from wa_sync.runtime import Runtime

EXIT_NO_CHANGES, EXIT_CHANGES = 0, 2


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root,
        only=args.customer,
        shard=args.shard,
        changed_since=args.changed_since,
        fmt=args.format,
        out=args.out,
        detailed_exitcode=args.detailed_exitcode,
        prune=args.prune,
        allow_mass_delete=args.allow_mass_delete,
        emulator=args.emulator,
        color=runtime.use_color(no_color_flag=args.no_color),
        verbose=bool(args.verbose),
        runtime=runtime,
    )


def run(
    *,
    root: str,
    only: Sequence[str] | None,
    shard: tuple[int, int] | None,
    fmt: str,
    changed_since: str | None = None,
    out: str | None,
    detailed_exitcode: bool,
    prune: bool | None,
    allow_mass_delete: bool,
    emulator: bool,
    color: bool,
    verbose: bool,
    runtime: Runtime,
) -> int:
    with load_and_connect(
        runtime,
        root=root,
        only=only,
        shard=shard,
        emulator=emulator,
        changed_since=changed_since,
    ) as (loaded, gateway):
        _live, plan = read_and_plan(
            loaded,
            gateway,
            prune=prune,
            allow_mass_delete=allow_mass_delete,
            runtime=runtime,
            digests=bool(out) or fmt == "json",  # what a saved plan is checked against
        )
    if out:
        save_plan(plan, out)
    runtime.stdout.write(render(plan, fmt, color=color, verbose=verbose))
    if out:
        runtime.stderr.write(f"Saved the plan to {out}; apply it with `wa-sync apply {out}`.\n")
    if plan.unread:  # shown whole above; what was not read must not pass for "no changes"
        raise WaSyncError(unread_error(plan))
    if loaded.config.settings.on_category_change == "fail":
        refuse_recategorised(plan)
    if detailed_exitcode:
        return EXIT_CHANGES if plan.has_changes else EXIT_NO_CHANGES
    return 0


def refuse_recategorised(plan: Plan) -> None:
    """`settings.on_category_change: fail`: a template whose category in WhatsApp differs
    from the declared one fails the plan (either side may have changed: plan/categories.py)."""
    moved = [n.address for n in plan.notes if n.kind == "recategorised"]  # NoteKind's value
    if moved:
        raise WaSyncError(
            f"{len(moved)} template(s) with another category in WhatsApp than declared, and "
            f"settings.on_category_change is fail: {', '.join(moved)}. If Meta re-categorised "
            "them, have the customer approve the cost change, then declare the category "
            "WhatsApp holds (or set on_category_change: report); if the declared category is "
            "the one intended, the plan's note for each says how to get it"
        )


def render(plan: Plan, fmt: str, *, color: bool = False, verbose: bool = False) -> str:
    if fmt == "json":
        text = render_json(plan)
    elif fmt == "markdown":
        text = render_markdown(plan)
    else:
        text = render_text(plan, color=color, verbose=verbose)
    return text if text.endswith("\n") else text + "\n"


def save_plan(plan: Plan, out: str) -> None:
    path = Path(out)
    try:
        path.write_text(render_json(plan), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write the plan: {exc.strerror}") from exc
