"""The template lifecycle, undeclared objects, protect and blocked names as diff rules
(SPEC §4.4, §4.8): tables of (declared, live) -> changes and notes, no emulator."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.plan.factories import customer, live, live_content, live_sender, sender, template
from wa_sync.model import RETIRED_PREFIX, ApprovalStatus, LiveContent, LiveCustomer, freeze
from wa_sync.plan.change import Action, Note, NoteKind, Plan, summary_line
from wa_sync.plan.diff import diff_customer
from wa_sync.plan.retired import retired_record

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
T = template()  # reminder [en], "Hi {{1}}, see you."
OLD = "Old {{1}} text."
NEW = "New {{1}} text."
A, R, P, U = (
    ApprovalStatus.APPROVED,
    ApprovalStatus.REJECTED,
    ApprovalStatus.RECEIVED,
    ApprovalStatus.UNSUBMITTED,
)


def version(n: int, status: ApprovalStatus, body: str | None = None) -> LiveContent:
    return live_content(
        T, n, friendly_name="reminder" if n == 1 else f"reminder_v{n}", status=status, body=body
    )


def record(name: str, deleted: datetime, n: int = 90) -> LiveContent:
    """wa-sync's record that the approved template `name` was deleted at `deleted`."""
    return LiveContent(
        sid=f"HX{n:032x}",
        friendly_name=f"{RETIRED_PREFIX}{name}:{deleted:%Y%m%dT%H%M%SZ}",
        language="en",
        types=freeze({"twilio/text": {"body": "record"}}),
        date_created=f"{deleted:%Y-%m-%dT%H:%M:%SZ}",
    )


def run(contents, *, prune=False, templates=(T,), retired=(), now=NOW, **kw):
    c = customer(templates=templates, **kw)
    current = replace(live(c, contents=tuple(contents)), retired=tuple(retired))
    return diff_customer(c, current, prune=prune, now=now)


def shown(changes, notes) -> list[tuple[str, str]]:
    return [(c.action.value, c.address.split("/", 1)[1]) for c in changes] + [
        (n.kind.value, n.address.split("/", 1)[1]) for n in notes
    ]


# --- which versions are made, kept, deleted ----------------------------------------


@pytest.mark.parametrize(
    ("contents", "prune", "expected"),
    [
        # v1 approved, v2 rejected, the YAML back to v1's text: nothing is made
        ([version(1, A), version(2, R, NEW)], False, [("undeclared", "template.reminder_v2[en]")]),
        ([version(1, A), version(2, R, NEW)], True, [("delete", "template.reminder_v2[en]")]),
        # ... and so with v2 still in review
        ([version(1, A), version(2, P, NEW)], False, [("undeclared", "template.reminder_v2[en]")]),
        # a rejected v2 with text that is neither: replaced under its own name
        (
            [version(1, A, OLD), version(2, R, NEW)],
            False,
            [("replace", "template.reminder[en]"), ("submit", "template.reminder[en]")],
        ),
        # a v2 never submitted: replaced under its own name too
        (
            [version(1, A, OLD), version(2, U, NEW)],
            True,
            [("replace", "template.reminder[en]"), ("submit", "template.reminder[en]")],
        ),
        # an approved v2 that is not the declared text either: v3 is rolled out
        (
            [version(1, A, OLD), version(2, A, NEW)],
            True,
            [
                ("delete", "template.reminder[en]"),
                ("replace", "template.reminder[en]"),
                ("submit", "template.reminder[en]"),
            ],
        ),
        # v2 approved and declared: v1 is superseded
        ([version(1, A, OLD), version(2, A)], False, [("undeclared", "template.reminder[en]")]),
    ],
    ids=[
        "revert-rejected",
        "revert-rejected-prune",
        "revert-in-review",
        "fix-rejected-v2",
        "fix-unsubmitted-v2",
        "approved-v2-changed",
        "superseded-v1",
    ],
)
def test_versions(contents, prune, expected):
    changes, notes = run(contents, prune=prune)
    assert sorted(shown(changes, [n for n in notes if n.kind is not NoteKind.WAITING])) == sorted(
        expected
    )


