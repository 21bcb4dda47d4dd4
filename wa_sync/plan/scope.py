"""Which customers a run covers: `--customer` and `--shard K/N` (SPEC §3)."""

from __future__ import annotations

from collections.abc import Sequence

from wa_sync.errors import UsageError


def shard_of(customer_id: str, shards: int) -> int:
    """The 1-based shard of a customer id: a stable hash, the same on every machine and run."""
    import hashlib  # here: imported on the path to a plan's first request otherwise

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
    if only:
        unknown = [cid for cid in only if cid not in known]
        if unknown:
            raise UsageError(_unknown_message(unknown[0], known))
        chosen = sorted(set(only))
    if shard:
        index, count = shard
        chosen = [cid for cid in chosen if shard_of(cid, count) == index]
    return tuple(chosen)


def _unknown_message(customer_id: str, known: Sequence[str]) -> str:
    import difflib  # only for an unknown id

    close = difflib.get_close_matches(customer_id, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"--customer {customer_id!r}: no file customers/{customer_id}.yaml.{hint} "
        f"Known customers: {', '.join(sorted(known)) or 'none'}."
    )
