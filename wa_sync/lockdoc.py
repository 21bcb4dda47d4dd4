"""The estate lock's record (SPEC §4.8): the lock Document as Twilio holds it, who
took it, whose customers it covers, and the store it lives in (`LockStore`, on Twilio
gateway/lock.py's Sync Documents). wa_sync/lock.py is the policy over them.
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from wa_sync import __version__
from wa_sync.errors import WaSyncError
from wa_sync.report import ci_context
from wa_sync.visible import visible

LOCK_NAME = "wa-sync-apply-lock"
DEFAULT_TTL = 60  # seconds: how long a killed apply's lock outlives it
MIN_TTL = 5  # a renewal every third of it must fit a slow request or two
MAX_TTL = 31_536_000  # a year: the largest Ttl Twilio Sync takes (error 20001 past it)


@dataclass(frozen=True)
class LockDocument:
    """The lock as Twilio holds it: where, its revision, its holder's data, its dates."""

    service_sid: str
    name: str  # its unique name: the lock's scope, the same for every holder
    # its own SID (ET...): this Document, not a later one of the same name that another
    # apply created once it was gone; a write meant for it is addressed by it
    sid: str
    revision: str
    data: Mapping[str, Any]
    date_created: datetime | None
    date_updated: datetime | None
    date_expires: datetime | None

    @property
    def token(self) -> str:
        """The random token of the apply that took it (tells its own lock from another's)."""
        return str(self.data.get("token") or "")


class LockTaken(WaSyncError):
    """Another apply's lock Document exists (Twilio error 54301)."""

    def __init__(self, document: LockDocument | None):
        super().__init__("the apply lock is taken")
        self.document = document


class LockChanged(WaSyncError):
    """The lock Document is gone, or another apply's now (404, or 54103 on If-Match)."""


class LockStore(Protocol):
    """Where the apply lock lives (Gateway.lock_store); SyncLockStore on Twilio."""

    def services(self) -> list[str]: ...

    def create_service(self) -> str: ...

    def locks(self, service: str) -> list[LockDocument]: ...

    def create(
        self, service: str, name: str, data: Mapping[str, Any], ttl: int
    ) -> LockDocument: ...

    # `key` is a Document's unique name or its SID, as Twilio's Documents/{Sid} takes
    def fetch(self, service: str, key: str) -> LockDocument | None: ...

    def update(
        self, service: str, key: str, data: Mapping[str, Any], ttl: int, revision: str
    ) -> LockDocument: ...

    def delete(self, service: str, key: str) -> None: ...


@dataclass(frozen=True)
class Holder:
    """Who takes the lock: written into the lock Document for the next apply to show."""

    token: str  # random, tells this apply's lock from any other
    user: str
    host: str
    pid: int
    ci_run: str | None
    version: str
    ttl: int
    shard: tuple[int, int] | None = None  # `apply --shard K/N`: only that shard's customers

    def data(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def lock_name(self) -> str:
        """The lock Document's unique name: one per scope, so that one scope is taken
        once (Twilio refuses a second create); other scopes are checked by listing."""
        return (
            LOCK_NAME
            if self.shard is None
            else f"{LOCK_NAME}-shard-{self.shard[0]}-of-{self.shard[1]}"
        )


def overlaps(mine: tuple[int, int] | None, data: Mapping[str, Any]) -> bool:
    """Whether another apply's lock covers customers of mine: only shards K and K' (K !=
    K') of one N are disjoint; the whole estate, --customer or another N may share any."""
    theirs = data.get("shard")
    if mine is None or not isinstance(theirs, list) or len(theirs) != 2:
        return True
    return mine[1] != theirs[1] or mine[0] == theirs[0]


def this_process(
    environ: Mapping[str, str], *, ttl: int = DEFAULT_TTL, shard: tuple[int, int] | None = None
) -> Holder:
    ci = ci_context(environ) or {}
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name (a container's uid without passwd entry)
        user = f"uid {os.getuid()}"
    return Holder(
        token=secrets.token_hex(16),
        user=user,
        host=socket.gethostname(),
        pid=os.getpid(),
        ci_run=ci.get("run_url"),
        version=__version__,
        ttl=max(MIN_TTL, ttl),
        shard=shard,
    )


def describe(document: LockDocument) -> str:
    """`alice@ci-7 (pid 4242, CI run https://...), since 2026-12-07 07:50:01 UTC, renewed
    07:51:01 UTC, expires 07:52:01 UTC unless renewed`, from the holder's Document."""
    data = document.data
    who = f"{data.get('user') or '?'}@{data.get('host') or '?'}"
    details = [f"pid {data.get('pid') or '?'}"]
    shard = data.get("shard")
    if isinstance(shard, list) and len(shard) == 2:
        details.append(f"shard {shard[0]}/{shard[1]}")
    if data.get("ci_run"):
        details.append(f"CI run {data['ci_run']}")
    times = [f"since {_when(document.date_created)}"]
    if document.date_updated and document.date_updated != document.date_created:
        times.append(f"renewed {_when(document.date_updated)}")
    if document.date_expires:
        times.append(f"expires {_when(document.date_expires)} unless renewed")
    # the Document is Twilio's text, written by whoever holds the parent's credentials
    return visible(f"{who} ({', '.join(details)}), {', '.join(times)}")


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "an unknown time"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def break_lock(store: LockStore, document: LockDocument, holder: Holder) -> bool:
    """Remove `document` only if it is still at the revision seen: take it over at that
    revision for MIN_TTL (Twilio's delete takes no If-Match), then delete it, both by its
    SID (a Document of the same name made since is another apply's). False when it
    changed meanwhile: renewed by a running apply, gone, or taken by another."""
    try:
        store.update(document.service_sid, document.sid, holder.data(), MIN_TTL, document.revision)
    except LockChanged:
        return False
    store.delete(document.service_sid, document.sid)
    return True
