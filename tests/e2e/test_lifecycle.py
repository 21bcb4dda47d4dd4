"""The template lifecycle, undeclared objects and `protect: true` end to end (SPEC §4.4,
§4.5, §4.8; issue 17 items 4-8 and 14): the CLI, the real twilio SDK, the emulator.

Each test also holds the invariant that a second plan after a successful apply has
no changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.e2e.helpers import customer_doc, estate_writes
from tests.e2e.test_reconcile import account_of, approve_all, contents_of, senders_of
from wa_sync.render.markdown import pre

CID = "clinic-one"
FILE = f"customers/{CID}.yaml"
RECALL = 1  # templates[1] of customer_doc: the inline recall_offer [en]
FIXED = "Hi {{1}}, your check-up is due. Book this week and get 10% off."


def by_name(emulator) -> dict[str, dict]:
    return {c["friendly_name"]: c for c in contents_of(emulator, CID)}


def set_recall_body(repo, body: str) -> None:
    repo.edit(FILE, lambda d: d["templates"][RECALL].update(body=body))


def assert_settled(cli) -> None:
    """The invariant: nothing left to do (waiting and blocked items aside)."""
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err


@pytest.fixture
def live_v1(repo, cli, emulator) -> str:
    """clinic-one applied and every template approved; returns recall_offer's v1 body."""
    doc = customer_doc(1)
    repo.customer(CID, doc)
    assert cli("apply", "--auto-approve").code == 0
    approve_all(emulator)
    return doc["templates"][RECALL]["body"]


def roll_out_v2_and_reject(repo, cli, emulator) -> None:
    set_recall_body(repo, "Hi {{1}}, win a prize: book your check-up now and get 10% off!")
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    emulator.reject(by_name(emulator)["recall_offer_v2"]["sid"], "PROMOTIONAL")


# --- item 4: a rejected _vN can be fixed ---------------------------------------------------


@pytest.mark.parametrize("prune", [False, True], ids=["without-prune", "with-prune"])
def test_a_rejected_v2_is_fixed_by_replacing_it_under_its_own_name(
    live_v1, repo, cli, emulator, prune
):
    roll_out_v2_and_reject(repo, cli, emulator)
    set_recall_body(repo, FIXED)
    flags = ["--prune"] if prune else []

    plan = cli("plan", *flags)
    assert "-/+ customer.clinic-one/template.recall_offer[en]" in plan.out
    assert "recall_offer_v2 was rejected and is replaced under its own name" in plan.out
    applied = cli("apply", "--auto-approve", *flags)
    assert applied.code == 0, applied.out + applied.err

    contents = by_name(emulator)
    assert contents["recall_offer"]["approval"]["status"] == "approved"  # still in service
    v2 = contents["recall_offer_v2"]
    assert v2["types"]["twilio/text"]["body"] == FIXED
    assert v2["approval"]["status"] == "received"
    assert sorted(contents) == ["appointment_reminder", "recall_offer", "recall_offer_v2"]
    assert len(contents_of(emulator, CID)) == 4  # appointment_reminder in en and es
    assert_settled(cli)
    approve_all(emulator)
    assert_settled(cli)


def test_a_protected_rejected_v2_is_kept_and_the_fix_rolls_out_as_v3(live_v1, repo, cli, emulator):
    roll_out_v2_and_reject(repo, cli, emulator)
    repo.edit(FILE, lambda d: d["templates"][RECALL].update(body=FIXED, protect=True))

    plan = cli("plan", "--prune")
    assert "recall_offer_v2 was rejected and is protected" in plan.out
    applied = cli("apply", "--auto-approve", "--prune")
    assert applied.code == 0, applied.out + applied.err
    contents = by_name(emulator)
    assert contents["recall_offer_v2"]["approval"]["status"] == "rejected"  # never deleted
    assert contents["recall_offer_v3"]["types"]["twilio/text"]["body"] == FIXED
    assert_settled(cli)
    approve_all(emulator)
    # v1 and v2 are superseded by the approved v3: prune would delete them, protect keeps them
    settled = cli("plan", "--prune", "--detailed-exitcode")
    assert settled.code == 0, settled.out
    assert "= customer.clinic-one/template.recall_offer_v2[en]" in settled.out
    assert "2 protected from deletion." in settled.out
    assert {"recall_offer", "recall_offer_v2", "recall_offer_v3"} <= set(by_name(emulator))


