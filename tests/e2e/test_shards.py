"""Sharded plans (`--shard K/N`, SPEC §3) against the emulator: every customer, and every
subaccount wa-sync manages, is in exactly one shard's plan."""

from __future__ import annotations

from tests.e2e.helpers import customer_doc
from wa_sync.plan.scope import shard_of


def test_a_subaccount_without_a_customer_file_is_in_exactly_one_shards_plan(repo, cli):
    for n in (1, 2, 3):
        repo.customer(f"clinic-{n}", customer_doc(n))
    assert cli("apply", "--auto-approve").code == 0
    (repo.root / "customers" / "clinic-2.yaml").unlink()
    assert "wa-sync:clinic-2) has no customer file" in cli("plan").out

    shards = 3
    showing = [
        k
        for k in range(1, shards + 1)
        if "wa-sync:clinic-2) has no customer file" in cli("plan", "--shard", f"{k}/{shards}").out
    ]
    assert showing == [shard_of("clinic-2", shards)]
