"""The pure diff: desired customer + live state -> changes and notes."""

from __future__ import annotations

import pytest

from tests.plan.factories import (
    ONBOARDED,
    customer,
    live,
    live_content,
    live_sender,
    sender,
    template,
)
from wa_sync.model import ApprovalStatus, Invitation, Onboarding
from wa_sync.plan.change import Action, Cause, NoteKind, Phase
from wa_sync.plan.diff import diff_customer


def actions(changes) -> list[tuple[str, str]]:
    return [(c.action.value, c.address.split("/", 1)[-1]) for c in changes]


def test_fresh_customer_creates_everything_and_submits():
    c = customer()
    changes, _ = diff_customer(c, live(c, account=False, senders=(), contents=()), prune=False)
    assert actions(changes) == [
        ("create", "customer.acme"),
        ("create", "sender.whatsapp:+14155550100"),
        ("create", "template.reminder[en]"),
        ("submit", "template.reminder[en]"),
    ]
    create = changes[2]
    assert create.phase is Phase.CONTENT
    assert create.after["types"] == {"twilio/text": {"body": "Hi {{1}}, see you."}}


def test_matching_live_state_has_no_changes_and_no_notes():
    c = customer()
    changes, notes = diff_customer(c, live(c), prune=False)
    assert changes == []
    assert notes == []


def test_profile_change_is_a_field_level_update():
    c = customer(senders=(sender(about="Gentle dentistry"),))
    current = live(c, senders=(live_sender(sender()),))
    (change,), _ = diff_customer(c, current, prune=False)
    assert change.action is Action.UPDATE
    assert change.ref.startswith("XE")
    assert change.before["profile"]["about"] == "Family dentistry"
    assert change.after["profile"]["about"] == "Gentle dentistry"
    assert "profile.about" in change.reason


def test_empty_values_twilio_fills_in_are_not_changes():
    c = customer()
    s = c.senders[0]
    padded = live_sender(s)
    from dataclasses import replace

    from wa_sync.model import freeze

    padded = replace(
        padded,
        profile=freeze({**s.profile, "address": "", "emails": []}),
        webhook=freeze({"callback_url": None, "callback_method": "POST"}),
    )
    assert diff_customer(c, live(c, senders=(padded,)), prune=False) == ([], [])


def test_a_content_twilio_padded_with_empty_values_is_the_declared_one():
    """Not equal as stored (so the diff's shortcut does not apply): equal once the
    empty values are gone."""
    from dataclasses import replace

    from wa_sync.model import freeze

    c = customer()
    stored = live_content(c.templates[0], 1)
    padded = replace(
        stored, types=freeze({"twilio/text": {"body": "Hi {{1}}, see you.", "media": []}})
    )
    assert padded.types != c.templates[0].types
    assert diff_customer(c, live(c, contents=(padded,)), prune=False) == ([], [])


def test_a_sample_that_is_equal_only_as_a_value_is_a_change():
    """True == 1 in Python, yet Twilio stores samples as text: "True" is not "1"."""
    from dataclasses import replace

    from wa_sync.model import freeze

    declared = replace(template(), variables=freeze({"1": True}))
    c = customer(templates=(declared,))
    stored = replace(live_content(declared, 1), variables=freeze({"1": 1}))
    changes, _ = diff_customer(c, live(c, contents=(stored,)), prune=False)
    assert actions(changes)[0] == ("replace", "template.reminder[en]")


def test_approved_template_change_rolls_out_next_version_and_keeps_the_old():
    t = template(body="Hi {{1}}, new text.")
    c = customer(templates=(t,))
    current = live(c, contents=(live_content(t, 1, body="Hi {{1}}, old text."),))
    replace, submit = diff_customer(c, current, prune=True)[0]
    assert replace.action is Action.REPLACE
    assert replace.after["friendly_name"] == "reminder_v2"
    assert replace.ref == current.contents[0].sid
    assert "stays in service" in replace.reason
    assert submit.action is Action.SUBMIT
    assert submit.after["name"] == "reminder_v2"


def test_next_free_version_follows_the_highest():
    t = template(body="Third text {{1}} here.")
    c = customer(templates=(t,))
    v1 = live_content(t, 1, body="First {{1}} text.")
    v2 = live_content(t, 2, friendly_name="reminder_v2", body="Second {{1}} text.")
    replace, _ = diff_customer(c, live(c, contents=(v1, v2)), prune=False)[0]
    assert replace.after["friendly_name"] == "reminder_v3"


@pytest.mark.parametrize("status", [ApprovalStatus.UNSUBMITTED, ApprovalStatus.REJECTED])
def test_never_submitted_or_rejected_is_replaced_under_its_own_name(status):
    t = template(body="Hi {{1}}, corrected.")
    c = customer(templates=(t,))
    current = live(c, contents=(live_content(t, 1, status=status, body="Hi {{1}} wrong"),))
    replace, submit = diff_customer(c, current, prune=False)[0]
    assert replace.action is Action.REPLACE
    assert replace.after["friendly_name"] == "reminder"
    assert submit.after["name"] == "reminder"


def test_unsubmitted_matching_content_is_submitted_with_its_sid():
    c = customer()
    current = live(
        c, contents=(live_content(c.templates[0], 1, status=ApprovalStatus.UNSUBMITTED),)
    )
    (submit,), _ = diff_customer(c, current, prune=False)
    assert submit.action is Action.SUBMIT
    assert submit.ref == current.contents[0].sid


