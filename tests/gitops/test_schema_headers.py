"""Editors: every YAML file of the repository names its JSON Schema on its first line."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from wa_sync.commands.new import SCHEMA_LINE

ROOT = Path(__file__).resolve().parents[2]
HEADER = re.compile(r"^# yaml-language-server: \$schema=(?P<path>\S+)$")
KIND = {"customers": "customer", "templates": "template", ".": "wa-sync"}


def repo_yaml_files() -> list[Path]:
    files = [p for folder in ("customers", "templates") for p in (ROOT / folder).glob("*.y*ml")]
    files += [p for p in (ROOT / "wa-sync.yaml", ROOT / "wa-sync.yml") if p.exists()]
    return sorted(files)


def test_there_are_example_files() -> None:
    names = {p.relative_to(ROOT).parts[0] for p in repo_yaml_files()}
    assert {"customers", "templates", "wa-sync.yaml"} <= names


@pytest.mark.parametrize("path", repo_yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_first_line_points_at_the_matching_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = HEADER.match(first)
    assert match, f"{path.relative_to(ROOT)} must start with '# yaml-language-server: $schema=...'"
    schema = Path(os.path.normpath(path.parent / match["path"]))  # schema/ is a link: no resolve
    assert schema.is_file(), f"{match['path']} does not exist (from {path.relative_to(ROOT)})"
    assert schema.parent == ROOT / "schema"
    folder = path.parent.relative_to(ROOT).as_posix()
    assert schema.name == f"{KIND[folder]}.schema.json"


@pytest.mark.parametrize("kind", ["customer", "template"])
def test_scaffold_header_points_at_an_existing_schema(kind: str) -> None:
    match = HEADER.match(SCHEMA_LINE.format(kind=kind))
    assert match
    folder = ROOT / ("customers" if kind == "customer" else "templates")
    assert Path(os.path.normpath(folder / match["path"])) == ROOT / "schema" / f"{kind}.schema.json"
    assert (ROOT / "schema" / f"{kind}.schema.json").is_file()