# --- item 5: reverting to the approved text makes nothing -------------------------------


@pytest.mark.parametrize("reject", [True, False], ids=["v2-rejected", "v2-in-review"])
def test_reverting_to_the_approved_text_creates_nothing(live_v1, repo, cli, emulator, reject):
    set_recall_body(repo, FIXED)
    assert cli("apply", "--auto-approve").code == 0
    if reject:
        emulator.reject(by_name(emulator)["recall_offer_v2"]["sid"])
    set_recall_body(repo, live_v1)  # back to v1's exact text

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert "No changes." in plan.out
    assert "? customer.clinic-one/template.recall_offer_v2[en]" in plan.out
    assert "newer than recall_offer, the approved version that is declared" in plan.out
    before = sorted(c["sid"] for c in contents_of(emulator, CID))
    assert cli("apply", "--auto-approve").code == 0
    assert sorted(c["sid"] for c in contents_of(emulator, CID)) == before

    pruned = cli("apply", "--auto-approve", "--prune")
    assert pruned.code == 0, pruned.out + pruned.err
    assert "recall_offer_v2" not in by_name(emulator)
    assert by_name(emulator)["recall_offer"]["approval"]["status"] == "approved"
    assert_settled(cli)


# --- item 6: nothing hidden ------------------------------------------------------------------


def add_content_by_hand(emulator, name: str) -> str:
    account = account_of(emulator, CID)
    made = requests.post(
        f"{emulator.url}/v1/Content",
        json={"friendly_name": name, "language": "en", "types": {"twilio/text": {"body": "Hi"}}},
        auth=(account["sid"], account["auth_token"]),
        timeout=10,
    )
    assert made.status_code == 201, made.text
    return made.json()["sid"]


@pytest.fixture
def undeclared(repo, cli, emulator) -> list[str]:
    """clinic-one with a template and a sender removed from its file, and a content made
    in the Console: the addresses of the three undeclared objects."""
    doc = customer_doc(1)
    second = {**doc["senders"][0], "phone_number": "+14155550999"}
    repo.customer(CID, {**doc, "senders": [doc["senders"][0], second]})
    assert cli("apply", "--auto-approve").code == 0
    repo.edit(FILE, lambda d: d.update(senders=d["senders"][:1], templates=d["templates"][:1]))
    add_content_by_hand(emulator, "console_hello")
    return [
        "customer.clinic-one/sender.whatsapp:+14155550999",
        "customer.clinic-one/template.recall_offer[en]",
        "customer.clinic-one/template.console_hello[en]",
    ]


def test_undeclared_objects_are_shown_in_every_format_and_are_not_changes(undeclared, cli):
    text = cli("plan", "--detailed-exitcode")
    assert text.code == 0, text.out + text.err
    for address in undeclared:
        assert f"? {address}: " in text.out
    assert "kept because prune is off" in text.out
    assert text.out.rstrip().endswith("3 undeclared kept.")

    markdown = cli("plan", "--format", "markdown", "--detailed-exitcode")
    assert markdown.code == 0
    for address in undeclared:
        assert pre(f"undeclared: {address}: ") in markdown.out  # [ and ] as entities
    assert "3 undeclared kept" in markdown.out

    doc = json.loads(cli("plan", "--format", "json").out)
    assert doc["changes"] == []
    assert doc["summary"]["undeclared"] == 3
    assert doc["summary"]["has_changes"] is False
    kept = {n["address"] for n in doc["notes"] if n["kind"] == "undeclared"}
    assert kept == set(undeclared)


def test_prune_deletes_every_undeclared_object_and_then_there_is_none(undeclared, cli, emulator):
    plan = cli("plan", "--prune", "--format", "json")
    deletes = {c["address"] for c in json.loads(plan.out)["changes"] if c["action"] == "delete"}
    assert deletes == set(undeclared)
    applied = cli("apply", "--auto-approve", "--prune")
    assert applied.code == 0, applied.out + applied.err
    assert [s["sender_id"] for s in senders_of(emulator, CID)] == ["whatsapp:+14155550001"]
    assert "console_hello" not in by_name(emulator)
    again = cli("plan", "--prune", "--detailed-exitcode")
    assert again.code == 0, again.out
    assert "undeclared" not in again.out


