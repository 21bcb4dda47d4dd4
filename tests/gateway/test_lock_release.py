"""The apply lock's own Documents are written by their SIDs (docs/reliability.md #21):
a release or a renewal that reaches Twilio after the lock expired, and after another
apply took a new lock Document of the same name, leaves that one alone.

Through the real SDK and transport against the emulator; the transport's backoff sleep
is where the other apply acts, between the failed attempt and its retry."""

from __future__ import annotations

import dis
import faulthandler
import io
import os
import signal
import sys
import threading
from collections.abc import Iterator

import pytest

from tests.e2e.helpers import wait_for
from tests.e2e.test_lock import hold_lock, lock_documents
from tests.gateway.scripted import Sleeps
from tests.gateway.test_twilio import make_gateway
from wa_sync.credentials import ParentCredentials, Secret
from wa_sync.emulator import Emulator
from wa_sync.gateway.http import Transport
from wa_sync.gateway.twilio import TwilioGateway
from wa_sync.interrupts import Interrupted, Signals, Stop, handled
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


class SignalAt:
    """A trace that sends this process SIGINT right after a call returns (the `nth` such
    point in wa-sync's or `threading`'s code), in the main thread: where CPython runs a
    signal's handler. With `nth` 0 it only counts."""

    CALLS = frozenset(dis.opmap[name] for name in ("CALL", "CALL_FUNCTION_EX"))

    def __init__(self, nth: int = 0):
        self.nth, self.seen = nth, 0
        self.after_call: dict[int, bool] = {}  # frame -> its last instruction was a call

    def __call__(self, frame, event, arg):
        name = frame.f_code.co_filename
        if name != threading.__file__ and "/wa_sync/" not in name:
            return None
        frame.f_trace_opcodes = True
        return self.opcodes

    def opcodes(self, frame, event, arg):
        if event != "opcode":
            return self.opcodes
        returned = self.after_call.get(id(frame), False)
        self.after_call[id(frame)] = frame.f_code.co_code[frame.f_lasti] in self.CALLS
        if returned:
            self.seen += 1
            if self.seen == self.nth:
                os.kill(os.getpid(), signal.SIGINT)
        return self.opcodes


def take_traced(lock: EstateLock, policy: Signals, trace: SignalAt) -> str:
    """Take and give back `lock` in the main thread (where signals land) under `trace`,
    with apply's signal handling. A hang ends the test run with every thread's stack
    (faulthandler)."""
    faulthandler.dump_traceback_later(60, exit=True)
    try:
        with handled(policy):
            sys.settrace(trace)
            with lock:
                sys.settrace(None)
                return "held"
    except Interrupted:  # at a checkpoint
        return "interrupted"
    except KeyboardInterrupt as exc:  # Python's handler's: it would end the test run
        raise AssertionError("the signal raised where it landed") from exc
    finally:
        sys.settrace(None)
        faulthandler.cancel_dump_traceback_later()


def test_a_signal_anywhere_while_taking_the_lock_still_releases_it(emu):
    """The hang the model test's soak saw (#31): an apply stopped by one SIGINT at its
    first request, then silent for ever. Python's own handler raised where it landed,
    and left a request slot of the lock's transport taken; the release that follows
    waited for that slot. A signal now only is recorded (apply's policy, as each
    command's), and stops the taking at its next checkpoint (the lock's wait, a
    request's start or its wait): the lock's taking is signalled after each of its
    calls in turn, and each release ends, and leaves no lock."""
    policy = Signals(Stop(), on_stop=lambda name: None)
    gateway = make_gateway(emu, Sleeps(), checkpoint=lambda: policy.checkpoint())
    holder = this_process({}, ttl=MIN_TTL)

    def lock() -> EstateLock:
        return EstateLock(
            gateway.lock_store(),
            holder,
            taking=gateway.lock_store(stoppable=True),
            timeout=0,
            err=io.StringIO(),
            on_lost=lambda why: None,
            checkpoint=lambda: policy.checkpoint(),
        )

    counted = SignalAt()
    assert take_traced(lock(), policy, counted) == "held"
    assert counted.seen > 50, "the trace saw too little of the lock's taking"
    outcomes = set()
    for nth in range(1, counted.seen + 1):
        policy = Signals(Stop(), on_stop=lambda name: None)
        outcomes.add(take_traced(lock(), policy, SignalAt(nth)))
        assert lock_documents(emu) == [], f"signalled after call {nth}: the lock was left"
    assert outcomes == {"interrupted", "held"}  # stopped while taking it, or once taken
    gateway.close()


def test_a_renewal_waiting_out_a_retry_after_as_the_apply_ends_warns_of_nothing(emu):
    """The lock released and the gateway closed, a renewal that Twilio had asked to wait
    (429, `Retry-After`) ended on the closed transport (`http.Closed`), and the heartbeat
    printed "warning: could not renew the apply lock, trying again: ... its command is
    over" after the apply's summary: nothing was to be tried again, and nothing was wrong."""
    credentials = ParentCredentials(
        account_sid=emu.parent_sid, username=emu.parent_sid, secret=Secret(emu.parent_token)
    )
    transport = Transport(base_url=emu.url, timeout=10)  # its waits look for a close
    gateway = TwilioGateway(credentials, http_client=transport, emulated=True)
    err = io.StringIO()
    lock = EstateLock(
        gateway.lock_store(), this_process({}, ttl=MIN_TTL), timeout=0, err=err,
        on_lost=lambda why: None,
    )  # fmt: skip
    with lock:
        emu.set_faults(rate_limit_rate=1.0, retry_after=60, methods=["POST"])  # renewals
        wait_for(lambda: any(r["status"] == 429 for r in emu.request_log()), "a renewal refused")
    gateway.close()
    assert lock._beat is not None
    lock._beat.join(timeout=30)  # the renewal ends within half a second of the close
    assert not lock._beat.is_alive()
    assert err.getvalue() == ""
    assert lock_documents(emu) == []
