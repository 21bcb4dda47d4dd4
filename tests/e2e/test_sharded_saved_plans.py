"""Sharded applies (SPEC §4.8, docs/reliability.md): saved plans applied shard by shard
(`plan --shard K/N --out FILE`, then `apply FILE --shard K/N` in K's job, as the action
runs it with `plan-file` and `shard`) run at once, as sharded applies without a saved
plan do; `unlock` of several shards' locks removes each it may."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.e2e.helpers import Repo, customer_doc
from tests.e2e.test_lock import HOLDER, hold_lock, lock_documents, sync_client
from wa_sync.cli import main
from wa_sync.plan.scope import shard_of
from wa_sync.runtime import Runtime


@pytest.fixture
def estate_root(repo: Repo) -> Path:
    repo.customer("clinic-1", customer_doc(1))
    return repo.root


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


def test_unlock_removes_every_lock_it_may_and_names_the_one_it_keeps(estate_root, emulator, env):
    live = hold_lock(emulator, shard=[1, 2], user="alice")  # a shard's apply, still running
    hold_lock(emulator, shard=[2, 2], user="bob")  # a shard's apply that is gone

    class Renewing(io.StringIO):
        def readline(self, *args):  # alice's apply renews while the user reads the question
            sync_client(emulator).sync.v1.services(live.service_sid).documents(live.sid).update(
                data={**HOLDER, "shard": [1, 2]}, ttl=60, if_match=live.revision
            )
            return "yes\n"

    out, err = io.StringIO(), io.StringIO()
    runtime = Runtime(environ=env, stdin=Renewing(), stdout=out, stderr=err, stdin_isatty=True)
    assert main(["unlock", "--root", str(estate_root)], runtime) == 1
    assert [d.unique_name for d in lock_documents(emulator)] == [live.unique_name]
    assert "Removed the apply lock of bob@" in out.getvalue()
    assert "kept the apply lock of alice@" in err.getvalue()
    assert "shard 1/2" in err.getvalue()
