"""The apply lock's store on Twilio: a Sync Document with a unique name and a Ttl.

One Document named `wa-sync-apply-lock` (for a sharded apply,
`wa-sync-apply-lock-shard-K-of-N`) in the parent account's Sync Service whose
FriendlyName is `wa-sync` (created by the first apply that finds none, then found by
listing). Creating the Document takes the lock: a second create with the same unique
name is refused by Twilio (409, error 54301). Its `Ttl` makes a lock left by a killed
apply expire; the holder renews it with an update conditional on its revision
(`If-Match`; 412, error 54103, when the Document changed under it). See
docs/reliability.md for the protocol, wa_sync/lock.py for the policy and
wa_sync/lockdoc.py for the record and the LockStore protocol.

Should two first applies race and create two such Services, wa_sync/lock.py takes the
lock in each of them (in SID order) and checks that no other appeared meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from wa_sync.errors import TwilioError
from wa_sync.gateway.base import NotFound
from wa_sync.lockdoc import LOCK_NAME, LockChanged, LockDocument, LockTaken

SERVICE_NAME = "wa-sync"
UNIQUE_NAME_EXISTS = 54301  # https://www.twilio.com/docs/api/errors/54301
REVISION_MISMATCH = 54103  # https://www.twilio.com/docs/api/errors/54103

T = TypeVar("T")
Errors = Callable[[str], AbstractContextManager[None]]
CreateOnce = Callable[[Callable[[], T], Callable[[], T | None], str], T]


class SyncLockStore:
    """The parent account's lock Documents, over the SDK's Sync client."""

    def __init__(self, client: Any, errors: Errors, create_once: CreateOnce[Any]):
        self._sync = client.sync.v1
        self._errors = errors
        self._create_once = create_once

    def services(self) -> list[str]:
        """The SIDs of the parent's Sync Services named `wa-sync`, sorted."""
        with self._errors("listing the parent's Sync Services"):
            return sorted(
                s.sid
                for s in self._sync.services.stream(page_size=100)
                if s.friendly_name == SERVICE_NAME
            )

    def create_service(self) -> str:
        """A create whose answer was lost is found by listing (any Service named
        `wa-sync` does: wa_sync/lock.py lists again once it holds the lock)."""

        def find() -> str | None:
            found = self.services()
            return found[0] if found else None

        return self._create_once(
            lambda: str(self._sync.services.create(friendly_name=SERVICE_NAME).sid),
            find,
            f"creating the Sync Service {SERVICE_NAME!r} for the apply lock",
        )

    def locks(self, service: str) -> list[LockDocument]:
        """Every apply lock Document in `service`, whatever its scope."""
        with self._errors(f"listing the apply locks in Sync Service {service}"):
            return [
                _document(service, d)
                for d in self._sync.services(service).documents.stream(page_size=100)
                if str(d.unique_name or "").startswith(LOCK_NAME)
            ]

    def create(self, service: str, name: str, data: Mapping[str, Any], ttl: int) -> LockDocument:
        """Take the lock `name` in `service`, or raise LockTaken with the holder's."""
        token = str(data["token"])

        def send() -> LockDocument:
            try:
                with self._errors(f"taking the apply lock in Sync Service {service}"):
                    made = self._documents(service).create(
                        unique_name=name, data=dict(data), ttl=ttl
                    )
            except TwilioError as exc:
                if exc.code == UNIQUE_NAME_EXISTS or exc.status == 409:
                    raise LockTaken(self.fetch(service, name)) from exc
                raise
            return _document(service, made)

        def find() -> LockDocument | None:  # the create's answer was lost: did it take?
            found = self.fetch(service, name)
            if found is not None and found.token != token:
                raise LockTaken(found)
            return found

        return self._create_once(send, find, "taking the apply lock")

    def fetch(self, service: str, key: str) -> LockDocument | None:
        try:
            with self._errors(f"reading the apply lock in Sync Service {service}"):
                return _document(service, self._documents(service)(key).fetch())
        except NotFound:
            return None

    def update(
        self, service: str, key: str, data: Mapping[str, Any], ttl: int, revision: str
    ) -> LockDocument:
        """Renew (or take over) the lock Document `key` (by its SID: that Document, not a
        later one of its name) if it is still at `revision`; LockChanged if not.
        A renewal whose answer was lost counts when the Document carries our token at a
        new revision: at `revision` still, it was not carried out (a 5xx before the work)
        and is sent again, as its Ttl was not extended."""
        token = str(data["token"])

        def send() -> LockDocument:
            with self._changed(f"renewing the apply lock in Sync Service {service}"):
                updated = self._documents(service)(key).update(
                    data=dict(data), ttl=ttl, if_match=revision
                )
            return _document(service, updated)

        def find() -> LockDocument | None:
            found = self.fetch(service, key)
            if found is None or found.token != token:
                raise LockChanged("the apply lock was released or taken over meanwhile")
            return found if found.revision != revision else None

        return self._create_once(send, find, "renewing the apply lock")

    def delete(self, service: str, key: str) -> None:
        """Remove the lock Document `key` (unlock, release; by its SID, so that a delete
        retried after it expired cannot remove another apply's); one gone is fine."""
        try:
            with self._errors(f"removing the apply lock in Sync Service {service}"):
                self._documents(service)(key).delete()
        except NotFound:
            pass

    def _documents(self, service: str) -> Any:
        return self._sync.services(service).documents

    @contextmanager
    def _changed(self, what: str) -> Iterator[None]:
        """`_errors`, with a 404 or a revision mismatch raised as LockChanged."""
        try:
            with self._errors(what):
                yield
        except TwilioError as exc:
            if isinstance(exc, NotFound) or exc.code == REVISION_MISMATCH or exc.status == 412:
                raise LockChanged(f"the apply lock changed under this apply: {exc}") from exc
            raise


def _document(service: str, instance: Any) -> LockDocument:
    data = instance.data if isinstance(instance.data, Mapping) else {}
    return LockDocument(
        service_sid=service,
        name=str(instance.unique_name or ""),
        sid=str(instance.sid),
        revision=str(instance.revision),
        data=dict(data),
        date_created=instance.date_created,
        date_updated=instance.date_updated,
        date_expires=instance.date_expires,
    )
