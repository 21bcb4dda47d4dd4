"""Sharded applies of saved plans (`plan --shard K/N --out FILE`, then `apply FILE
--shard K/N` in K's job, as the action runs it with `plan-file` and `shard`): the shards
run at once, as sharded applies without a saved plan do (SPEC §4.8, docs/reliability.md)."""

from __future__ import annotations

from tests.e2e.helpers import customer_doc
from tests.e2e.test_lock import hold_lock, lock_documents
from wa_sync.plan.scope import shard_of


def test_a_saved_shard_plan_is_applied_under_its_shards_lock(repo, emulator, cli, tmp_path):
    for n in range(1, 7):
        repo.customer(f"clinic-{n}", customer_doc(n))
    assert {shard_of(f"clinic-{n}", 2) for n in range(1, 7)} == {1, 2}
    saved = tmp_path / "plan-2.json"
    assert cli("plan", "--shard", "2/2", "--out", str(saved)).code == 0
    hold_lock(emulator, shard=[1, 2])  # shard 1's job, applying at the same time
    done = cli("apply", str(saved), "--shard", "2/2", "--auto-approve")
    assert done.code == 0, done.err
    assert len(lock_documents(emulator)) == 1  # shard 1's, left alone
