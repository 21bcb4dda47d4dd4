"""`settings.parallelism` bounds a plan's requests in flight, though a plan sends its
first request before it has read wa-sync.yaml (commands/common.py: the settings are
read while the account listing is on its way, before any subaccount read may go)."""

from __future__ import annotations

import pytest
import yaml

from bench.estate import write_estate
from wa_sync.emulator import most_in_flight


@pytest.mark.parametrize("parallelism", [3, 8])
def test_a_plan_never_has_more_reads_in_flight_than_the_settings_allow(
    repo, cli, emulator, parallelism
):
    write_estate(repo.root, customers=12, templates=1)
    assert cli("apply", "--auto-approve").code == 0
    settings = yaml.safe_load((repo.root / "wa-sync.yaml").read_text())
    settings["settings"]["parallelism"] = parallelism
    (repo.root / "wa-sync.yaml").write_text(yaml.safe_dump(settings))
    emulator.set_faults(latency_ms=60)
    emulator.clear_request_log()

    result = cli("plan", "--detailed-exitcode")

    assert result.code == 0, result.err
    log = emulator.request_log()
    assert len(log) == 1 + 2 * 12  # the listing of accounts, then two per customer
    peak = most_in_flight(log)
    assert peak <= parallelism
    assert peak >= min(parallelism, 6)  # the bound is what holds it, not a slow client
