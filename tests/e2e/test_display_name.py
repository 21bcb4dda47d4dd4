"""A display-name change goes to Meta's review: Twilio keeps the name in service as
`profile.name` until it is approved (notes/twilio-api.md 4.2). While it is in review the
plan waits on Meta, and apply sends nothing again."""

from __future__ import annotations

import json

import requests

from tests.e2e.helpers import customer_doc, estate_writes


def _fetched(emulator, account: dict) -> dict:
    """The sender as Twilio answers for it (its display-name review included)."""
    (sender,) = emulator.state()["senders"][account["sid"]]
    answer = requests.get(
        f"{emulator.url}/v2/Channels/Senders/{sender['sid']}",
        auth=(account["sid"], account["auth_token"]),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _renamed(repo, cli, emulator) -> dict:
    """clinic-one applied, its sender ONLINE, then its display_name changed to "Clinic
    Number One" and applied: the new name in Meta's review. Its subaccount."""
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    (account,) = emulator.state()["accounts"]
    emulator.advance_clock(3600)  # the sender is ONLINE
    repo.edit(
        "customers/clinic-one.yaml",
        lambda d: d["senders"][0].update(display_name="Clinic Number One"),
    )
    assert cli("apply", "--auto-approve").code == 0
    return account


def test_a_display_name_in_review_is_waited_for_not_sent_again(repo, cli, emulator):
    account = _renamed(repo, cli, emulator)
    sender = _fetched(emulator, account)
    assert sender["profile"]["name"] == "Clinic Number 1"  # still in service
    assert sender["pending_display_name"] == "Clinic Number One"

    plan = cli("plan", "--detailed-exitcode", "-v")
    assert plan.code == 0, plan.out  # waiting on Meta, not a change
    assert "'Clinic Number One' is in Meta's review" in plan.out
    emulator.clear_request_log()
    assert cli("apply", "--auto-approve").code == 0
    assert estate_writes(emulator.request_log()) == []

    # another field changes meanwhile: the update goes, the review is left as it is
    repo.edit(
        "customers/clinic-one.yaml", lambda d: d["senders"][0]["profile"].update(about="New words")
    )
    assert cli("apply", "--auto-approve").code == 0
    sender = _fetched(emulator, account)
    assert sender["profile"]["about"] == "New words"
    assert sender["pending_display_name_status"] == "PENDING_REVIEW"

    emulator.set_display_name_status(sender["sid"], "APPROVED", name="Clinic Number One")
    assert _fetched(emulator, account)["profile"]["name"] == "Clinic Number One"
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_display_name_meta_declined_is_not_sent_again(repo, cli, emulator):
    """Meta limits display-name changes (10 in 30 days): the name it declined is told
    with the fix, not submitted again by every apply; another name is still sent."""
    account = _renamed(repo, cli, emulator)
    sid = _fetched(emulator, account)["sid"]
    emulator.set_display_name_status(sid, "DECLINED", name="Clinic Number One")

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out  # nothing to send: the name was declined
    text = " ".join(plan.out.split())
    assert "'Clinic Number One' was DECLINED by Meta" in text
    assert "choose another display_name" in text
    assert "Twilio support" in text
    emulator.clear_request_log()
    assert cli("apply", "--auto-approve").code == 0
    assert estate_writes(emulator.request_log()) == []
    assert _fetched(emulator, account)["pending_display_name_status"] == "DECLINED"

    # another name: sent for review
    repo.edit(
        "customers/clinic-one.yaml",
        lambda d: d["senders"][0].update(display_name="Clinic One Dental"),
    )
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.out
    assert cli("apply", "--auto-approve").code == 0
    sender = _fetched(emulator, account)
    assert sender["pending_display_name"] == "Clinic One Dental"
    assert sender["pending_display_name_status"] == "PENDING_REVIEW"


def test_a_name_in_review_that_is_no_longer_declared_is_not_left_unsaid(repo, cli, emulator):
    """The declared name changed back to the one in service while another is in Meta's
    review: nothing to send (the name in service is the declared one), but once Meta
    approves the other it replaces the declared one. The plan said "No changes."."""
    account = _renamed(repo, cli, emulator)
    assert _fetched(emulator, account)["pending_display_name"] == "Clinic Number One"
    repo.edit(
        "customers/clinic-one.yaml",
        lambda d: d["senders"][0].update(display_name="Clinic Number 1"),  # as it was
    )

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err  # nothing apply could send
    assert "'Clinic Number One' is in Meta's review" in plan.out
    assert "replaces 'Clinic Number 1'" in plan.out
    notes = json.loads(cli("plan", "--format", "json").out)["notes"]
    assert any("'Clinic Number One'" in n["message"] and n["kind"] == "warning" for n in notes)
