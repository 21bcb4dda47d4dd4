"""wa-sync as users install it: `python -m build` makes the sdist and, from it, the
wheel; the wheel goes into a clean virtual environment with its dependencies from the
package index, and the installed `wa-sync` scaffolds, validates and plans an estate.

The venv is clean on purpose (no --system-site-packages, no --no-deps): a dependency
missing from pyproject.toml, or a data file missing from the wheel, fails here and not
on a user's machine. pip's cache keeps the second run to seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.packaging.test_constraints import pins
from wa_sync import __version__
from wa_sync.commands.init import SCAFFOLD

ROOT = Path(__file__).resolve().parents[2]
# what a checkout on a runner does not have
UNTRACKED = (".git", ".venv", "node_modules", "build", "*.egg-info", "__pycache__", ".*_cache")

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=ROOT)
    return out


def test_the_wheel_carries_the_schemas_and_the_scaffold(dist: Path) -> None:
    (wheel,) = dist.glob(f"wa_sync-{__version__}-py3-none-any.whl")
    assert (dist / f"wa_sync-{__version__}.tar.gz").is_file()
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind in ("customer", "template", "wa-sync", "plan"):
        assert f"wa_sync/schema/{kind}.schema.json" in names
    for source in SCAFFOLD.values():
        assert f"wa_sync/scaffold/{source}" in names


def test_the_installed_wheel_works_in_a_clean_venv(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", wheel, cwd=tmp_path)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "WA_SYNC_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}"
    wa_sync = bin_dir / "wa-sync"
    assert run(wa_sync, "--version", cwd=tmp_path, env=env) == f"wa-sync {__version__}\n"
    run(wa_sync, "init", "estate", cwd=tmp_path, env=env)
    estate = tmp_path / "estate"
    assert "Valid: 2 customers" in run(wa_sync, "validate", cwd=estate, env=env)
    plan = run(wa_sync, "--emulator", "plan", cwd=estate, env=env)
    assert "(against the wa-sync emulator, not Twilio)" in plan
    assert "Plan: 9 to create" in plan


def test_the_action_installs_wa_sync_from_its_checkout(tmp_path: Path) -> None:
    """action/install.sh as the action runs it (GITHUB_ACTION_PATH: a fresh copy of this
    checkout, as the runner downloads it; pip builds in the tree), then action/run.sh
    with the wa-sync it put on the PATH: a plan of a new estate."""
    action = tmp_path / "action"
    shutil.copytree(ROOT, action, ignore=shutil.ignore_patterns(*UNTRACKED))
    runner = tmp_path / "runner"
    runner.mkdir()
    github_path, output = runner / "path", runner / "output"
    github_path.write_text("")
    output.write_text("")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "WA_SYNC_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(
        GITHUB_ACTION_PATH=str(action), RUNNER_TEMP=str(runner), GITHUB_PATH=str(github_path)
    )
    installed = run("bash", action / "action" / "install.sh", cwd=tmp_path, env=env)
    assert installed.endswith(f"wa-sync {__version__}\n")
    (bin_dir,) = github_path.read_text().splitlines()
    assert (Path(bin_dir) / "wa-sync").is_file()
    # every package installed is at the version constraints.txt pins: what the tests ran with
    listed = run(
        Path(bin_dir) / "python", "-m", "pip", "list", "--format=json", cwd=tmp_path, env=env
    )
    versions = {canonicalize_name(d["name"]): d["version"] for d in json.loads(listed)}
    pinned = pins()
    for name in versions.keys() - {"wa-sync", "pip", "setuptools"}:
        assert versions[name] == pinned.get(name), (name, versions[name], pinned.get(name))

    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}"
    run("wa-sync", "init", "estate", cwd=tmp_path, env=env)
    env.update(
        GITHUB_OUTPUT=str(output),
        INPUT_COMMAND="plan",
        INPUT_ROOT="estate",
        INPUT_EMULATOR="true",
    )
    run("bash", action / "action" / "run.sh", cwd=tmp_path, env=env)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert (outputs["exit_code"], outputs["has_changes"]) == ("2", "true")
