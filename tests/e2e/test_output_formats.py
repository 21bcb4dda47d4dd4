"""Plan output through the CLI: colour only on a terminal, NO_COLOR and --no-color
respected; markdown for a pull-request comment; JSON per schema/plan.schema.json."""

from __future__ import annotations

import io
import json

import jsonschema
import pytest

from tests.e2e.helpers import customer_doc
from wa_sync.cli import main
from wa_sync.runtime import Runtime
from wa_sync.schemas import load_schema

ESC = "\033["


@pytest.fixture
def one(repo):
    repo.customer("clinic-one", customer_doc(1))
    return repo


def run_on_terminal(repo, env, *args: str, extra_env: dict | None = None) -> str:
    runtime = Runtime(
        environ={**env, **(extra_env or {})},
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        stdin_isatty=True,
        stdout_isatty=True,
    )
    assert main([*args, "--root", str(repo.root)], runtime) == 0, runtime.stderr.getvalue()
    return runtime.stdout.getvalue()


def test_colour_on_a_terminal_only(one, env, cli):
    assert ESC in run_on_terminal(one, env, "plan")
    assert ESC not in cli("plan").out  # not a terminal


def test_no_color_flag_and_environment_turn_colour_off(one, env):
    assert ESC not in run_on_terminal(one, env, "plan", "--no-color")
    assert ESC not in run_on_terminal(one, env, "plan", extra_env={"NO_COLOR": "1"})
    assert ESC not in run_on_terminal(one, env, "plan", extra_env={"TERM": "dumb"})


def test_markdown_plan_is_a_comment_with_a_summary_table(one, cli):
    result = cli("plan", "--format", "markdown")
    assert result.code == 0
    md = result.out
    assert md.startswith("<!-- wa-sync-plan -->")
    assert "| customer | create | update | replace | delete | submit | blocked |" in md
    assert "| clinic\\-one | 5 |" in md
    assert "<details>" in md
    assert "Plan: 5 to create" in md


def test_json_plan_follows_its_schema(one, cli):
    result = cli("plan", "--format", "json")
    doc = json.loads(result.out)
    jsonschema.Draft202012Validator(load_schema("plan")).validate(doc)
    assert doc["summary"]["create"] == 5
    addresses = {c["address"] for c in doc["changes"]}
    assert "customer.clinic-one/template.appointment_reminder[en]" in addresses
    assert all(c["cause"] == "config" for c in doc["changes"])


def test_apply_on_a_terminal_numbers_its_progress(one, env):
    out = run_on_terminal(one, env, "apply", "--auto-approve", "--no-color")
    assert "[1/8] ✓ create customer.clinic-one" in out
    assert "[8/8] ✓ submit" in out
