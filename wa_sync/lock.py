"""One apply at a time (SPEC §4.8): the estate lock's policy over a LockStore.

`apply` takes the lock before it reads Twilio, so that what it plans cannot be changed
by another apply under it; while it holds the lock a heartbeat renews its Ttl every
third of it; at the end it releases it. Another apply meanwhile waits up to its
`--lock-timeout` (0: it refuses at once), then refuses before its first write, naming
the holder (user, host, pid, CI run) and since when. A lock whose holder was killed
expires with its Ttl (Twilio deletes the Document; a waiter that sees one unrenewed
for longer than its Ttl, on its own clock, takes it over), or `wa-sync unlock` breaks
it. The lock's record and store are lockdoc.py; the protocol is in docs/reliability.md.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from wa_sync.errors import UsageError, WaSyncError
from wa_sync.lockdoc import (
    DEFAULT_TTL,
    Holder,
    LockChanged,
    LockDocument,
    LockStore,
    LockTaken,
    break_lock,
    describe,
    overlaps,
)

POLL_SECONDS = 1.0
# The holder starts no new write once this share of the Ttl has passed since the last
# renewal it knows Twilio made was sent: the rest is for the writes in flight, before
# the Document may expire and another apply take the lock.
LEASE_SHARE = 2 / 3
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smh]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


class LockBusy(WaSyncError):
    """Another apply holds the estate, past this one's lock timeout."""


def parse_duration(value: str | float, *, what: str) -> float:
    """Seconds from `90`, `90s`, `5m` or `1h`."""
    match = _DURATION.match(str(value))
    if match is None:
        raise UsageError(f"{what}: {value!r} is not a duration such as 0, 30s, 5m or 1h")
    return float(match[1]) * _UNITS[match[2]]


def _seconds(value: float) -> str:
    whole_minutes = value >= 60 and value % 60 == 0
    return f"{value / 60:g} min" if whole_minutes else f"{value:g} s"


