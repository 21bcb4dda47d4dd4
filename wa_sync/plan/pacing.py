"""Meta's template creation rate: at most 100 per WhatsApp Business Account per hour
(whatsapp-rules.md LC-LIMIT-RATE; SPEC §1.1). A plan creates at most what is left of
the customer's rolling hour, counting the contents Twilio shows created in the last hour;
the rest wait, with the time they may go on, and are never attempted or failed: the next
plan after that time creates them. Pure: the live state and the clock come in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from wa_sync.model import LiveContent
from wa_sync.plan.change import Action, Change, Note, NoteKind, Phase

CREATIONS_PER_HOUR = 100
HOUR = timedelta(hours=1)
CREATING = (Action.CREATE, Action.REPLACE)  # a replacement creates a content too


def pace_creations(
    changes: Sequence[Change], contents: Sequence[LiveContent], now: datetime
) -> tuple[list[Change], list[Note]]:
    """`changes` of one customer without the template creations (and their submissions)
    past the hour's budget, and a waiting note for each of those."""
    creations = [c for c in changes if c.phase is Phase.CONTENT and c.action in CREATING]
    if len(creations) + len(contents) <= CREATIONS_PER_HOUR:  # within the hour at any rate
        return list(changes), []  # (a plan without creations reads no dates)
    recent = _created_since(contents, now - HOUR)
    budget = max(0, CREATIONS_PER_HOUR - len(recent))
    if len(creations) <= budget:
        return list(changes), []
    waiting = {c.address for c in creations[budget:]}
    free = (min(recent) if recent else now) + HOUR
    kept = [c for c in changes if c.address not in waiting or c.phase < Phase.CONTENT]
    notes = [
        Note(
            customer=c.customer,
            address=c.address,
            kind=NoteKind.WAITING,
            message=f"waits: Meta allows {CREATIONS_PER_HOUR} template creations per "
            f"WhatsApp Business Account per hour ({len(recent)} in the last hour, "
            f"{budget} in this plan); a plan from {free:%Y-%m-%d %H:%M} UTC creates it",
        )
        for c in creations[budget:]
    ]
    return kept, notes


def _created_since(contents: Sequence[LiveContent], since: datetime) -> list[datetime]:
    """When the contents created after `since` were created (a later time counts too:
    a clock ahead of ours is no reason to send more)."""
    created = (content.created_at for content in contents)
    # no date (an old answer): it cannot be counted in the hour
    return [moment for moment in created if moment is not None and moment > since]