def test_a_rejected_v2_is_replaced_under_its_own_name_never_the_base_name():
    changes, _ = run([version(1, A, OLD), version(2, R, NEW)])
    replace_change = changes[0]
    assert replace_change.before["friendly_name"] == "reminder_v2"
    assert replace_change.after["friendly_name"] == "reminder_v2"
    assert replace_change.ref == version(2, R).sid
    assert changes[1].after["name"] == "reminder_v2"


def test_a_protected_rejected_version_is_kept_and_the_next_one_rolled_out():
    t = replace(T, protect=True)
    changes, notes = run([version(1, A, OLD), version(2, R, NEW)], prune=True, templates=(t,))
    (rollout, submit) = changes
    assert rollout.action is Action.REPLACE
    assert rollout.after["friendly_name"] == "reminder_v3"
    assert "reminder_v2 was rejected and is protected" in rollout.reason
    assert submit.after["name"] == "reminder_v3"
    assert [n for n in notes if n.kind is NoteKind.PROTECTED] == []  # nothing would be deleted


# --- undeclared objects and protect ------------------------------------------------------


EXTRA = live_content(template("old_promo"), 9)


@pytest.mark.parametrize(
    ("prune", "guard", "expected"),
    [
        (
            False,
            {},
            [
                ("undeclared", "sender.whatsapp:+14155550999"),
                ("undeclared", "template.old_promo[en]"),
            ],
        ),
        (
            True,
            {},
            [("delete", "sender.whatsapp:+14155550999"), ("delete", "template.old_promo[en]")],
        ),
        (
            True,
            {"protect": True},
            [
                ("protected", "sender.whatsapp:+14155550999"),
                ("protected", "template.old_promo[en]"),
            ],
        ),
        (
            False,
            {"protect": True},
            [
                ("undeclared", "sender.whatsapp:+14155550999"),
                ("undeclared", "template.old_promo[en]"),
            ],
        ),
    ],
    ids=["kept", "pruned", "protected-customer", "protected-without-prune"],
)
def test_undeclared_objects(prune, guard, expected):
    c = customer(**guard)
    stray = replace(live_sender(sender()), sid="XE" + "9" * 32, sender_id="whatsapp:+14155550999")
    current = live(
        c, senders=(live_sender(c.senders[0]), stray), contents=(live_content(T, 1), EXTRA)
    )
    changes, notes = diff_customer(c, current, prune=prune, now=NOW)
    assert sorted(shown(changes, notes)) == sorted(expected)


def test_a_protected_template_guards_its_name_in_every_language():
    t = replace(T, protect=True)
    spanish = live_content(template(language="es"), 5)
    changes, notes = run([live_content(T, 1), spanish], prune=True, templates=(t,))
    assert changes == []
    (note,) = notes
    assert note.kind is NoteKind.PROTECTED
    assert note.address.endswith("template.reminder[es]")


@pytest.mark.parametrize(
    ("status", "warns"),
    [(A, True), (ApprovalStatus.PAUSED, True), (R, False), (U, False)],
    ids=["approved", "paused", "rejected", "unsubmitted"],
)
def test_deleting_a_template_says_when_whatsapp_blocks_its_name(status, warns):
    content = live_content(template("old_promo"), 9, status=status)
    (delete,), _ = run([live_content(T, 1), content], prune=True)
    said = "WhatsApp then blocks the name old_promo for 30 days, until about 2027-01-06"
    assert (said in delete.reason) is warns


# --- names blocked after a deletion ---------------------------------------------------


def test_a_redeclared_name_is_blocked_until_thirty_days_after_its_deletion():
    deleted = NOW - timedelta(days=3)
    changes, _ = run([], retired=[record("reminder", deleted)])
    (blocked,) = changes
    assert blocked.action is Action.BLOCKED
    assert blocked.blocked_by.step == 8
    assert "release the name reminder by 2027-01-03 12:00 UTC" in blocked.blocked_by.action
    assert "2027-01-03" in blocked.reason


def test_once_the_block_is_over_the_name_is_created_and_the_record_pruned():
    deleted = NOW - timedelta(days=31)
    changes, notes = run([], retired=[record("reminder", deleted)])
    assert [c.action for c in changes] == [Action.CREATE, Action.SUBMIT]
    (note,) = notes  # nothing hidden: shown as undeclared while prune is off
    assert (note.kind, note.address) == (NoteKind.UNDECLARED, "customer.acme/retired.reminder[en]")
    changes, _ = run([], retired=[record("reminder", deleted)], prune=True)
    assert [(c.action, c.address.split("/")[1]) for c in changes][-1] == (
        Action.DELETE,
        "retired.reminder[en]",
    )


