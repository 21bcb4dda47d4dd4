"""constraints.txt: the one list of pinned versions that `make install` (what the tests run
with), CI's build and the GitHub Action (what estates run) all install with, pip and the
build backend (setuptools, in pip's isolated build environment) included. pyproject.toml
keeps ranges; every package it names is pinned here once, inside its range."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!-]+)")


def pins() -> dict[str, str]:
    """constraints.txt as {canonical name: version}; fails on a line that is not a pin."""
    found: dict[str, str] = {}
    for n, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        match = PIN.fullmatch(line)
        assert match, f"constraints.txt:{n}: {line!r} is not NAME==VERSION"
        name = canonicalize_name(match["name"])
        assert name not in found, f"constraints.txt:{n}: {name} is pinned twice"
        found[name] = match["version"]
    return found


def requirements() -> list[Requirement]:
    """Every requirement pyproject.toml names (the package's own extras aside), its build
    backend's ([build-system] requires) included."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    extras = project["optional-dependencies"].values()
    named = [
        *pyproject["build-system"]["requires"],
        *project["dependencies"],
        *(name for extra in extras for name in extra),
    ]
    return [r for r in map(Requirement, named) if canonicalize_name(r.name) != "wa-sync"]


def test_every_dependency_is_pinned_once_inside_its_range() -> None:
    pinned = pins()
    assert "wa-sync" not in pinned
    assert "pip" in pinned  # the installer too: a new pip resolves and builds differently
    for requirement in [Requirement("pip"), *requirements()]:
        version = pinned.get(canonicalize_name(requirement.name))
        assert version, f"{requirement} is not pinned in constraints.txt"
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)


def dry_run(target: str) -> list[str]:
    """The commands `make TARGET` would run (make's dry run, every target out of date)."""
    dry = subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return dry.replace("\\\n", "").splitlines()  # a command continued on the next line: one


def test_make_install_installs_with_the_constraints() -> None:
    """What `make install` runs: .venv gets constraints.txt's pip first, then wa-sync with
    constraints.txt's versions, built by its setuptools (--build-constraint reaches pip's
    isolated build environment, which --constraint does not), and is reinstalled when the
    file changes."""
    dry = dry_run("install")
    installs = [line for line in dry if "pip install" in line]
    (upgrade,) = [n for n, line in enumerate(installs) if line.endswith(" pip")]
    assert "--constraint constraints.txt" in installs[upgrade]
    (install,) = [n for n, line in enumerate(installs) if "[dev]" in line]
    assert upgrade < install
    assert "--constraint constraints.txt" in installs[install]
    assert "--build-constraint constraints.txt" in installs[install]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\$\(STAMP\):.*\bconstraints\.txt\b", makefile, re.M)


def test_make_constraints_pins_pip_and_the_build_backend() -> None:
    """`make constraints`, the one place that moves the pins, pins pip and setuptools too:
    it installs the newest pip and the newest build backend [build-system] allows, and
    `pip freeze --all` lists them (plain `pip freeze` leaves pip and setuptools out)."""
    dry = dry_run("constraints")
    (tools,) = [line for line in dry if "pip install" in line and "build-system" in line]
    assert "--upgrade pip " in tools
    (freeze,) = [line for line in dry if "pip freeze" in line]
    assert "--all" in freeze.split()
