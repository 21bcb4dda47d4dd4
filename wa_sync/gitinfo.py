"""What git knows about the configuration: which files changed since the revision
that was last applied. It tells a change caused by editing the YAML (`config`)
from one caused by someone changing Twilio by hand (`drift`).

The base revision is `WA_SYNC_BASE_REF` when set (CI sets it: the pull request's
base branch, or the commit before a merge), else HEAD. Outside a git repository
every change counts as `config`.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from functools import cache

from wa_sync.plan.change import Cause
from wa_sync.plan.diff import CauseOf, always_config

GIT_TIMEOUT = 10  # seconds; a hung git must not hang a plan


def _git(root: str, *args: str) -> list[str] | None:
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", "-C", root, *args],  # noqa: S607 - git from PATH, like any CI step
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return [line for line in done.stdout.splitlines() if line]


def changed_files(root: str, base: str) -> frozenset[str] | None:
    """Real paths of the files that differ from `base` (untracked ones included);
    None when `root` is not in a git work tree or `base` is unknown."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if not top:
        return None
    changed = _git(root, "diff", "--name-only", base, "--")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "--full-name")
    if changed is None or untracked is None:
        return None
    return frozenset(os.path.realpath(os.path.join(top[0], p)) for p in changed + untracked)


def cause_from_git(root: str, environ: Mapping[str, str]) -> CauseOf:
    """The cause of a change made from `files`. git is asked once, when the first
    change needs a cause: a plan without changes (the common case in CI) runs no git
    at all, and no plan waits for it before reading Twilio."""
    base = environ.get("WA_SYNC_BASE_REF") or "HEAD"

    @cache
    def changed() -> frozenset[str] | None:
        return changed_files(root, base)

    @cache  # asked for every template: each customer file once, not 20 times
    def real(file: str) -> str:
        return os.path.realpath(os.path.join(root, file))

    def cause_of(files: Iterable[str]) -> Cause:
        found = changed()
        if found is None:
            return always_config(files)
        paths = {real(f) for f in files if f}
        return Cause.CONFIG if paths & found else Cause.DRIFT

    return cause_of