class EstateLock:
    """The lock for one apply: `with EstateLock(...)` takes it (or raises LockBusy),
    renews it in a background thread, and releases it. `on_lost` is called (from that
    thread) if it is lost meanwhile, with the reason."""

    def __init__(
        self,
        store: LockStore,
        holder: Holder,
        *,
        timeout: float,
        err: TextIO,
        on_lost: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        checkpoint: Callable[[], None] = lambda: None,
        taking: LockStore | None = None,
    ):
        self.store, self.holder, self.timeout, self.err = store, holder, timeout, err
        self.on_lost, self.clock = on_lost, clock
        self.checkpoint = checkpoint  # raises to stop taking it (a signal, interrupts.py)
        # what it is taken through, `store` by default: apply's stops its requests for a
        # signal (Gateway.lock_store), while the renewals and the release go on
        self.taking = store if taking is None else taking
        self.held: list[LockDocument] = []
        self._first_seen: dict[tuple[str, str, str], float] = {}
        self._stopping = threading.Event()
        self._beat: threading.Thread | None = None
        self._watchdog: threading.Timer | None = None
        self._watch_lock = threading.Lock()
        self._since = 0.0  # when the create or renewal that holds the lock now was sent
        self._abandoned = False
        self._sent_create = False  # no create sent: nothing of ours to clean up

    def __enter__(self) -> EstateLock:
        try:
            self.acquire()
            self._beat = threading.Thread(target=self._renew, name="apply-lock", daemon=True)
            self._beat.start()
        except BaseException as exc:  # a signal while a create was on its way, or once
            self.__exit__(type(exc), exc, exc.__traceback__)  # it was taken: give it back
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._watch(None)
        if self._abandoned:
            return
        if self._beat is not None and self._beat.is_alive():  # a signal may stop its start
            self._beat.join(timeout=1.0)  # a renewal in flight: released below anyway
        self.release()

    def abandon(self) -> None:
        """Leave the lock to expire: after a stop at once, no request may hold the
        process (the network may be why the user insisted)."""
        self._abandoned = True
        self._stopping.set()
        self._watch(None)

    # --- taking it ---------------------------------------------------------------------

    def acquire(self) -> None:
        deadline = self.clock() + self.timeout
        waiting = False
        while True:
            self.checkpoint()
            holder = self._attempt()
            if holder is None:
                return
            if self.clock() >= deadline:
                raise LockBusy(self._refusal(holder, waited=waiting))
            if not waiting:
                self.err.write(
                    f"Waiting up to {_seconds(self.timeout)} for the apply lock, held by "
                    f"{describe(holder)}.\n"
                )
                self.err.flush()
                waiting = True
            # jittered: two applies that saw each other's lock do not meet again in step
            pause = POLL_SECONDS * random.uniform(0.5, 1.5)
            self._stopping.wait(min(pause, max(0.0, deadline - self.clock())))

    def _attempt(self) -> LockDocument | None:
        """Take the lock in every `wa-sync` Service; None once held, else the holder's
        Document. An apply that had to create the Service lists again once it holds the
        lock: another one created meanwhile (two first applies) means a new try. One
        that found the Services by listing need not: any other apply's listing, earlier
        or later, holds at least one of them (wa-sync never deletes a Service)."""
        while True:
            self._since = self.clock()  # before this attempt's creates are sent
            services = self.taking.services()
            created = not services
            if created:
                services = [self.taking.create_service()]
            held: list[LockDocument] = []
            for service in services:
                try:
                    held.append(self._take(service))
                except LockTaken as taken:
                    self._drop(held)
                    if taken.document is None:  # gone since: try again at once
                        break
                    return taken.document
            else:
                if created and self.taking.services() != services:
                    self._drop(held)
                    continue
                other = self._overlapping(services)
                if other is None:
                    self.held = held
                    return None
                self._drop(held)
                if not self._clear_if_stale(other):
                    return other

    def _overlapping(self, services: list[str]) -> LockDocument | None:
        """Another scope's lock that covers customers of this apply's, if any. Each apply
        takes its own lock before it looks: of two that overlap, at least one sees the
        other's and gives way (both may, then both try again)."""
        mine = self.holder.lock_name
        for service in services:
            for document in self.taking.locks(service):
                if document.name != mine and overlaps(self.holder.shard, document.data):
                    return document
        return None

    def _clear_if_stale(self, document: LockDocument) -> bool:
        """Remove another scope's lock left unrenewed past its Ttl; True if removed."""
        # through `store`: a removal under way goes on (a signal between its two requests
        # would leave that lock ours, unreleased, for MIN_TTL)
        if not self._stale(document) or not break_lock(self.store, document, self.holder):
            return False
        self._warn_stale(document)
        return True

    def _warn_stale(self, document: LockDocument) -> None:
        self.err.write(
            f"warning: took over the apply lock of {describe(document)}: it was not renewed "
            f"for longer than its time to live, so that apply is gone.\n"
        )

    def _take(self, service: str) -> LockDocument:
        data, name = self.holder.data(), self.holder.lock_name
        self._sent_create = True
        try:
            return self.taking.create(service, name, data, self.holder.ttl)
        except LockTaken as taken:
            found = taken.document
            if found is None or not self._stale(found):
                raise
            try:
                document = self.taking.update(
                    service, found.sid, data, self.holder.ttl, found.revision
                )
            except LockChanged as exc:
                raise LockTaken(self.taking.fetch(service, name)) from exc
            self._warn_stale(found)
            return document

    def _stale(self, document: LockDocument) -> bool:
        """Seen at the same revision for longer than its Ttl on this process's clock:
        its holder stopped renewing it (Twilio deletes an expired Document, but not at
        once). No wall clock is compared, so skewed clocks cannot break a live lock.
        Counted per Document (its SID): a new one of the same name, made once the last
        expired, starts at the same revision but has been renewed for none of that time."""
        key = (document.service_sid, document.sid, document.revision)
        first = self._first_seen.setdefault(key, self.clock())
        ttl = document.data.get("ttl")
        ttl = ttl if isinstance(ttl, int) and ttl > 0 else DEFAULT_TTL
        return self.clock() - first > ttl + POLL_SECONDS

    def _refusal(self, holder: LockDocument, *, waited: bool) -> str:
        after = f" after waiting {_seconds(self.timeout)}" if waited else ""
        return (
            f"another apply holds the lock on this estate{after}: {describe(holder)}.\n"
            f"  Nothing was changed. Run apply again once it has finished, or wait for it "
            f"with --lock-timeout (e.g. --lock-timeout 10m, or settings.lock_timeout). If "
            f"that apply is no longer running, its lock expires by itself "
            f"{_seconds(float(holder.data.get('ttl') or DEFAULT_TTL))} after its last "
            f"renewal, or remove it now with `wa-sync unlock`."
        )

    # --- keeping and releasing it ---------------------------------------------------------

    def _renew(self) -> None:
        """Every third of the Ttl, counted from the start of the last renewal (its
        request's time is not added to the period). A renewal that fails is tried again
        at the next period; the watchdog stops new writes once none succeeded for
        LEASE_SHARE of the Ttl, however long the failing requests take."""
        interval = self.holder.ttl / 3
        due = self.clock()
        held = self.held  # the list release() reads too; only its items are replaced
        self._watch(self._since)
        while True:
            due += interval
            if self._stopping.wait(max(0.0, due - self.clock())):
                return
            due = sent = self.clock()
            try:
                for index, document in enumerate(held):
                    held[index] = self.store.update(
                        document.service_sid,
                        document.sid,
                        self.holder.data(),
                        self.holder.ttl,
                        document.revision,
                    )
            except LockChanged as exc:
                if self._stopping.is_set():  # released meanwhile by the apply that ended
                    return
                self.on_lost(f"{exc} (removed with `wa-sync unlock`, or expired)")
                return
            except WaSyncError as exc:
                if self._stopping.is_set():  # released or abandoned meanwhile: its
                    return  # transport may be closed (http.Closed), and nothing is wrong
                self.err.write(f"warning: could not renew the apply lock, trying again: {exc}\n")
                continue
            self._watch(sent)

    def _watch(self, since: float | None) -> None:
        """(Re)arm the watchdog for a lock held since `since`; None disarms it."""
        with self._watch_lock:
            if self._watchdog is not None:
                self._watchdog.cancel()
                self._watchdog = None
            if since is None or self._stopping.is_set():
                return
            left = since + self.holder.ttl * LEASE_SHARE - self.clock()
            self._watchdog = threading.Timer(max(0.0, left), self._expiring)
            self._watchdog.daemon = True
            self._watchdog.start()

    def _expiring(self) -> None:
        if not self._stopping.is_set():
            self.on_lost(
                f"it could not be renewed for {self.holder.ttl * LEASE_SHARE:g} s of its "
                f"{self.holder.ttl} s time to live, and may expire before the writes in "
                "flight finish"
            )

    def release(self) -> None:
        """Delete the lock Documents of this apply, by their SIDs: those it holds or, when
        it holds none (interrupted while taking it), any that a create whose answer never
        came may have made; each only while it carries this apply's token. By SID, a
        delete retried after a Document expired cannot remove the one another apply has
        taken since under its name; by token, nor the one another apply took over in
        place (the same SID) when this one stopped renewing it."""
        held, self.held = self.held, []
        if not held and not self._sent_create:  # wrong credentials, say: none taken
            return
        try:
            for document in self._still_ours(held):
                self.store.delete(document.service_sid, document.sid)
        except WaSyncError as exc:
            self.err.write(
                f"warning: could not release the apply lock ({exc}); it expires "
                f"{self.holder.ttl} s after its last renewal, or run `wa-sync unlock`.\n"
            )

    def _still_ours(self, held: list[LockDocument]) -> list[LockDocument]:
        """`held` as Twilio holds it now (by SID), or without any held, the Documents of
        this lock's name (a create whose answer never came): those with this token."""
        found = (
            [self.store.fetch(d.service_sid, d.sid) for d in held]
            if held
            else [self.store.fetch(s, self.holder.lock_name) for s in self.store.services()]
        )
        return [d for d in found if d is not None and d.token == self.holder.token]

    def _drop(self, held: list[LockDocument]) -> None:
        """Give back what an attempt took before it found the lock taken elsewhere."""
        for document in held:
            self.taking.delete(document.service_sid, document.sid)
