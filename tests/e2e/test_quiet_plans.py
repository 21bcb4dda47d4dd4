"""A no-op plan says what it checked in a few lines (issue 20): what waits on WhatsApp's
review is counted, listed with -v; changes, blocked items, warnings and undeclared
objects are always listed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from bench.estate import write_estate
from tests.e2e.conftest import emulator_env, runner
from tests.e2e.helpers import Repo
from wa_sync.emulator import Emulator
from wa_sync.render.markdown import LIMIT

pytestmark = pytest.mark.slow

CUSTOMERS = 300


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One emulator for the module: its tests plan, or apply with nothing to do."""
    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    return Repo(tmp_path_factory.mktemp("quiet") / "repo")


@pytest.fixture(scope="module")
def applied(repo, emulator) -> Repo:
    """300 customers, each with one sender and four templates in WhatsApp review, applied
    once for the module (the apply took most of each test's time)."""
    write_estate(repo.root, customers=CUSTOMERS, templates=2)
    applied = runner(repo, emulator_env(emulator))("apply", "--auto-approve")
    assert applied.code == 0, applied.err
    return repo


@pytest.fixture
def large_estate(applied: Repo) -> Iterator[Repo]:
    """The applied estate; the customer files a test edits are written back after it."""
    files = applied.root / "customers"
    saved = {path: path.read_bytes() for path in files.glob("*.yaml")}
    yield applied
    for path in files.glob("*.yaml"):
        if path not in saved:
            path.unlink()
    for path, data in saved.items():
        if path.read_bytes() != data:
            path.write_bytes(data)


def test_a_300_customer_no_op_plan_is_a_few_lines_and_v_lists_every_item(large_estate, cli):
    quiet = cli("plan", "--detailed-exitcode")
    assert quiet.code == 0, quiet.err
    lines = quiet.out.splitlines()
    assert len(lines) < 40, quiet.out
    folded = "… 300 of 300 customer(s) wait only on Twilio or Meta: 1200 item(s) (1200 templates)"
    assert f"{folded}; -v lists them" in quiet.out
    assert lines[-1] == "No changes. Twilio matches the configuration."
    for command in (["plan"], ["apply", "--auto-approve"]):  # apply shows its plan too
        verbose = cli("-v", *command)
        in_review = [line for line in verbose.out.splitlines() if "is in WhatsApp review" in line]
        assert len(in_review) == 4 * CUSTOMERS, command
    applied = cli("apply", "--auto-approve")
    assert len(applied.out.splitlines()) < 40
    assert applied.out.rstrip().endswith("Nothing to apply.")


def test_the_markdown_no_op_plan_has_one_line_for_the_waiting_customers(large_estate, cli):
    markdown = cli("plan", "--format", "markdown").out
    assert len(markdown.splitlines()) < 40, markdown
    assert len(markdown) < LIMIT
    assert "300 of 300 customer\\(s\\) wait only on Twilio or Meta" in markdown
    assert "<details>" not in markdown
    assert "| customer |" not in markdown
    assert "**No changes\\. Twilio matches the configuration\\.**" in markdown


def test_the_json_plan_still_carries_every_waiting_item(large_estate, cli):
    plan = json.loads(cli("plan", "--format", "json").out)
    waiting = [n for n in plan["notes"] if n["kind"] == "waiting"]
    assert len(waiting) == 4 * CUSTOMERS


def test_changes_blocked_items_and_undeclared_objects_stay_listed_beside_the_count(
    large_estate, cli, emulator
):
    root = large_estate.root
    first = root / "customers" / "bench-00001.yaml"
    doc = yaml.safe_load(first.read_text())
    doc["senders"][0]["profile"]["about"] = "Open on Sundays too"
    doc["templates"] = doc["templates"][:1]  # the other template is then undeclared, kept
    first.write_text(yaml.safe_dump(doc))
    second = root / "customers" / "bench-00002.yaml"
    doc = yaml.safe_load(second.read_text())
    doc["onboarding"]["access_request"] = "submitted"
    doc["senders"].append({**doc["senders"][0], "phone_number": "+12029999999"})
    second.write_text(yaml.safe_dump(doc))

    out = cli("plan").out

    assert len(out.splitlines()) < 40, out
    assert "  ~ customer.bench-00001/sender.whatsapp:+12020000001" in out
    assert "  ? customer.bench-00001/template.bench_notice_1[en]" in out  # undeclared, kept
    assert "  … 2 waiting on Twilio or Meta (2 templates); -v lists them" in out
    assert "  ! customer.bench-00002/sender.whatsapp:+12029999999" in out
    assert "… 298 of 300 customer(s) wait only on Twilio or Meta: 1192 item(s)" in out
    assert out.splitlines()[-1].startswith("Plan: 0 to create, 1 to update")
