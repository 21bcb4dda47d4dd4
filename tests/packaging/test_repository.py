"""What the repository holds: never a development environment of its own."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)


def test_no_virtual_environment_is_committed_and_a_linked_one_is_ignored() -> None:
    """A worktree whose .venv was a link to another's: `.venv/` ignored directories only,
    so `git add -A` committed the link, and every fresh clone's `make install` failed
    ("Too many levels of symbolic links")."""
    assert git("ls-files", "--", ".venv", ".venv/*").stdout == ""
    ignored = git("check-ignore", "--no-index", "--verbose", ".venv")
    assert ignored.returncode == 0, ignored.stderr
    assert ignored.stdout.split("\t")[0].endswith(":.venv")  # a pattern for a link too
