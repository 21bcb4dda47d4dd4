"""Applies that failed or were stopped half-way, completed by the next one with no
duplicate (SPEC §4.2, §4.8), in the places the other e2e tests do not reach."""

from __future__ import annotations

import time

from tests.e2e.helpers import customer_doc
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


def test_a_subaccount_named_for_a_customer_that_adopted_another_is_shown(repo, emulator, cli):
    """Renaming a customer's file makes apply create `wa-sync:<new id>` (its sender is
    held back: the number is the old subaccount's, which no file manages now); the fix,
    `account_sid` of the old one, left the new subaccount hidden from every plan, as is
    any `wa-sync:<id>` subaccount once customer <id> adopts another by `account_sid`."""
    repo.customer("clinic-1", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    (repo.root / "customers/clinic-1.yaml").rename(repo.root / "customers/clinic-one.yaml")
    renamed = cli("apply", "--auto-approve")
    assert renamed.code == 0, renamed.out
    accounts = {a["friendly_name"]: a["sid"] for a in emulator.state()["accounts"]}
    stray, old = accounts["wa-sync:clinic-one"], accounts["wa-sync:clinic-1"]
    held = f"is registered in subaccount {old} ('wa-sync:clinic-1'), which no customer file"
    assert held in renamed.out, renamed.out  # so it is not registered twice
    repo.edit("customers/clinic-one.yaml", lambda d: d.update(account_sid=old))
    for fmt in ("text", "markdown", "json"):
        shown = cli("plan", "--format", fmt)
        assert shown.code == 0, shown.err
        assert stray in shown.out, fmt
        assert "is not managed" in shown.out, fmt
    assert cli("plan", "--detailed-exitcode").code == 0  # a warning, not a change
