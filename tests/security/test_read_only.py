"""Security review: the commands a pull request runs (validate, plan) and the ones an
operator runs to look (status, output, access-request, import) never change Twilio:
they send GET requests only, whatever the configuration says."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import customer_doc


@pytest.fixture
def estate(repo, cli):
    repo.customer("clinic-1", customer_doc(1))
    repo.customer("clinic-2", customer_doc(2))
    assert cli("apply", "--auto-approve").code == 0
    # then a pull request changes and adds things
    repo.edit(
        "customers/clinic-1.yaml",
        lambda d: d["templates"][1].update(
            body="Hi {{1}}, a new offer is waiting for you at the clinic this month."
        ),
    )
    repo.customer("clinic-3", customer_doc(3))
    (repo.root / "customers/clinic-2.yaml").unlink()
    return repo


READ_ONLY = [
    ["validate"],
    ["plan"],
    ["plan", "--format", "markdown", "--detailed-exitcode"],
    ["plan", "--format", "json", "--prune"],
    ["status"],
    ["output", "--format", "json"],
    ["access-request", "clinic-1"],
]


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_read_only_commands_send_no_write(estate, cli, emulator, tmp_path, command):
    emulator.clear_request_log()
    before = emulator.state()
    result = cli(*command)
    assert result.code in (0, 1, 2), result.err
    assert "Traceback" not in result.err
    assert [r for r in emulator.request_log() if r["method"] != "GET"] == []
    assert emulator.state() == before


def test_import_sends_no_write(estate, cli, emulator):
    account = next(
        a for a in emulator.state()["accounts"] if a["friendly_name"] == "wa-sync:clinic-2"
    )
    emulator.clear_request_log()
    before = emulator.state()
    assert cli("import", "clinic-2", "--account-sid", account["sid"]).code == 0
    assert [r for r in emulator.request_log() if r["method"] != "GET"] == []
    assert emulator.state() == before