def test_a_record_still_blocking_is_an_informational_note_and_never_pruned():
    changes, notes = run([live_content(T, 1)], retired=[record("gone", NOW)], prune=True)
    assert changes == []
    (note,) = notes
    assert note.kind is NoteKind.INFO
    assert "WhatsApp blocks the name gone until 2027-01-06 12:00 UTC" in note.message


def test_a_rollout_skips_versions_whose_names_were_deleted():
    contents = [version(1, A, OLD)]
    changes, _ = run(contents, retired=[record("reminder_v2", NOW - timedelta(days=1))])
    assert changes[0].after["friendly_name"] == "reminder_v3"


def test_a_rejected_version_whose_name_is_blocked_is_not_replaced_under_it():
    # reminder [es] was approved and deleted: the name is blocked in every language
    contents = [version(1, R, OLD)]
    changes, _ = run(contents, retired=[record("reminder", NOW - timedelta(days=1))])
    assert changes[0].after["friendly_name"] == "reminder_v2"
    assert "has a blocked name" in changes[0].reason


def test_records_are_taken_out_of_the_contents():
    current = LiveCustomer(customer_id="acme", contents=(live_content(T, 1), record("x", NOW)))
    assert [c.friendly_name for c in current.contents] == ["reminder"]
    assert [c.retired_name for c in current.retired] == ["x"]


@pytest.mark.parametrize(
    ("status", "made"), [("approved", True), ("paused", True), ("rejected", False)]
)
def test_apply_leaves_a_record_only_for_an_approved_template(status, made):
    before = {"friendly_name": "promo_v2", "language": "es", "approval_status": status}
    found = retired_record(before, NOW)
    assert (found is not None) is made
    if found is not None:
        record_template, name = found
        assert name == "wa-sync:deleted:promo_v2:20261207T120000Z"
        assert record_template.language == "es"
        assert (
            LiveContent(sid="HX1", friendly_name=name, language="es", types={}).retired_name
            == "promo_v2"
        )


# --- submissions once a sender exists in Twilio (SPEC §1.1 step 6) ----------------------


@pytest.mark.parametrize(
    ("status", "blocked"),
    [("ONLINE", False), ("CREATING", False), ("PENDING_VERIFICATION", False), ("OFFLINE", False)],
)
def test_templates_are_submitted_once_the_declared_sender_exists_in_twilio(status, blocked):
    c = customer()
    current = live(c, senders=(live_sender(c.senders[0], status=status),), contents=())
    changes, _ = diff_customer(c, current, prune=False, now=NOW)
    (submit,) = [ch for ch in changes if ch.phase.name == "APPROVAL"]
    assert (submit.action is Action.BLOCKED) is blocked


# --- the summary line -------------------------------------------------------------------


def _note(kind: NoteKind) -> Note:
    return Note(customer="acme", address="customer.acme/x", kind=kind, message="m")


def test_the_summary_line_counts_what_is_kept():
    notes = [_note(NoteKind.UNDECLARED)] * 2 + [_note(NoteKind.PROTECTED)]
    assert summary_line(Plan.of([], notes)) == (
        "No changes. Twilio matches the configuration. 2 undeclared kept. "
        "1 protected from deletion."
    )
    assert summary_line(Plan.of([], [_note(NoteKind.INFO)])) == (
        "No changes. Twilio matches the configuration."
    )


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_a_subaccount_that_is_not_active_plans_nothing_but_its_warning(status):
    """Its senders and contents are not read: they must not be planned as creates
    (a review found every declared object planned as a create, each failing at apply)."""
    c = customer()
    current = live(c, senders=(), contents=())
    current = replace(current, account=replace(current.account, status=status))
    changes, notes = diff_customer(c, current, prune=True, now=NOW)
    assert changes == []
    assert [n.kind for n in notes] == [NoteKind.INACTIVE]
    assert f"is {status}" in notes[0].message
