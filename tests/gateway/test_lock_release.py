"""The apply lock's own Documents are written by their SIDs (docs/reliability.md #21):
a release or a renewal that reaches Twilio after the lock expired, and after another
apply took a new lock Document of the same name, leaves that one alone.

Through the real SDK and transport against the emulator; the transport's backoff sleep
is where the other apply acts, between the failed attempt and its retry."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from tests.e2e.test_lock import hold_lock, lock_documents
from tests.gateway.scripted import Sleeps
from tests.gateway.test_twilio import make_gateway
from wa_sync.emulator import Emulator
from wa_sync.lock import EstateLock, LockBusy
from wa_sync.lockdoc import MIN_TTL, LockChanged, this_process

DOCUMENT = r"^/v1/Services/IS[0-9a-f]+/Documents/[^/]+$"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


class ExpiresWhileWaiting:
    """The transport's sleep before a retry: the first time, the lock outlives its Ttl
    (Twilio deletes it) and another apply takes the lock."""

    def __init__(self, emu: Emulator):
        self.emu, self.taken = emu, False

    def __call__(self, seconds: float) -> None:
        if not self.taken:
            self.emu.advance_clock(MIN_TTL + 1)
            hold_lock(self.emu, user="bob")
            self.taken = True


def test_a_release_retried_after_the_lock_expired_leaves_the_next_holders_lock(emu):
    gateway = make_gateway(emu, ExpiresWhileWaiting(emu))  # type: ignore[arg-type]
    holder = this_process({}, ttl=MIN_TTL)
    lock = EstateLock(
        gateway.lock_store(), holder, timeout=0, err=io.StringIO(), on_lost=lambda why: None
    )
    with lock:
        emu.fail_next("DELETE", DOCUMENT, status=503)  # the release's first attempt
    gateway.close()
    assert [d.data["user"] for d in lock_documents(emu)] == ["bob"]


def test_a_renewal_after_the_lock_expired_does_not_take_the_next_holders_lock(emu):
    """A renewal whose If-Match revision happens to equal the new Document's (both "0":
    the first renewal of a lock against a fresh one) must not renew the other's."""
    gateway = make_gateway(emu, Sleeps())
    store = gateway.lock_store()
    service = store.create_service()
    mine = store.create(service, "wa-sync-apply-lock", this_process({}).data(), MIN_TTL)
    emu.advance_clock(MIN_TTL + 1)
    theirs = hold_lock(emu, user="bob")
    assert (mine.revision, theirs.revision) == ("0", "0")
    with pytest.raises(LockChanged):
        store.update(service, mine.sid, this_process({}).data(), MIN_TTL, mine.revision)
    gateway.close()
    assert [d.data["user"] for d in lock_documents(emu)] == ["bob"]


def test_a_release_leaves_the_lock_another_apply_took_over_when_it_went_stale(emu):
    """A stale lock is taken over in place (its SID, at the revision seen): an apply that
    stalled past its Ttl (suspended, cut off) and then ends must not delete what is now
    the other apply's lock."""
    gateway = make_gateway(emu, Sleeps())
    store = gateway.lock_store()
    lock = EstateLock(  # a Ttl that no renewal comes within the test
        store, this_process({}, ttl=600), timeout=0, err=io.StringIO(), on_lost=lambda why: None
    )
    with lock:
        (mine,) = lock.held
        other = this_process({}, ttl=MIN_TTL).data() | {"user": "bob"}
        store.update(mine.service_sid, mine.sid, other, MIN_TTL, mine.revision)  # as _take does
    gateway.close()
    assert [d.data["user"] for d in lock_documents(emu)] == ["bob"]


def test_a_fresh_lock_at_the_revision_of_an_expired_one_is_not_taken_over_as_stale(emu):
    """Staleness is counted per Document: alice's lock (revision 0) expires and Twilio
    deletes it, bob takes the lock at once (a new Document, revision 0 again); the apply
    that saw alice's for long must not count bob's as unrenewed since then."""
    gateway = make_gateway(emu, Sleeps())
    now = [0.0]
    waiting = EstateLock(
        gateway.lock_store(),
        this_process({}, ttl=60),
        timeout=0,
        err=io.StringIO(),
        on_lost=lambda why: None,
        clock=lambda: now[0],
    )
    hold_lock(emu, ttl=MIN_TTL, data_ttl=MIN_TTL, user="alice")
    with pytest.raises(LockBusy, match="alice"):
        waiting.acquire()
    emu.advance_clock(MIN_TTL + 1)  # alice's lock expired: Twilio deleted it
    hold_lock(emu, ttl=60, data_ttl=60, user="bob")
    now[0] = 100.0  # on the waiting apply's clock, long after it first saw alice's
    with pytest.raises(LockBusy, match="bob"):
        waiting.acquire()
    gateway.close()
    assert [d.data["user"] for d in lock_documents(emu)] == ["bob"]
