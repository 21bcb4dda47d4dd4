"""What git knows about the configuration: which files differ from a revision.

`changed_paths` serves `--changed-since REF` (SPEC §3), and must be right or say why
not. `cause_from_git` tells a change caused by editing the YAML (`config`) from one
caused by someone changing Twilio by hand (`drift`); its base revision is the
`--changed-since` one, else `WA_SYNC_BASE_REF` (CI sets it: the pull request's base
branch, or the commit before a merge), else HEAD. Outside a git repository every
change counts as `config`.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from functools import cache
from typing import TextIO

from wa_sync.errors import UsageError
from wa_sync.plan.change import Cause
from wa_sync.plan.diff import CauseOf, always_config
from wa_sync.plan.scope import CUSTOMERS_DIR, SETTINGS_FILE, TEMPLATES_DIR

GIT_TIMEOUT = 10  # seconds; a hung git must not hang a plan


class GitFailed(Exception):
    """git could not be run, or said no; the message is its own."""


class GitMissing(GitFailed):
    """git could not be run at all (not installed, not on PATH)."""


def _git(root: str, *args: str) -> str:
    """The output of `git -C root args`; raises GitFailed."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", "-C", root, *args],  # noqa: S607 - git from PATH, like any CI step
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except OSError as exc:  # no git on PATH, or not executable
        raise GitMissing(f"git could not be run: {exc.strerror or exc}") from exc
    except subprocess.SubprocessError as exc:  # a hung git, past GIT_TIMEOUT
        raise GitFailed(f"git did not answer: {exc}") from exc
    if done.returncode != 0:
        raise GitFailed(done.stderr.strip() or f"git {args[0]} exited {done.returncode}")
    return done.stdout


def _paths(output: str) -> list[str]:
    """The paths of a `git ... -z` listing: NUL-separated, never quoted."""
    return [path for path in output.split("\0") if path]


def changed_paths(root: str, ref: str) -> frozenset[str]:
    """The paths, relative to `root`, of the files under it that differ from git
    revision `ref`: changed, added, deleted, and not yet tracked ones, and the
    configuration files that are symbolic links to one of those. Raises a UsageError
    when `root` is not in a git work tree or `ref` is unknown."""
    try:
        _git(root, "rev-parse", "--is-inside-work-tree")
    except GitMissing as exc:
        raise UsageError(
            f"--changed-since {ref}: {exc}; install git (or put it on PATH), or run "
            "without --changed-since"
        ) from exc
    except GitFailed as exc:
        raise UsageError(
            f"--changed-since {ref}: {root} is not in a git work tree ({exc})"
        ) from exc
    try:
        commit = _git(
            root, "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}"
        ).strip()
    except GitFailed as exc:
        raise UsageError(
            f"--changed-since {ref}: git knows no commit {ref!r} in this repository. "
            "Give a branch, tag or commit that exists here; in CI, fetch it first "
            "(actions/checkout with fetch-depth: 0, or git fetch origin <branch>)"
        ) from exc
    try:
        changed = _git(root, "diff", "-z", "--name-only", "--no-renames", "--relative", commit)
        # untracked files, those `.gitignore` matches too: an ignored customer file differs
        # from REF all the same, and a full plan reads it
        untracked = _git(root, "ls-files", "-z", "--others")
    except GitFailed as exc:
        raise UsageError(f"--changed-since {ref}: git could not list the changes: {exc}") from exc
    paths = frozenset(_paths(changed) + _paths(untracked))
    return paths | linked_to(root, paths)


def linked_to(root: str, paths: Iterable[str]) -> frozenset[str]:
    """The configuration files (wa-sync.yaml, customers/*.yaml, templates/*.yaml) that
    are, or lie in a folder that is, a symbolic link to one of `paths` (relative to
    `root`): git lists the file a link points to as changed, never the link."""
    top = os.path.realpath(root)
    links = {}  # relative -> real path, of the configuration files that are links
    for relative in _config_files(root):
        real = os.path.realpath(os.path.join(top, relative))
        if real != os.path.join(top, relative):
            links[relative] = real
    if not links:  # the common case: no real path of git's list to make
        return frozenset()
    targets = {os.path.realpath(os.path.join(top, path)) for path in paths}
    return frozenset(relative for relative, real in links.items() if real in targets)


def _config_files(root: str) -> list[str]:
    """The relative paths of the files that configure the estate, as the loader finds
    them (wa_sync/config/repo.py)."""
    files = [SETTINGS_FILE]
    for folder in (CUSTOMERS_DIR, TEMPLATES_DIR):
        try:
            names = os.listdir(os.path.join(root, folder))
        except OSError:  # no such folder, or not one: the loader says so
            continue
        files += [f"{folder}/{name}" for name in names if name.endswith(".yaml")]
    return files


def file_at(root: str, ref: str, relative: str) -> str | None:
    """The text of `relative` (to `root`) at git revision `ref`, as committed (no textconv
    or filter); None when it had no such file there, or git cannot say."""
    try:
        return _git(root, "cat-file", "blob", "--end-of-options", f"{ref}:./{relative}")
    except GitFailed:
        return None


def toplevel(path: str) -> str | None:
    """The top of the git work tree that holds `path` (or, for a path not made yet, its
    nearest existing folder); None outside one, or without git."""
    folder = os.path.abspath(path)
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    try:
        return _git(folder, "rev-parse", "--show-toplevel").strip() or None
    except GitFailed:
        return None


def changed_files(root: str, base: str) -> frozenset[str] | None:
    """Real paths of the files that differ from `base` (untracked ones included);
    None when `root` is not in a git work tree; GitFailed when `base` is unknown."""
    try:
        top = _git(root, "rev-parse", "--show-toplevel").strip()
    except GitFailed:
        return None
    changed = _paths(  # paths from the top, whatever `diff.relative` says
        _git(root, "diff", "-z", "--name-only", "--no-relative", "--end-of-options", base, "--")
    )
    untracked = _git(root, "ls-files", "-z", "--others", "--full-name")  # ignored ones too
    return frozenset(os.path.realpath(os.path.join(top, p)) for p in changed + _paths(untracked))


def cause_from_git(
    root: str, environ: Mapping[str, str], *, base: str | None = None, err: TextIO | None = None
) -> CauseOf:
    """The cause of a change made from `files`, against `base` (default as the module
    says). git is asked once, when the first change needs a cause: a plan without
    changes (the common case in CI) runs no git at all. A WA_SYNC_BASE_REF that git
    does not know is told on `err` (`base`, from --changed-since, was checked before)."""
    named = environ.get("WA_SYNC_BASE_REF") if base is None else None
    base = base or named or "HEAD"

    @cache
    def changed() -> frozenset[str] | None:
        try:
            return changed_files(root, base)
        except GitFailed:
            if named and err is not None:
                err.write(
                    f"warning: WA_SYNC_BASE_REF {named!r} is no revision git knows here, so "
                    "every change is shown as caused by the configuration; fetch it first "
                    "(actions/checkout with fetch-depth: 0, or git fetch origin <branch>)\n"
                )
            return None

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
