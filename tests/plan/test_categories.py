"""Meta's re-categorisation of an approved template (issue #19.5): drift reported with
old and new category and the pricing, never a new version."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.plan.factories import customer, live, live_content, template
from wa_sync.model import ApprovalStatus
from wa_sync.plan.change import NoteKind
from wa_sync.plan.diff import diff_customer


@pytest.mark.parametrize(
    ("declared", "live_category", "pricing"),
    [
        ("UTILITY", "MARKETING", "messages are now charged for every delivered message"),
        ("MARKETING", "UTILITY", "charged only outside the 24-hour customer service window"),
    ],
)
def test_a_recategorised_approved_template_is_drift_and_no_new_version(
    declared, live_category, pricing
):
    desired = customer(templates=(template(category=declared),))
    content = replace(live_content(desired.templates[0], 1), approval_category=live_category)
    changes, notes = diff_customer(desired, live(desired, contents=(content,)), prune=False)
    assert changes == []
    (note,) = [n for n in notes if n.kind is NoteKind.RECATEGORISED]
    assert note.address == "customer.acme/template.reminder[en]"
    assert note.message.startswith(f"category changed from {declared} to {live_category}")
    assert pricing in note.message
    assert f"declare `category: {live_category}` to accept it" in note.message


def test_declaring_the_new_category_makes_the_note_go_away():
    desired = customer(templates=(template(category="MARKETING"),))
    content = replace(live_content(desired.templates[0], 1), approval_category="MARKETING")
    changes, notes = diff_customer(desired, live(desired, contents=(content,)), prune=False)
    assert changes == []
    assert not [n for n in notes if n.kind is NoteKind.RECATEGORISED]


def test_a_template_in_review_with_another_category_is_reported_too():
    desired = customer(templates=(template(category="UTILITY"),))
    content = replace(
        live_content(desired.templates[0], 1, status=ApprovalStatus.RECEIVED),
        approval_category="MARKETING",
    )
    _, notes = diff_customer(desired, live(desired, contents=(content,)), prune=False)
    assert [n.kind for n in notes if "category changed" in n.message] == [NoteKind.RECATEGORISED]
