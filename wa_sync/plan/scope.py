"""Which customers a run covers: `--customer`, `--shard K/N` and `--changed-since REF`
(SPEC §3)."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from wa_sync.errors import UsageError
from wa_sync.model import Config

SETTINGS_FILE = "wa-sync.yaml"
CUSTOMERS_DIR = "customers"
TEMPLATES_DIR = "templates"


def shard_of(customer_id: str, shards: int) -> int:
    """The 1-based shard of a customer id: a stable hash, the same on every machine and run."""
    digest = hashlib.sha256(customer_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards + 1


def select_customers(
    known: Sequence[str],
    *,
    only: Sequence[str] | None = None,
    shard: tuple[int, int] | None = None,
) -> tuple[str, ...]:
    """The sorted ids in scope. An unknown `--customer` id is a usage error with a hint."""
    chosen = sorted(known)
    if only is not None:  # an empty list is an empty scope (a saved plan of nothing)
        unknown = [cid for cid in only if cid not in known]
        if unknown:
            raise UsageError(_unknown_message(unknown[0], known))
        chosen = sorted(set(only))
    if shard:
        index, count = shard
        chosen = [cid for cid in chosen if shard_of(cid, count) == index]
    return tuple(chosen)


def _unknown_message(customer_id: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(customer_id, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"--customer {customer_id!r}: no file customers/{customer_id}.yaml.{hint} "
        f"Known customers: {', '.join(sorted(known)) or 'none'}."
    )


@dataclass(frozen=True)
class ChangedFiles:
    """What `--changed-since REF` reads from git's list of the files that differ from
    REF (paths relative to the repository root, deleted and untracked files included):
    `wa-sync.yaml` touches every customer, `customers/<id>.yaml` that customer, and
    `templates/<name>.yaml` every customer that uses the library template."""

    everything: bool
    customers: frozenset[str]
    libraries: frozenset[str]

    @classmethod
    def of(cls, paths: Iterable[str]) -> ChangedFiles:
        customers: set[str] = set()
        libraries: set[str] = set()
        everything = False
        for path in map(PurePosixPath, paths):
            if str(path) == SETTINGS_FILE:
                everything = True
            elif path.suffix == ".yaml" and len(path.parts) == 2:
                directory = path.parts[0]
                if directory == CUSTOMERS_DIR:
                    customers.add(path.stem)
                elif directory == TEMPLATES_DIR:
                    libraries.add(path.stem)
        return cls(everything, frozenset(customers), frozenset(libraries))

    def customers_in(self, files: Collection[str], only: Sequence[str] | None) -> list[str]:
        """The changed customers that still have a file (and `--customer` names)."""
        return sorted(c for c in self.customers if c in files and (only is None or c in only))

    def select(self, config: Config, scope: Sequence[str]) -> tuple[str, ...]:
        """The ids of `scope` this change touches; `config` holds (at least) every
        customer that may use a changed library template."""
        if self.everything:
            return tuple(scope)
        touched = set(self.customers)
        for customer in config.customers:
            if any(t.library in self.libraries for t in customer.templates if t.library):
                touched.add(customer.id)
        return tuple(cid for cid in scope if cid in touched)

    def gone(self, known: Collection[str]) -> tuple[str, ...]:
        """The changed customers whose file no longer exists."""
        return tuple(sorted(self.customers - set(known)))
