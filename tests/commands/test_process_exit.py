"""`wa-sync` as a process: it ends without tearing down what its command built, so its
output must be complete and its exit code the command's."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def wa_sync(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wa_sync", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )


def example(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "customers", root / "customers")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "wa-sync.yaml", root / "wa-sync.yaml")
    return root


def test_a_plan_process_writes_all_its_output_and_exits_with_the_commands_code(tmp_path):
    root = example(tmp_path)

    done = wa_sync("--emulator", "plan", "--format", "json", "--detailed-exitcode", cwd=root)

    assert done.returncode == 2, done.stderr
    plan = json.loads(done.stdout)  # the whole document arrived
    assert plan["format_version"] == 1
    assert len(plan["changes"]) > 10
    assert "Traceback" not in done.stderr


def test_a_short_output_left_in_the_buffer_is_written_too(tmp_path):
    done = wa_sync("validate", cwd=example(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Valid: 4 customers")


def test_an_error_exit_code_and_message_survive_the_fast_exit(tmp_path):
    done = wa_sync("plan", "--root", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip()
    assert "Traceback" not in done.stderr
