"""The corpus of bad inputs (issue 2, item 10): each case in tests/fixtures/bad/<case>/
is laid over a small valid repository, and `wa-sync validate` must exit 1 with a message
naming the file and, where there is one, the line and what is wrong, never a traceback.
A case may add arguments in expect.json (`--strict` for rules that only warn)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.config.conftest import FIXTURES, overlay, run_cli

CASES = sorted(p for p in (FIXTURES / "bad").iterdir() if (p / "expect.json").is_file())


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_bad_input_is_reported_with_file_and_line(case: Path, base_repo: Path):
    expect = json.loads((case / "expect.json").read_text(encoding="utf-8"))
    overlay(case / "repo", base_repo)

    args = expect.get("args", [])
    result = run_cli("validate", "--root", str(base_repo), "--format", "json", *args)

    assert result.code == 1, result.output
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    document = json.loads(result.out)
    errors = document["errors"] + (document["warnings"] if "--strict" in args else [])
    matching = [e for e in errors if e["file"] == expect["file"]]
    if expect["line"] is not None:
        matching = [e for e in matching if e["line"] == expect["line"]]
    if expect["rule"]:
        matching = [e for e in matching if e["rule"] in expect["rule"]]
    for text in expect["contains"]:
        matching = [e for e in matching if text in e["message"] + " " + e["fix"]]
    assert matching, f"no error like {expect} in:\n" + json.dumps(errors, indent=1)


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_text_and_github_formats_name_the_file(case: Path, base_repo: Path):
    expect = json.loads((case / "expect.json").read_text(encoding="utf-8"))
    overlay(case / "repo", base_repo)
    place = expect["file"] + (f":{expect['line']}" if expect["line"] else "")
    args = expect.get("args", [])
    level = "warning" if "--strict" in args else "error"
    annotation = f"::{level} file={expect['file']}" + (
        f",line={expect['line']}::" if expect["line"] else ""
    )

    text = run_cli("validate", "--root", str(base_repo), *args)
    github = run_cli("validate", "--root", str(base_repo), "--format", "github", *args)

    assert text.code == github.code == 1
    assert place in text.out
    assert annotation in github.out
    assert "Traceback" not in text.output + github.output


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_every_problem_says_how_to_fix_it(case: Path, base_repo: Path):
    """SPEC §3 and the bar: what is wrong, and what to do about it, for each problem."""
    expect = json.loads((case / "expect.json").read_text(encoding="utf-8"))
    overlay(case / "repo", base_repo)
    args = expect.get("args", [])
    result = run_cli("validate", "--root", str(base_repo), "--format", "json", *args)
    document = json.loads(result.out)
    for problem in document["errors"] + document["warnings"]:
        assert problem["fix"].strip(), problem
