"""pre-commit: the hook this repository offers, and its own configuration."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

WATCHED = [
    "customers/acme-dental.yaml",
    "customers/b2.yml",
    "templates/order_update.yaml",
    "wa-sync.yaml",
]
IGNORED = [
    "README.md",
    "customers/notes.txt",
    "schema/customer.schema.json",
    "docs/customers/x.yaml",
    "wa_sync/cli.py",
    "customers/sub/x.yaml",
]


def load(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def test_offered_hook_runs_wa_sync_validate() -> None:
    hooks = load(".pre-commit-hooks.yaml")
    assert isinstance(hooks, list)
    (hook,) = (h for h in hooks if h["id"] == "wa-sync-validate")
    assert hook["entry"] == "wa-sync validate"
    assert hook["language"] == "python"  # pre-commit installs this repository, so wa-sync
    assert hook["pass_filenames"] is False  # validate checks the whole repository
    assert hook["name"]
    assert hook["description"]
    assert set(hook) <= {
        "id",
        "name",
        "description",
        "entry",
        "language",
        "pass_filenames",
        "files",
        "minimum_pre_commit_version",
    }


@pytest.mark.parametrize("name", [".pre-commit-hooks.yaml", ".pre-commit-config.yaml"])
def test_files_pattern_watches_the_estate_files_only(name: str) -> None:
    data = load(name)
    if name == ".pre-commit-config.yaml":
        local = next(r for r in data["repos"] if r["repo"] == "local")
        data = local["hooks"]
    (hook,) = (h for h in data if h["id"] == "wa-sync-validate")
    pattern = re.compile(hook["files"])
    for path in WATCHED:
        assert pattern.search(path), path
    for path in IGNORED:
        assert not pattern.search(path), path


def test_own_config_runs_ruff_and_validate() -> None:
    config = load(".pre-commit-config.yaml")
    by_repo = {r["repo"]: r for r in config["repos"]}
    ruff = by_repo["https://github.com/astral-sh/ruff-pre-commit"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", ruff["rev"])
    assert [h["id"] for h in ruff["hooks"]] == ["ruff", "ruff-format"]
    (validate,) = by_repo["local"]["hooks"]
    assert validate["id"] == "wa-sync-validate"
    assert validate["entry"] == "wa-sync validate"
    assert validate["pass_filenames"] is False
    assert validate["language"] == "system"
