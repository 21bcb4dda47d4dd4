"""config vs drift: files changed since the base revision cause `config` changes."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from wa_sync.gitinfo import cause_from_git
from wa_sync.plan.change import Cause


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_edited_file_is_config_and_untouched_file_is_drift(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "customers").mkdir()
    (tmp_path / "customers" / "a.yaml").write_text("name: A\n")
    (tmp_path / "customers" / "b.yaml").write_text("name: B\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "init")
    (tmp_path / "customers" / "a.yaml").write_text("name: A2\n")
    (tmp_path / "customers" / "c.yaml").write_text("name: C\n")  # untracked counts too

    cause_of = cause_from_git(str(tmp_path), {})
    assert cause_of(["customers/a.yaml"]) is Cause.CONFIG
    assert cause_of(["customers/c.yaml"]) is Cause.CONFIG
    assert cause_of(["customers/b.yaml"]) is Cause.DRIFT
    assert cause_of([str(tmp_path / "customers" / "a.yaml")]) is Cause.CONFIG

    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "edit")
    assert cause_from_git(str(tmp_path), {})(["customers/a.yaml"]) is Cause.DRIFT
    against_parent = cause_from_git(str(tmp_path), {"WA_SYNC_BASE_REF": "HEAD~1"})
    assert against_parent(["customers/a.yaml"]) is Cause.CONFIG


def test_outside_git_everything_is_config(tmp_path):
    assert cause_from_git(str(tmp_path), {})(["customers/a.yaml"]) is Cause.CONFIG


def test_git_runs_only_when_a_change_needs_a_cause_and_then_once(tmp_path, monkeypatch):
    """A plan without changes asks git nothing; the first cause asked for runs it."""
    import os
    import shutil

    real_git = shutil.which("git")
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec {real_git} "$@"\n')
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    calls.unlink()

    cause_of = cause_from_git(str(repo), {})
    assert not calls.exists()
    assert cause_of(["customers/a.yaml"]) is Cause.CONFIG  # no commit yet: no base
    runs = calls.read_text().splitlines()
    assert runs
    assert all(line.startswith("-C ") for line in runs)
    cause_of(["customers/b.yaml"])
    assert calls.read_text().splitlines() == runs  # asked once


def test_an_unknown_base_ref_is_warned_of_once(tmp_path):
    """WA_SYNC_BASE_REF that git does not know (not fetched in CI): every change is then
    told as `config`, and the output says why instead of leaving it silent."""
    git(tmp_path, "init", "-q")
    (tmp_path / "customers").mkdir()
    (tmp_path / "customers" / "a.yaml").write_text("name: A\n")
    err = io.StringIO()
    cause_of = cause_from_git(str(tmp_path), {"WA_SYNC_BASE_REF": "origin/nope"}, err=err)
    assert cause_of(["customers/a.yaml"]) is Cause.CONFIG
    assert cause_of(["customers/b.yaml"]) is Cause.CONFIG
    told = err.getvalue()
    assert told.count("warning: WA_SYNC_BASE_REF 'origin/nope' is no revision git knows") == 1
    assert "fetch-depth: 0" in told


def test_outside_git_or_without_a_base_nothing_is_warned(tmp_path):
    err = io.StringIO()
    outside = cause_from_git(str(tmp_path), {"WA_SYNC_BASE_REF": "main"}, err=err)
    assert outside(["customers/a.yaml"]) is Cause.CONFIG
    git(tmp_path, "init", "-q")
    assert cause_from_git(str(tmp_path), {}, err=err)(["customers/a.yaml"]) is Cause.CONFIG
    assert err.getvalue() == ""
