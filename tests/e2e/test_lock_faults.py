"""The apply lock under faults (docs/reliability.md).

The lock is a lease: its holder writes only while its Document certainly exists.
Renewals that Twilio answers with a 5xx without doing them, or that fail for long, must
stop the holder's writes before the Document expires, since from then on another apply
may take the lock and write the same customers.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.helpers import customer_doc, estate_writes, spawn, wait_for
from tests.e2e.test_faults import assert_no_duplicates
from tests.e2e.test_lock import lock_documents, sync_client

RENEWAL = r"/v1/Services/[^/]+/Documents/ET[0-9a-f]+$"  # the lock Document, by its SID


def test_an_apply_whose_renewals_fail_stops_writing_before_its_lock_expires(
    repo, emulator, env, cli
):
    for n in range(1, 11):
        repo.customer(f"clinic-{n}", customer_doc(n))
    emulator.set_faults(latency_ms=150, methods=["POST"])
    # every renewal is answered 500 without being carried out: the Document keeps the
    # expiry it was created with
    emulator.fail_next("POST", RENEWAL, status=500, count=100_000)
    process = spawn(
        repo.root,
        env,
        "apply",
        "--auto-approve",
        "--parallelism",
        "1",
        env_extra={"WA_SYNC_LOCK_TTL": "6"},
    )
    wait_for(lambda: lock_documents(emulator), "the lock")
    wait_for(
        lambda: not lock_documents(emulator) or process.poll() is not None, "the lock's expiry"
    )
    expired = time.monotonic()  # the emulator's clock: the request log's "started"
    out, err = process.communicate(timeout=120)
    late = [w for w in estate_writes(emulator.request_log()) if w["started"] > expired]
    assert late == [], f"{len(late)} writes after the lock expired:\n{err}"
    assert process.returncode == 1, out + err
    assert "Error: the apply lock was lost" in err
    emulator.faults.clear()  # the rates and the pending renewal faults
    assert cli("apply", "--auto-approve").code == 0
    assert_no_duplicates(emulator)


@pytest.mark.parametrize("mode", ["commit_then_drop", "commit_then_error", "error"])
def test_a_lost_answer_to_the_lock_services_create_is_resolved_by_listing(
    repo, emulator, cli, mode
):
    """The first apply on a parent creates the Sync Service `wa-sync`; a 5xx or a dropped
    answer to that create was an internal error."""
    repo.customer("clinic-1", customer_doc(1))
    emulator.fail_next("POST", r"^/v1/Services$", status=500, mode=mode)
    done = cli("apply", "--auto-approve")
    assert done.code == 0, done.err
    services = sync_client(emulator).sync.v1.services.list()
    assert [s.friendly_name for s in services] == ["wa-sync"]
    assert lock_documents(emulator) == []
    assert_no_duplicates(emulator)
