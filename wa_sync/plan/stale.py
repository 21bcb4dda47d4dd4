"""The stale-plan check of `apply PLANFILE` (SPEC §3): a saved plan is applied only
if the configuration and the live state it was computed from are unchanged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from wa_sync.errors import StalePlan
from wa_sync.plan.build import UNREAD_DIGEST
from wa_sync.plan.change import Plan
from wa_sync.wording import listed


def stale_reasons(
    *,
    saved_config_digest: str,
    saved_live_digests: Mapping[str, str],
    saved_changes: Sequence[tuple[str, str]],
    current: Plan,
) -> list[str]:
    """Why a saved plan no longer holds; empty when it is fresh."""
    reasons = []
    if saved_config_digest != current.config_digest:
        reasons.append("the configuration changed since the plan was made")
    moved = sorted(
        cid
        for cid in set(saved_live_digests) | set(current.live_digests)
        if saved_live_digests.get(cid) != current.live_digests.get(cid)
    )
    unread = [cid for cid in moved if current.live_digests.get(cid) == UNREAD_DIGEST]
    if unread:  # a saved plan never goes on without seeing what it was made from
        reasons.append(f"Twilio could not be read now for {listed(unread, 10)}")
    changed = [cid for cid in moved if cid not in unread]
    if changed:
        reasons.append(f"Twilio's live state changed for {listed(changed, 10)}")
    now = [(c.address, c.action.value) for c in current.changes]
    if not reasons and sorted(saved_changes) != sorted(now):
        reasons.append("the changes it lists differ from the ones a new plan computes")
    return reasons


def check_fresh(
    *,
    source: str,
    saved_config_digest: str,
    saved_live_digests: Mapping[str, str],
    saved_changes: Sequence[tuple[str, str]],
    current: Plan,
) -> None:
    reasons = stale_reasons(
        saved_config_digest=saved_config_digest,
        saved_live_digests=saved_live_digests,
        saved_changes=saved_changes,
        current=current,
    )
    if reasons:
        raise StalePlan(
            f"the saved plan {source} is stale: {'; '.join(reasons)}. Nothing was changed. "
            f"Run `wa-sync plan --out {source}` again and review it."
        )