def test_a_protected_customer_loses_nothing_to_prune(undeclared, repo, cli, emulator):
    repo.edit(FILE, lambda d: d.update(protect=True))
    senders = len(senders_of(emulator, CID))
    contents = len(contents_of(emulator, CID))
    plan = cli("plan", "--prune", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    for address in undeclared:
        assert f"= {address}: " in plan.out
    assert "`protect: true` guards it (prune would delete it)" in plan.out
    assert cli("apply", "--auto-approve", "--prune").code == 0
    assert (len(senders_of(emulator, CID)), len(contents_of(emulator, CID))) == (senders, contents)
    assert cli("plan", "--prune", "--detailed-exitcode").code == 0
    doc = json.loads(cli("plan", "--prune", "--format", "json").out)
    assert doc["summary"]["protected"] == 3
    assert {n["address"] for n in doc["notes"] if n["kind"] == "protected"} == set(undeclared)


# --- item 7: an approved template's name is blocked for 30 days after its deletion -----------


def test_pruning_an_approved_template_blocks_its_name_and_a_redeclaration_waits(
    live_v1, repo, cli, emulator
):
    recall = repo.read(FILE)["templates"][RECALL]
    repo.edit(FILE, lambda d: d["templates"].pop(RECALL))
    for fmt in ("text", "markdown", "json"):
        shown = cli("plan", "--prune", "--format", fmt).out
        said = "WhatsApp then blocks the name recall_offer for 30 days"
        assert (pre(said) if fmt == "markdown" else said) in shown, fmt
    applied = cli("apply", "--auto-approve", "--prune")
    assert applied.code == 0, applied.out + applied.err
    assert "recall_offer" not in by_name(emulator)
    assert_settled(cli)

    repo.edit(FILE, lambda d: d["templates"].append(recall))  # re-declared within 30 days
    (record,) = [c for c in by_name(emulator) if c.startswith("wa-sync:deleted:recall_offer:")]
    assert by_name(emulator)[record]["approval"]["status"] == "unsubmitted"
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err  # blocked is not a change
    assert "! customer.clinic-one/template.recall_offer[en]" in plan.out
    until = datetime.now(UTC) + timedelta(days=30)
    assert f"release the name recall_offer by {until:%Y-%m-%d}" in plan.out
    assert "1 blocked." in plan.out

    emulator.clear_request_log()
    assert cli("apply", "--auto-approve").code == 0
    writes = estate_writes(emulator.request_log())
    assert writes == []  # never attempted


def test_the_record_of_a_deleted_name_is_no_template_anywhere(live_v1, repo, cli, emulator):
    repo.edit(FILE, lambda d: d["templates"].pop(RECALL))
    assert cli("apply", "--auto-approve", "--prune").code == 0
    output = json.loads(cli("output", "--format", "json").out)
    assert "wa-sync:deleted" not in json.dumps(output)
    plan = cli("plan", "--prune", "--detailed-exitcode")
    assert plan.code == 0, plan.out
    assert "wa-sync:deleted" not in plan.out


def test_pruning_a_console_template_blocks_its_whatsapp_name_not_its_friendly_name(
    live_v1, repo, cli, emulator
):
    """A template made in the Console may have a FriendlyName other than the name it was
    submitted under; WhatsApp blocks the latter. The record of the deletion held the
    FriendlyName, so a template declared under the blocked name was attempted."""
    sid = add_content_by_hand(emulator, "Spring Promo")
    account = account_of(emulator, CID)
    submitted = requests.post(
        f"{emulator.url}/v1/Content/{sid}/ApprovalRequests/whatsapp",
        json={"name": "spring_promo", "category": "MARKETING"},
        auth=(account["sid"], account["auth_token"]),
        timeout=10,
    )
    assert submitted.status_code == 201, submitted.text
    emulator.approve(sid)
    pruned = cli("apply", "--auto-approve", "--prune")
    assert pruned.code == 0, pruned.out + pruned.err
    assert "Spring Promo" not in by_name(emulator)

    promo = {"name": "spring_promo", "language": "en", "category": "MARKETING"}
    promo["body"] = "Hi {{1}}, spring is here: 10% off your next visit."
    promo["variables"] = {"1": "Maria"}
    repo.edit(FILE, lambda d: d["templates"].append(promo))
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err  # blocked is not a change
    assert "! customer.clinic-one/template.spring_promo[en]" in plan.out
    emulator.clear_request_log()
    assert cli("apply", "--auto-approve").code == 0
    assert estate_writes(emulator.request_log()) == []  # never attempted


# --- item 8: a sender left CREATING does not block submissions ------------------------------


def estate_shape(emulator, cid: str) -> tuple:
    """A customer's state without its SIDs and numbers: what an apply leaves."""
    senders = sorted(s["status"] for s in senders_of(emulator, cid))
    contents = sorted(
        (c["friendly_name"], c["language"], c["approval"]["status"], c["approval"]["name"])
        for c in contents_of(emulator, cid)
    )
    return senders, contents


def test_an_apply_stopped_after_the_sender_resumes_to_the_uninterrupted_state(repo, cli, emulator):
    emulator.settings.sender_online_after = 3600  # senders stay CREATING
    repo.customer("clinic-one", customer_doc(1))
    repo.customer("clinic-two", customer_doc(2))
    # one customer's apply stops after its sender and contents, before any submission
    emulator.fail_next("POST", r"/ApprovalRequests/whatsapp$", status=400)
    stopped = cli("apply", "--auto-approve", "--parallelism", "1")
    assert stopped.code == 1
    assert "Apply finished with failures: 13 done, 1 failed, 2 skipped." in stopped.out
    (sender,) = senders_of(emulator, CID)  # clinic-one runs first
    assert sender["status"] == "CREATING"
    assert {c["approval"]["status"] for c in contents_of(emulator, CID)} == {"unsubmitted"}

    plan = cli("plan")
    assert "3 to submit; 0 blocked." in plan.out
    resumed = cli("apply", "--auto-approve")
    assert resumed.code == 0, resumed.out + resumed.err
    # clinic-one now as clinic-two, whose apply was never stopped
    uninterrupted = estate_shape(emulator, "clinic-two")
    assert estate_shape(emulator, CID) == uninterrupted
    assert uninterrupted[0] == ["CREATING"]
    assert {status for _, _, status, _ in uninterrupted[1]} == {"received"}
    assert_settled(cli)


# --- item 14: where `protect` may be written ----------------------------------------------


def _protect_customer(d):
    d["protect"] = True


def _protect_sender(d):
    d["senders"][0]["protect"] = True


def _protect_use(d):
    d["templates"][0]["protect"] = True


def _protect_inline(d):
    d["templates"][RECALL]["protect"] = False


def _protect_onboarding(d):
    d["onboarding"]["protect"] = True


def _protect_profile(d):
    d["senders"][0]["profile"]["protect"] = True


def _protect_as_text(d):
    d["protect"] = "yes"


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (_protect_customer, ""),
        (_protect_sender, ""),
        (_protect_use, ""),
        (_protect_inline, ""),
        (_protect_onboarding, "onboarding.protect: unknown key 'protect'"),
        (_protect_profile, "senders[0].profile.protect: unknown key 'protect'"),
        (_protect_as_text, "protect: must be true or false"),
    ],
    ids=["customer", "sender", "use", "inline", "onboarding", "profile", "not-a-boolean"],
)
def test_validate_accepts_protect_on_a_customer_sender_or_template_only(repo, cli, edit, error):
    repo.customer(CID, customer_doc(1))
    repo.edit(FILE, edit)
    result = cli("validate")
    assert result.code == (1 if error else 0), result.out + result.err
    assert error in result.out + result.err


def test_validate_refuses_protect_in_a_library_template(repo, cli):
    repo.customer(CID, customer_doc(1))
    repo.edit("templates/appointment_reminder.yaml", lambda d: d.update(protect=True))
    result = cli("validate")
    assert result.code == 1
    assert "templates/appointment_reminder.yaml" in result.out + result.err
    assert "unknown key 'protect'" in result.out + result.err
