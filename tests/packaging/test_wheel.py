"""wa-sync as users install it: `python -m build` makes the sdist and, from it, the
wheel, as CI's build job runs it; the wheel goes into a clean virtual environment with its
dependencies from the package index, and the installed `wa-sync` scaffolds, validates and
plans an estate.

CI's build job and the action build wa-sync with the setuptools that constraints.txt pins,
and run the pip it pins: each is run on a copy of this checkout whose constraints.txt pins
another setuptools than the newest (the one an unpinned build would take).

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
import yaml
from packaging.utils import canonicalize_name

from tests.packaging.test_constraints import pins, requirements
from wa_sync import __version__
from wa_sync.commands.init import SCAFFOLD

ROOT = Path(__file__).resolve().parents[2]
# what a checkout on a runner does not have
UNTRACKED = (".git", ".venv", "node_modules", "build", "dist", "*.egg-info", "__pycache__")
UNTRACKED += (".*_cache", ".contract-specs")

# a setuptools that pyproject.toml's [build-system] allows, older than the newest
OLDER_SETUPTOOLS = "77.0.3"

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


def clean_env() -> dict[str, str]:
    """This process's environment without credentials, settings or its interpreter's."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "WA_SYNC_", "PYTHON", "VIRTUAL_ENV"))
    }


def checkout(tmp_path: Path) -> Path:
    """A fresh copy of this checkout, as a runner has it, whose constraints.txt pins
    OLDER_SETUPTOOLS: what builds with it builds with the pin, not with the newest."""
    (setuptools,) = [r for r in requirements() if r.name == "setuptools"]
    assert setuptools.specifier.contains(OLDER_SETUPTOOLS)
    assert pins()["setuptools"] != OLDER_SETUPTOOLS, "pick another OLDER_SETUPTOOLS"
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*UNTRACKED))
    constraints = copy / "constraints.txt"
    text = constraints.read_text()
    pinned = f"setuptools=={pins()['setuptools']}\n"
    assert pinned in text
    constraints.write_text(text.replace(pinned, f"setuptools=={OLDER_SETUPTOOLS}\n"))
    return copy


def generator(wheel_metadata: str) -> str:
    """Which build backend made a wheel: its WHEEL file's Generator line."""
    (line,) = [line for line in wheel_metadata.splitlines() if line.startswith("Generator:")]
    return line.removeprefix("Generator:").strip()


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and wheel as CI's build job makes them: its step's script, run in a copy
    of the checkout by a fresh Python (a runner's, with the pip its Python bundles)."""
    tmp_path = tmp_path_factory.mktemp("ci-build")
    source = checkout(tmp_path)
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    (script,) = [step["run"] for step in steps if "-m build" in step.get("run", "")]
    venv.create(tmp_path / "python", with_pip=True)
    env = clean_env()
    env["PATH"] = f"{tmp_path / 'python' / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}"
    run("bash", "-e", "-c", script, cwd=source, env=env)
    versions = run("python", "-m", "pip", "list", "--format=json", cwd=source, env=env)
    pip = next(d["version"] for d in json.loads(versions) if d["name"] == "pip")
    assert pip == pins()["pip"]
    return source / "dist"


def test_ci_builds_with_the_pinned_setuptools(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    (metadata,) = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/WHEEL")]
    assert generator(zipfile.ZipFile(wheel).read(metadata).decode()) == (
        f"setuptools ({OLDER_SETUPTOOLS})"
    )


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
    venv.create(env_dir)  # without pip: the test environment's pip installs into it
    bin_dir = env_dir / "bin"
    # --no-compile: byte-compiling the dependencies (twilio's SDK alone is ~1,500 modules)
    # took a third of the install's CPU, and nothing here depends on it
    pip = (sys.executable, "-m", "pip", "--python", bin_dir / "python")
    run(*pip, "install", "--quiet", "--no-compile", wheel, cwd=tmp_path)
    env = clean_env()
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
    action = checkout(tmp_path)
    runner = tmp_path / "runner"
    runner.mkdir()
    github_path, output = runner / "path", runner / "output"
    github_path.write_text("")
    output.write_text("")
    env = clean_env()
    env.update(
        GITHUB_ACTION_PATH=str(action), RUNNER_TEMP=str(runner), GITHUB_PATH=str(github_path)
    )
    installed = run("bash", action / "action" / "install.sh", cwd=tmp_path, env=env)
    assert installed.endswith(f"wa-sync {__version__}\n")
    (bin_dir,) = github_path.read_text().splitlines()
    assert (Path(bin_dir) / "wa-sync").is_file()
    # every package installed is at the version constraints.txt pins: what the tests ran
    # with; pip too (not the one the runner's Python bundles); setuptools is the venv's own
    # (Python 3.11's venv has one), which nothing uses: the wheel is built in pip's isolated
    # build environment, by the pinned one
    listed = run(
        Path(bin_dir) / "python", "-m", "pip", "list", "--format=json", cwd=tmp_path, env=env
    )
    versions = {canonicalize_name(d["name"]): d["version"] for d in json.loads(listed)}
    pinned = pins()
    for name in versions.keys() - {"wa-sync", "setuptools"}:
        assert versions[name] == pinned.get(name), (name, versions[name], pinned.get(name))
    (metadata,) = Path(bin_dir).parent.glob("lib/python*/site-packages/wa_sync-*.dist-info")
    built_by = generator((metadata / "WHEEL").read_text())
    assert built_by == f"setuptools ({OLDER_SETUPTOOLS})"

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
