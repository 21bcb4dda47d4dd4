"""The examples of docs/commands/*.md and README.md say what the commands print today.

scripts/readme_examples.py made them by running each command on the example estate
against the emulator; this runs the same scenario again and compares each page's
generated part, with what changes on every run masked: SIDs, dates and times, the
emulator's port, and the order in which parallel work finishes. A change to an output
that the pages do not show yet fails here: refresh them with the script.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

MASKS = [
    (re.compile(r"\b(AC|HX|XE|SK|MG)[0-9a-f]{32}\b"), r"\1<sid>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}([T ][\d:.]+([+-]\d{2}:\d{2}|Z)?)?"), "<time>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"--port \d+"), "--port <port>"),
    (re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b"), "<duration>"),
]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_examples", ROOT / "scripts" / "readme_examples.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def normalised(text: str) -> list[str]:
    """The lines with run-to-run values masked, sorted: parallel work finishes in any
    order, and a reordering is not what this test is about."""
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return sorted(text.splitlines())


def test_the_command_pages_show_what_the_commands_print() -> None:
    script = load_script()
    sections = script.generate()
    pages = [f"docs/commands/{p.name}" for p in (ROOT / "docs" / "commands").glob("*.md")]
    assert sorted(sections) == sorted([*pages, "README.md"])
    for relative, section in sections.items():
        page = (ROOT / relative).read_text(encoding="utf-8")
        shown = script.generated_part(page)
        assert shown, f"{relative} has no generated part: run scripts/readme_examples.py"
        assert normalised(shown) == normalised(section), (
            f"{relative} is out of date: run .venv/bin/python scripts/readme_examples.py"
        )
