"""A submitted template whose category in WhatsApp differs from the declared one (issue
#19.5): Meta re-categorised it, or the file's `category:` was edited, and wa-sync cannot
tell which. Drift reported with both categories, the pricing of each and both ways out,
never a new version."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.plan.factories import customer, live, live_content, template
from wa_sync.model import ApprovalStatus
from wa_sync.plan.change import NoteKind
from wa_sync.plan.diff import diff_customer


def _note(declared: str, live_category: str, status=ApprovalStatus.APPROVED, versions=1):
    """The changes and the one `recategorised` note of template `reminder`, declared
    `declared`, whose newest of `versions` live versions is `live_category`."""
    desired = customer(templates=(template(category=declared),))
    old = [
        live_content(desired.templates[0], n, friendly_name=f"reminder_v{n}" if n > 1 else None)
        for n in range(1, versions + 1)
    ]
    old[-1] = replace(old[-1], approval_status=status, approval_category=live_category)
    changes, notes = diff_customer(desired, live(desired, contents=tuple(old)), prune=False)
    (note,) = [n for n in notes if n.kind is NoteKind.RECATEGORISED]
    return changes, note


@pytest.mark.parametrize(
    ("declared", "live_category", "live_price", "declared_price"),
    [
        ("UTILITY", "MARKETING", "charged for every delivered message", "charged only outside"),
        ("MARKETING", "UTILITY", "charged only outside the 24-hour", "charged for every"),
    ],
)
def test_a_template_whose_approved_category_differs_is_drift_and_no_new_version(
    declared, live_category, live_price, declared_price
):
    changes, note = _note(declared, live_category)
    assert changes == []
    assert note.address == "customer.acme/template.reminder[en]"
    assert note.message.startswith(
        f"reminder is {live_category} in WhatsApp, and the file declares {declared}"
    )
    assert f"{live_category} messages are {live_price}" in note.message
    assert f"{declared} ones are {declared_price}" in note.message
    assert f"declare `category: {live_category}` to accept it" in note.message


def test_a_users_edit_of_an_approved_category_is_not_told_backwards():
    """The file's UTILITY edited to MARKETING on an approved UTILITY template: the plan
    told it as Meta's change "from MARKETING to UTILITY", to be undone."""
    changes, note = _note("MARKETING", "UTILITY")
    assert changes == []
    assert "from MARKETING to UTILITY" not in note.message
    assert "reminder is UTILITY in WhatsApp, and the file declares MARKETING" in note.message
    assert "the category of an approved template cannot be edited in WhatsApp" in note.message
    assert (
        "change the template's wording: reminder_v2 is then created and submitted as "
        "MARKETING, and reminder stays in service until reminder_v2 is approved"
    ) in note.message


def test_the_way_to_keep_the_declared_category_names_the_next_version():
    _, note = _note("MARKETING", "UTILITY", versions=3)
    assert "reminder_v3 is UTILITY in WhatsApp" in note.message
    assert "reminder_v4 is then created and submitted as MARKETING" in note.message


def test_declaring_the_new_category_makes_the_note_go_away():
    desired = customer(templates=(template(category="MARKETING"),))
    content = replace(live_content(desired.templates[0], 1), approval_category="MARKETING")
    changes, notes = diff_customer(desired, live(desired, contents=(content,)), prune=False)
    assert changes == []
    assert not [n for n in notes if n.kind is NoteKind.RECATEGORISED]


def test_a_template_in_review_with_another_category_is_reported_too():
    """Meta decides the category as it approves: in review, the file's category is what
    differs, and a submitted content cannot change. No "re-categorised" claim."""
    changes, note = _note("UTILITY", "MARKETING", status=ApprovalStatus.RECEIVED)
    assert changes == []
    assert note.message.startswith(
        "reminder is in WhatsApp review as MARKETING, and the file declares UTILITY"
    )
    assert "re-categorised" not in note.message
    assert "declare `category: MARKETING`" in note.message
    assert "reminder_v2 is then created and submitted as UTILITY" in note.message
