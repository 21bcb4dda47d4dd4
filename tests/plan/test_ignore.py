"""`ignore:` on senders and templates (issue #19.6): drift the customer may make in
WhatsApp Manager is not a change, and is still told (an info note, shown with -v)."""

from __future__ import annotations

from dataclasses import replace

from tests.plan.factories import customer, live, live_content, live_sender, sender, template
from wa_sync.plan.change import Action, NoteKind
from wa_sync.plan.diff import diff_customer


def plan_for(declared_sender, live_about: str, **live_profile):
    desired = customer(senders=(declared_sender,))
    current = live_sender(declared_sender, about=live_about)
    if live_profile:
        current = replace(current, profile={**current.profile, **live_profile})
    return diff_customer(desired, live(desired, senders=(current,)), prune=False)


def test_ignored_drift_is_not_a_change_but_an_info_note():
    changes, notes = plan_for(replace(sender(), ignore=("profile.about",)), "Edited by owner")
    assert changes == []
    (note,) = [n for n in notes if n.kind is NoteKind.INFO]
    assert note.message.startswith("changed outside wa-sync in profile.about, which `ignore:`")


def test_without_ignore_the_same_drift_is_an_update():
    changes, _ = plan_for(sender(), "Edited by owner")
    assert [c.action for c in changes] == [Action.UPDATE]


def test_an_ignored_list_field_and_another_change():
    declared = replace(sender(), ignore=("profile.websites",))
    changes, notes = plan_for(
        declared, "Family dentistry", websites=("https://other.example",), description="Hi"
    )
    (update,) = changes
    assert update.reason == "changed: profile.description"
    assert "profile.websites[0]" in next(n.message for n in notes if n.kind is NoteKind.INFO)


def test_a_template_that_ignores_category_tells_a_recategorisation_as_info():
    declared = replace(template(category="UTILITY"), ignore=("category",))
    desired = customer(templates=(declared,))
    content = replace(live_content(declared, 1), approval_category="MARKETING")
    changes, notes = diff_customer(desired, live(desired, contents=(content,)), prune=False)
    assert changes == []
    assert [n.kind for n in notes if "is MARKETING in WhatsApp" in n.message] == [NoteKind.INFO]
