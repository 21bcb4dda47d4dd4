"""Applies that failed or were stopped half-way, completed by the next one with no
duplicate (SPEC §4.2, §4.8), in the places the other e2e tests do not reach."""

from __future__ import annotations

import time

from tests.e2e.test_faults import assert_no_duplicates
from tests.e2e.test_lifecycle import FILE, RECALL, assert_settled, by_name, live_v1

__all__ = ["live_v1"]  # the fixture


def start_of_a_second() -> None:
    """Wait for the next second of the clock wa-sync names its records with."""
    time.sleep(1 - time.time() % 1 + 0.01)


def test_a_prune_stopped_between_the_record_and_the_delete_is_completed_without_a_duplicate_record(
    live_v1, repo, cli, emulator
):
    """Deleting an approved template first leaves a record of its name's block
    (plan/retired.py). When the delete then fails, the next apply deletes it: it left a
    second record of the same name (a duplicate content) or, on the emulator, which
    refuses a repeated (name, language), failed on it."""
    recall = by_name(emulator)["recall_offer"]
    repo.edit(FILE, lambda d: d["templates"].pop(RECALL))
    start_of_a_second()  # both applies in the second the record's name holds
    emulator.fail_next("DELETE", f"/v1/Content/{recall['sid']}$", status=400)
    failed = cli("apply", "--auto-approve", "--prune")
    assert failed.code == 1
    done = cli("apply", "--auto-approve", "--prune")
    assert done.code == 0, done.out + done.err
    assert "recall_offer" not in by_name(emulator)
    assert any(name.startswith("wa-sync:deleted:recall_offer:") for name in by_name(emulator))
    assert_no_duplicates(emulator)  # one record of each name
    assert_settled(cli)
