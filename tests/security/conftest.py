"""Security review fixtures (issue 8): the end-to-end fixtures, an offline CLI, and a
CLI in a child process with a memory limit and a timeout, for inputs meant to exhaust
time or memory (a regression fails its test instead of taking the test run down)."""

from __future__ import annotations

import io
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import cli, emulator, env, repo  # noqa: F401 (fixtures)
from tests.e2e.helpers import Result
from wa_sync.cli import main
from wa_sync.runtime import Runtime

REPO_ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 1024 * 1024 * 1024  # bytes of address space for a bounded run
TIME_LIMIT = 30.0  # seconds


def run_offline(*args: str, environ: dict[str, str] | None = None, stdin: str = "") -> Result:
    """`wa-sync ARGS` in-process, with no credentials."""
    runtime = Runtime(
        environ=environ or {},
        stdin=io.StringIO(stdin),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    code = main(list(args), runtime)
    return Result(code, runtime.stdout.getvalue(), runtime.stderr.getvalue())


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_bounded(*args: str, timeout: float = TIME_LIMIT) -> Result:
    """`python -m wa_sync ARGS` in a child with 1 GiB of memory and `timeout` seconds;
    exceeding either fails the calling test."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "wa_sync", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)},
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"wa-sync {' '.join(args)} ran for more than {timeout} seconds")
    assert "MemoryError" not in done.stderr, done.stderr[-2000:]
    return Result(done.returncode, done.stdout, done.stderr)


def assert_clean_error(result: Result) -> str:
    """Exit 1 with a message, never a traceback; returns stdout + stderr."""
    output = result.out + result.err
    assert result.code == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "internal error" not in output, output[-3000:]
    return output
