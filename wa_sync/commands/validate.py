"""`wa-sync validate`: check the repository offline (SPEC §3, §4.6).

Three views of one list of problems: text for people, JSON for tools, and GitHub
Actions workflow commands that annotate the pull request. Exit 0 when valid, 1 when
not; warnings fail only with --strict.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from wa_sync.config.repo import load_repo
from wa_sync.errors import ConfigInvalid, Problem
from wa_sync.model import Config
from wa_sync.plan.scope import select_customers
from wa_sync.runtime import Runtime
from wa_sync.visible import visible, visible_json


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root,
        customers=args.customer,
        output=args.format,
        strict=args.strict,
        out=runtime.stdout,
    )


def run(
    *,
    root: str,
    customers: Sequence[str] | None,
    output: str,
    strict: bool,
    out: TextIO,
) -> int:
    if customers:  # an unknown id is a usage error, with a hint
        known = [p.stem for p in Path(root, "customers").glob("*.yaml")]
        select_customers(known, only=customers)
    config: Config | None = None
    try:
        config, problems = load_repo(root, customers=customers or None)
    except ConfigInvalid as exc:
        problems = list(exc.problems)
    problems = sorted(problems, key=Problem.sort_key)
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    valid = not errors and not (strict and warnings)
    render = {"json": _json, "github": _github}.get(output, _text)
    out.write(render(errors, warnings, config, valid=valid, strict=strict))
    return 0 if valid else 1


def _text(
    errors: list[Problem],
    warnings: list[Problem],
    config: Config | None,
    *,
    valid: bool,
    strict: bool,
) -> str:
    lines = [f"{'error' if p.is_error else 'warning'}: {p}" for p in [*errors, *warnings]]
    if lines:
        lines.append("")
    lines.append(_summary(errors, warnings, config, valid=valid, strict=strict))
    return visible("\n".join(lines)) + "\n"


def _summary(
    errors: list[Problem],
    warnings: list[Problem],
    config: Config | None,
    *,
    valid: bool,
    strict: bool,
) -> str:
    counts = f"{_plural(len(errors), 'error')}, {_plural(len(warnings), 'warning')}"
    if not valid:
        why = " (--strict fails on warnings)" if strict and not errors else ""
        return f"Invalid: {counts}{why}."
    assert config is not None
    templates = sum(len(c.templates) for c in config.customers)
    senders = sum(len(c.senders) for c in config.customers)
    return (
        f"Valid: {_plural(len(config.customers), 'customer')}, "
        f"{_plural(senders, 'sender')}, {_plural(templates, 'template')}; {counts}."
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _json(
    errors: list[Problem],
    warnings: list[Problem],
    config: Config | None,
    *,
    valid: bool,
    strict: bool,
) -> str:
    document = {
        "valid": valid,
        "errors": [_record(p) for p in errors],
        "warnings": [_record(p) for p in warnings],
    }
    return visible_json(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def _record(problem: Problem) -> dict[str, object]:
    return {
        "file": problem.where.file,
        "line": problem.where.line,
        "key": problem.key,
        "rule": problem.rule,
        "message": problem.message,
        "fix": problem.fix,
    }


# What GitHub keeps of workflow-command annotations (actions/runner,
# src/Runner.Worker/ExecutionContext.cs: _maxCountPerIssueType, _maxIssueMessageLength):
# the first 10 errors and the first 10 warnings of a step become annotations, the rest
# only log lines; and a message is cut at 4,096 characters (.NET's: UTF-16 code units).
ANNOTATIONS_PER_KIND = 10
ANNOTATION_CHARS = 4096
CLIPPED = "…"


def _github(
    errors: list[Problem],
    warnings: list[Problem],
    config: Config | None,
    *,
    valid: bool,
    strict: bool,
) -> str:
    """GitHub Actions workflow commands: one annotation per problem, and a notice when
    GitHub shows only some of them."""
    lines = []
    hidden = [
        _plural(len(found), kind)
        for found, kind in ((errors, "error"), (warnings, "warning"))
        if len(found) > ANNOTATIONS_PER_KIND
    ]
    if hidden:
        notice = (
            f"{' and '.join(hidden)}: GitHub shows the first {ANNOTATIONS_PER_KIND} of each "
            "kind as annotations; this step's log lists every one (so does `wa-sync "
            "validate` where the estate is checked out)"
        )
        lines.append(f"::notice::{_data(notice)}")
    for problem in [*errors, *warnings]:
        level = "error" if problem.is_error else "warning"
        props = f"file={_property(Path(problem.where.file).as_posix())}"
        if problem.where.line:
            props += f",line={problem.where.line}"
        head = f"{problem.key}: {problem.message}" if problem.key else problem.message
        if problem.rule:
            head += f" [{problem.rule}]"
        text = _fit(visible(head), visible(f" Fix: {problem.fix}") if problem.fix else "")
        lines.append(f"::{level} {props}::{_escape(text)}")
    lines.append(_summary(errors, warnings, config, valid=valid, strict=strict))
    return "\n".join(lines) + "\n"


def _fit(head: str, tail: str) -> str:
    """`head` (where and what) and `tail` (the fix) within what GitHub keeps of a
    message: a long one keeps the start of each, the fix at least half of the room."""
    if _units(head + tail) <= ANNOTATION_CHARS:
        return head + tail
    head = _clip(head, max(ANNOTATION_CHARS - _units(tail), ANNOTATION_CHARS // 2))
    return head + _clip(tail, ANNOTATION_CHARS - _units(head))


def _clip(text: str, room: int) -> str:
    if _units(text) <= room:
        return text
    kept = text.encode("utf-16-le")[: 2 * (room - 1)].decode("utf-16-le", errors="ignore")
    return kept + CLIPPED


def _units(text: str) -> int:
    """The length of `text` as .NET counts it (a character past U+FFFF counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _data(text: str) -> str:
    return _escape(visible(text))


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
