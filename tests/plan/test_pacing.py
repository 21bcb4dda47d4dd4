"""Meta's 100 template creations per WABA per hour (issue #19.4): a plan creates what is
left of the rolling hour; the rest waits with the time it may go on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.plan.factories import customer, live, live_content, template
from wa_sync.plan.change import Action, NoteKind, Phase
from wa_sync.plan.diff import diff_customer

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def templates(count: int, start: int = 0):
    return tuple(template(name=f"t{n:03d}") for n in range(start, start + count))


def created(t, n: int, minutes_ago: int):
    when = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return replace(live_content(t, n), date_created=when)


@pytest.mark.parametrize(
    ("declared", "recent", "older", "creates", "waiting"),
    [
        (100, 0, 0, 100, 0),
        (101, 0, 0, 100, 1),
        (30, 80, 0, 20, 10),
        (30, 0, 80, 30, 0),  # created over an hour ago: they no longer count
        (5, 100, 0, 0, 5),
    ],
    ids=["exactly-100", "one-over", "budget-left", "older-than-an-hour", "none-left"],
)
def test_creations_per_customer_per_rolling_hour(declared, recent, older, creates, waiting):
    existing = templates(recent + older, start=500)
    new = templates(declared)
    desired = customer(templates=existing + new)
    contents = tuple(
        created(t, i + 1, minutes_ago=10 if i < recent else 90) for i, t in enumerate(existing)
    )
    changes, notes = diff_customer(desired, live(desired, contents=contents), prune=False, now=NOW)
    made = [c for c in changes if c.phase is Phase.CONTENT and c.action is Action.CREATE]
    submits = [c for c in changes if c.phase is Phase.APPROVAL]
    waits = [n for n in notes if n.kind is NoteKind.WAITING and "waits: Meta allows" in n.message]
    assert len(made) == creates
    assert len(submits) == creates  # a waiting template is not submitted either
    assert len(waits) == waiting
    assert {c.address for c in made}.isdisjoint({n.address for n in waits})
    assert not [c for c in changes if c.action is Action.BLOCKED]


def test_the_waiting_note_says_when_a_plan_may_go_on():
    existing = templates(100, start=500)
    desired = customer(templates=existing + templates(1))
    contents = tuple(
        created(t, i + 1, minutes_ago=40 - i % 10) for i, t in enumerate(existing)
    )  # the oldest of the hour was made 40 minutes ago: a slot frees at 09:20
    _, notes = diff_customer(desired, live(desired, contents=contents), prune=False, now=NOW)
    (note,) = [n for n in notes if "waits" in n.message]
    assert note.address == "customer.acme/template.t000[en]"
    assert note.message == (
        "waits: Meta allows 100 template creations per WhatsApp Business Account per hour "
        "(100 in the last hour, 0 in this plan); a plan from 2026-12-07 09:20 UTC creates it"
    )
