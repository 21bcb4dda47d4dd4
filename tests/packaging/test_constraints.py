"""constraints.txt: the one list of pinned versions that `make install` (what the tests run
with) and the GitHub Action (what estates run) both install with. pyproject.toml keeps
ranges; every package it names is pinned here once, inside its range."""

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
    """Every requirement pyproject.toml names (the package's own extras aside)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"].values()
    named = [*project["dependencies"], *(name for extra in extras for name in extra)]
    return [r for r in map(Requirement, named) if canonicalize_name(r.name) != "wa-sync"]


def test_every_dependency_is_pinned_once_inside_its_range() -> None:
    pinned = pins()
    assert "wa-sync" not in pinned
    for requirement in requirements():
        version = pinned.get(canonicalize_name(requirement.name))
        assert version, f"{requirement} is not pinned in constraints.txt"
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)


def test_make_install_installs_with_the_constraints() -> None:
    """What `make install` runs (make's dry run): .venv gets constraints.txt's versions, and
    is reinstalled when the file changes."""
    dry = subprocess.run(
        ["make", "-n", "-B", "install"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    (install,) = [line for line in dry.splitlines() if "pip install" in line and "[dev]" in line]
    assert "--constraint constraints.txt" in install
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\$\(STAMP\):.*\bconstraints\.txt\b", makefile, re.M)
