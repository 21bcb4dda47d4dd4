"""A markdown plan too long for one comment with its detail still names every
undeclared object (SPEC §4.8, nothing hidden): through the CLI and the emulator."""

from __future__ import annotations

from tests.e2e.helpers import customer_doc
from tests.e2e.test_import_estates import Console
from tests.e2e.test_reconcile import account_of
from wa_sync.render.markdown import LIMIT

CONSOLE = 300  # Console contents: ~260 characters each with detail, ~60 without


def test_a_long_markdown_plan_names_every_undeclared_template(repo, cli, emulator):
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    console = Console(emulator, account_of(emulator, "clinic-one")["sid"])
    for n in range(CONSOLE):
        console.content(f"console_{n:03d}", body="Hello")

    result = cli("plan", "--format", "markdown")

    assert result.code == 0, result.err
    assert len(result.out) <= LIMIT
    assert "is not declared in the configuration" not in result.out  # detail folded away
    for n in range(CONSOLE):
        address = f"customer.clinic-one/template.console&#95;{n:03d}&#91;en&#93;"
        assert f"undeclared: {address}\n" in result.out
    assert f"{CONSOLE} undeclared kept" in result.out
