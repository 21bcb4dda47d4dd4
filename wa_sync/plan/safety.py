"""The prune safety threshold (SPEC §4.5): a plan that would delete too large a share
of a customer's managed objects is refused unless the operator says so."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wa_sync.errors import MassDelete
from wa_sync.model import LiveCustomer
from wa_sync.plan.change import Action, Change

MIN_MANAGED_OBJECTS = 10


def mass_deletions(
    changes: Iterable[Change],
    live: Mapping[str, LiveCustomer],
    *,
    max_delete_fraction: float,
) -> list[str]:
    """One line per customer whose deletions exceed the threshold."""
    deletions: dict[str, int] = {}
    for change in changes:
        if change.action is Action.DELETE and "/retired." not in change.address:
            # (wa-sync's records of deleted names are no managed object)
            deletions[change.customer] = deletions.get(change.customer, 0) + 1
    lines = []
    for customer_id, count in sorted(deletions.items()):
        current = live.get(customer_id)
        managed = len(current.senders) + len(current.contents) if current else 0
        if managed < MIN_MANAGED_OBJECTS or count / managed <= max_delete_fraction:
            continue
        lines.append(
            f"{customer_id}: {count} deletions are {count / managed:.0%} of {managed} managed "
            f"objects, over max_delete_fraction {max_delete_fraction:.0%}"
        )
    return lines


def check_mass_delete(
    changes: Iterable[Change],
    live: Mapping[str, LiveCustomer],
    *,
    max_delete_fraction: float,
    allowed: bool,
) -> None:
    if allowed:
        return
    lines = mass_deletions(changes, live, max_delete_fraction=max_delete_fraction)
    if lines:
        raise MassDelete(
            "refusing to prune this much:\n  "
            + "\n  ".join(lines)
            + "\nCheck that the configuration is complete (a deleted or truncated file?). "
            "If these deletions are intended, run again with --allow-mass-delete."
        )
