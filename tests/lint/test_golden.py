"""The lint's whole output over a corpus full of problems is exactly what it was when
golden_corpus.json was written: every problem's rule, severity, message, fix, key, file
and line, in order. A rewrite of the rules for speed must not change a character. The
file keeps each problem's rule and a digest of all its fields, to stay small.

To rewrite the golden file after an intended change of the lint's output:
    python -m tests.lint.test_golden --write
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from tests.config.conftest import FIXTURES, overlay
from tests.lint.corpus import configs
from wa_sync.config.lint import RULE_IDS, lint_config
from wa_sync.config.repo import load_model
from wa_sync.errors import Problem
from wa_sync.model import Config

GOLDEN = Path(__file__).with_name("golden_corpus.json")


def _row(problem: Problem) -> str:
    fields = [
        problem.rule,
        str(problem.severity),
        problem.where.file,
        problem.where.line,
        problem.key,
        problem.message,
        problem.fix,
    ]
    return json.dumps(fields, ensure_ascii=False)


def _digest(row: str) -> str:
    return json.loads(row)[0] + " " + hashlib.sha256(row.encode()).hexdigest()[:16]


def _fixture_models() -> list[Config]:
    """The model of each tests/fixtures/bad case laid over its base repository."""
    found = []
    with tempfile.TemporaryDirectory() as scratch:
        for case in sorted((FIXTURES / "bad").iterdir()):
            if not (case / "expect.json").is_file():
                continue
            root = Path(scratch) / case.name
            shutil.copytree(FIXTURES / "bad" / "_base", root)
            overlay(case / "repo", root)
            found.append(load_model(str(root))[0])
    return found


def corpus_output() -> list[list[str]]:
    """Per config of the corpus (the generated ones, then the fixtures'), every problem's
    fields as JSON, in order."""
    return [[_row(p) for p in lint_config(cfg)] for cfg in configs() + _fixture_models()]


def test_the_corpus_makes_every_rule_fire():
    rules = Counter(
        digest.split()[0] for rows in json.loads(GOLDEN.read_text("utf-8")) for digest in rows
    )
    assert set(rules) == set(RULE_IDS)
    assert sum(rules.values()) > 4000


def test_the_lint_output_over_the_corpus_is_unchanged():
    expected = json.loads(GOLDEN.read_text("utf-8"))
    found = corpus_output()
    assert len(found) == len(expected)
    for n, (rows, golden) in enumerate(zip(found, expected, strict=True)):
        for i, (row, want) in enumerate(zip(rows, golden, strict=False)):
            assert _digest(row) == want, f"config {n}, problem {i} is now {row}"
        assert len(rows) == len(golden), f"config {n}"


def test_linting_twice_gives_the_same_output():
    # nothing remembered from one lint run leaks into the next
    cfg = configs(seed=11, count=1)[0]
    assert lint_config(cfg) == lint_config(cfg)


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    lines = (json.dumps([_digest(row) for row in rows]) for rows in corpus_output())
    GOLDEN.write_text("[\n" + ",\n".join(lines) + "\n]\n", "utf-8")
