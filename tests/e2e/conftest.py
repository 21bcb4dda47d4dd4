"""End-to-end fixtures: a per-test emulator over HTTP and a repository in a tmp dir.

The CLI runs in-process through `wa_sync.cli.main` with a Runtime whose environment
points the real twilio SDK at the emulator.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import Repo, Result
from wa_sync.cli import main
from wa_sync.emulator import Emulator
from wa_sync.runtime import Runtime


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def emulator_env(emulator: Emulator) -> dict[str, str]:
    """The environment that points wa-sync at `emulator` with its parent's credentials."""
    return {
        "TWILIO_ACCOUNT_SID": emulator.parent_sid,
        "TWILIO_AUTH_TOKEN": emulator.parent_token,
        "WA_SYNC_TWILIO_URL": emulator.url,
    }


def runner(repo: Repo, env: dict[str, str]) -> Callable[..., Result]:
    """Run `wa-sync ARGS --root <repo>` in-process; returns code, stdout, stderr."""

    def run(*args: str, stdin: str = "", tty: bool = False, environ: dict | None = None) -> Result:
        runtime = Runtime(
            environ=env if environ is None else environ,
            stdin=io.StringIO(stdin),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            stdin_isatty=tty,
            stdout_isatty=False,
        )
        code = main([*args, "--root", str(repo.root)], runtime)
        return Result(code, runtime.stdout.getvalue(), runtime.stderr.getvalue())

    return run


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    return emulator_env(emulator)


@pytest.fixture
def cli(repo: Repo, env: dict[str, str]) -> Callable[..., Result]:
    """Run `wa-sync ARGS --root <repo>` in-process; returns code, stdout, stderr."""
    return runner(repo, env)
