"""Helpers for the configuration tests: run `wa-sync` in-process on a repository."""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from wa_sync.cli import main
from wa_sync.runtime import Runtime

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


def run_cli(*args: str) -> Run:
    runtime = Runtime(environ={}, stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    code = main(list(args), runtime)
    return Run(code, runtime.stdout.getvalue(), runtime.stderr.getvalue())


def overlay(source: Path, target: Path) -> None:
    """Copy `source` over `target`: a file replaces a directory of the same name."""
    for path in sorted(source.rglob("*")):
        if path.is_dir():
            continue
        destination = target / path.relative_to(source)
        for parent in [*reversed(destination.relative_to(target).parents)][1:]:
            if (target / parent).is_file():
                (target / parent).unlink()
        if destination.is_dir():
            shutil.rmtree(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


@pytest.fixture
def base_repo(tmp_path: Path) -> Path:
    """A small valid repository (tests/fixtures/bad/_base) in a temporary directory."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "bad" / "_base", root)
    return root