def test_in_review_is_waiting_and_rejected_is_a_warning_with_the_reason():
    c = customer()
    review = live(c, contents=(live_content(c.templates[0], 1, status=ApprovalStatus.RECEIVED),))
    changes, (note,) = diff_customer(c, review, prune=False)
    assert changes == []
    assert note.kind is NoteKind.WAITING
    rejected = live(
        c,
        contents=(
            live_content(
                c.templates[0], 1, status=ApprovalStatus.REJECTED, reason="INVALID_FORMAT"
            ),
        ),
    )
    changes, (note,) = diff_customer(c, rejected, prune=False)
    assert changes == []
    assert note.kind is NoteKind.WARNING
    assert "INVALID_FORMAT" in note.message


def test_sender_changes_wait_for_the_access_request():
    c = customer(onboarding=Onboarding(terms_accepted=True))
    changes, _ = diff_customer(c, live(c, senders=(), contents=()), prune=False)
    blocked = [ch for ch in changes if ch.action is Action.BLOCKED]
    assert [b.address.split("/")[-1] for b in blocked] == [
        "sender.whatsapp:+14155550100",
        "template.reminder[en]",
    ]
    assert blocked[0].blocked_by.step == 5
    assert blocked[0].blocked_by.actor.value == "ISV"
    # content is still created, unsubmitted: it can be prepared before approval
    assert ("create", "template.reminder[en]") in actions(changes)


def test_submission_waits_for_the_invitation():
    c = customer(onboarding=Onboarding(**{**_fields(ONBOARDED), "invitation": Invitation.PENDING}))
    changes, _ = diff_customer(c, live(c, contents=()), prune=False)
    (blocked,) = [ch for ch in changes if ch.action is Action.BLOCKED]
    assert blocked.blocked_by.step == 7
    assert blocked.blocked_by.actor.value == "customer"


def test_a_sender_planned_in_the_same_run_does_not_block_submission():
    c = customer()
    changes, _ = diff_customer(c, live(c, senders=(), contents=()), prune=False)
    assert not [ch for ch in changes if ch.action is Action.BLOCKED]


def test_submission_without_any_sender_is_blocked_at_step_6():
    c = customer(senders=())
    changes, _ = diff_customer(c, live(c, senders=(), contents=()), prune=False)
    (blocked,) = [ch for ch in changes if ch.action is Action.BLOCKED]
    assert blocked.blocked_by.step == 6


def test_undeclared_objects_are_notes_without_prune_and_deletes_with_it():
    c = customer(templates=())
    extra = live_content(template("old_promo"), 9)
    current = live(c, contents=(extra,))
    changes, notes = diff_customer(c, current, prune=False)
    assert changes == []
    assert notes[0].kind is NoteKind.UNDECLARED
    (delete,), _ = diff_customer(c, current, prune=True)
    assert delete.action is Action.DELETE
    assert delete.phase is Phase.CLEANUP
    assert delete.ref == extra.sid


def test_superseded_version_is_deleted_by_prune_once_the_new_one_is_approved():
    t = template()
    c = customer(templates=(t,))
    v1 = live_content(t, 1, body="Old {{1}} text.")
    v2 = live_content(t, 2, friendly_name="reminder_v2")
    (delete,), _ = diff_customer(c, live(c, contents=(v1, v2)), prune=True)
    assert delete.action is Action.DELETE
    assert delete.ref == v1.sid
    # while v2 is in review, v1 is the one in service and stays
    v2_review = live_content(t, 2, friendly_name="reminder_v2", status=ApprovalStatus.RECEIVED)
    changes, _ = diff_customer(c, live(c, contents=(v1, v2_review)), prune=True)
    assert changes == []


def test_cause_comes_from_the_files_that_changed():
    c = customer(senders=(sender(about="Changed"),))
    current = live(c, senders=(live_sender(sender()),))
    (change,), _ = diff_customer(c, current, prune=False, cause_of=lambda files: Cause.DRIFT)
    assert change.cause is Cause.DRIFT


def _fields(onboarding: Onboarding) -> dict:
    return {f: getattr(onboarding, f) for f in onboarding.__dataclass_fields__}


def test_a_customer_without_a_subaccount_has_nothing_that_drifted():
    c = customer()
    changes, _ = diff_customer(
        c,
        live(c, account=False, senders=(), contents=()),
        prune=False,
        cause_of=lambda files: Cause.DRIFT,
    )
    assert {ch.cause for ch in changes} == {Cause.CONFIG}


def test_the_cause_is_asked_for_only_when_there_is_a_change():
    """Asking git costs a process; a customer without changes asks nothing."""
    asked: list[tuple[str, ...]] = []

    def cause_of(files):
        asked.append(tuple(files))
        return Cause.DRIFT

    c = customer()
    assert diff_customer(c, live(c), prune=True, cause_of=cause_of) == ([], [])
    assert asked == []
    changed = customer(senders=(sender(about="Gentle dentistry"),))
    (change,), _ = diff_customer(
        changed, live(changed, senders=(live_sender(sender()),)), prune=False, cause_of=cause_of
    )
    assert change.cause is Cause.DRIFT
    assert len(asked) == 1  # the sender's files, once
