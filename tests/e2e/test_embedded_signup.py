"""The Tech Provider flow (SPEC §1.1, issue #19.1): embedded_signup customers next to
legacy ones, through the CLI against the emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from twilio.rest import Client
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

from tests.e2e.helpers import ISV, customer_doc, estate_writes
from tests.e2e.test_reconcile import contents_of, senders_of
from tests.emulator.helpers import EmulatorHttpClient
from wa_sync.schemas import load_schema

APPROVED_ISV = {"isv": {**ISV["isv"], "tech_provider": {"status": "approved"}}}


def signup_doc(n: int = 1, *, completed: bool = True, **overrides: Any) -> dict[str, Any]:
    """An embedded_signup customer: no ToS, access request, customer SID or invitation."""
    doc = customer_doc(n)
    del doc["customer_account_sid"]
    doc["onboarding"] = {"flow": "embedded_signup"}
    if completed:
        doc["onboarding"].update(signup="completed", signup_date="2026-11-30")
    else:
        del doc["waba_id"]
    doc.update(overrides)
    return doc


@pytest.fixture
def isv(repo):
    repo.write("wa-sync.yaml", APPROVED_ISV)
    return repo


def plan_json(cli) -> dict:
    result = cli("plan", "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_completed_signup_plans_sender_and_templates_with_nothing_blocked(isv, cli, emulator):
    isv.customer("shop", signup_doc(1))
    plan = plan_json(cli)
    actions = {c["address"]: c["action"] for c in plan["changes"]}
    assert actions["customer.shop/sender.whatsapp:+14155550001"] == "create"
    assert "blocked" not in actions.values()
    assert sum(a == "submit" for a in actions.values()) == 3  # two languages + recall_offer

    assert cli("apply", "--auto-approve").code == 0
    assert [s["status"] for s in senders_of(emulator, "shop")] == ["ONLINE"]
    assert {c["approval"]["status"] for c in contents_of(emulator, "shop")} == {"received"}


def test_without_completed_signup_the_sender_is_blocked_at_step_2_by_the_customer(isv, cli):
    isv.customer("shop", signup_doc(1, completed=False))
    plan = plan_json(cli)
    sender = next(c for c in plan["changes"] if "sender." in c["address"])
    assert sender["action"] == "blocked"
    assert sender["blocked_by"]["step"] == 2
    assert sender["blocked_by"]["name"] == "Embedded Signup"
    assert sender["blocked_by"]["actor"] == "customer"
    submits = [c for c in plan["changes"] if c["address"].endswith("[en]") and c["phase"] == 4]
    assert all(c["action"] == "blocked" for c in submits)
    text = cli("plan").out
    assert "step 2 (Embedded Signup): customer must complete Meta's Embedded Signup" in text


@pytest.mark.parametrize(
    ("tech_provider", "actor", "action"),
    [
        ({}, "ISV", "apply to Twilio's WhatsApp Tech Provider Program"),
        ({"status": "pending"}, "Twilio/Meta", "approve the ISV as a Tech Provider"),
    ],
    ids=["not-applied", "pending"],
)
def test_an_isv_not_yet_approved_as_tech_provider_blocks_at_step_0(
    repo, cli, tech_provider, actor, action
):
    repo.write("wa-sync.yaml", {"isv": {**ISV["isv"], "tech_provider": tech_provider}})
    repo.customer("shop", signup_doc(1))
    plan = plan_json(cli)
    jsonschema.Draft202012Validator(load_schema("plan")).validate(plan)
    sender = next(c for c in plan["changes"] if "sender." in c["address"])
    assert sender["blocked_by"]["step"] == 0
    assert sender["blocked_by"]["actor"] == actor
    assert sender["blocked_by"]["action"].startswith(action)


def test_settings_onboarding_flow_is_the_default_for_customers_naming_none(repo, cli):
    repo.write("wa-sync.yaml", {**APPROVED_ISV, "settings": {"onboarding_flow": "embedded_signup"}})
    doc = signup_doc(1)
    doc["onboarding"] = {"signup": "completed"}
    repo.customer("shop", doc)
    legacy = customer_doc(2)
    legacy["onboarding"]["flow"] = "legacy"
    repo.customer("clinic", legacy)
    actions = {c["address"]: c["action"] for c in plan_json(cli)["changes"]}
    assert actions["customer.shop/sender.whatsapp:+14155550001"] == "create"
    assert actions["customer.clinic/sender.whatsapp:+14155550002"] == "create"


@pytest.mark.parametrize(
    ("flow", "key", "value", "owner"),
    [
        ("embedded_signup", "terms_accepted", True, "legacy"),
        ("embedded_signup", "access_request", "approved", "legacy"),
        ("embedded_signup", "invitation", "approved", "legacy"),
        ("legacy", "signup", "completed", "embedded_signup"),
        ("legacy", "signup_date", "2026-11-30", "embedded_signup"),
    ],
)
def test_a_key_of_the_other_flow_is_an_error_naming_the_flow(repo, cli, flow, key, value, owner):
    doc = signup_doc(1) if flow == "embedded_signup" else customer_doc(1)
    doc["onboarding"] = {**doc["onboarding"], "flow": flow, key: value}
    path = repo.customer("shop", doc)
    result = cli("validate", "--format", "json")
    assert result.code == 1
    problems = json.loads(result.out)["errors"]
    (problem,) = [p for p in problems if p["key"] == f"onboarding.{key}"]
    assert f"belongs to the {owner} onboarding flow" in problem["message"]
    assert f"with the {flow} flow (onboarding.flow)" in problem["message"]
    lines = path.read_text().splitlines()
    assert lines[problem["line"] - 1].strip().startswith(f"{key}:")


def test_customer_account_sid_is_an_error_for_an_embedded_signup_customer(isv, cli):
    doc = signup_doc(1, customer_account_sid="AC" + "1" * 32)
    isv.customer("shop", doc)
    result = cli("validate")
    assert result.code == 1
    assert "customer_account_sid belongs to the legacy onboarding flow" in result.out + result.err


def test_a_legacy_estate_is_unchanged_by_the_tech_provider_settings(repo, cli):
    """The same legacy customers plan the same with or without a Tech Provider ISV."""
    repo.write("wa-sync.yaml", ISV)
    repo.customer("clinic", customer_doc(1))
    before = plan_json(cli)
    repo.write("wa-sync.yaml", APPROVED_ISV)
    after = plan_json(cli)
    assert after["changes"] == before["changes"]


def test_status_walks_the_embedded_signup_steps(isv, cli, emulator):
    isv.customer("shop", signup_doc(1, completed=False))
    assert cli("apply", "--auto-approve").code == 0
    status = json.loads(cli("status", "--format", "json").out)
    (shop,) = status["customers"]
    assert shop["flow"] == "embedded_signup"
    assert shop["steps"] == 6
    assert shop["stage"]["step"] == 2
    assert shop["stage"]["name"] == "Embedded Signup"
    assert shop["stage"]["actor"] == "customer"
    row = next(line for line in cli("status").out.splitlines() if line.startswith("shop "))
    assert row.split()[1:4] == ["2/6", "Embedded", "Signup"]

    isv.edit("customers/shop.yaml", lambda d: d.update(signup_doc(1)))
    assert cli("apply", "--auto-approve").code == 0
    stage = json.loads(cli("status", "--format", "json").out)["customers"][0]["stage"]
    assert (stage["step"], stage["name"], stage["waiting"]) == (6, "message templates", True)


def test_access_request_says_an_embedded_signup_customer_has_none(isv, cli):
    isv.customer("shop", signup_doc(1))
    result = cli("access-request", "shop")
    assert result.code == 0, result.err
    assert "has no access request" in result.out
    assert "Embedded Signup" in result.out
    doc = json.loads(cli("access-request", "shop", "--format", "json").out)
    assert doc["flow"] == "embedded_signup"
    assert doc["fields"] == dict.fromkeys(
        ["Email", "Facebook Business Manager ID", "Twilio Account SID", "Alternate Account SID"]
    )  # no form, so no values: the same shape as a legacy customer's (test_operator.py)


def test_status_counts_the_embedded_signups_of_the_last_7_days(isv, cli):
    today = datetime.now(UTC).date()
    for n, ago in enumerate((0, 6, 7, 30)):
        doc = signup_doc(n + 1)
        doc["onboarding"]["signup_date"] = (today - timedelta(days=ago)).isoformat()
        isv.customer(f"shop-{n}", doc)
    status = json.loads(cli("status", "--format", "json").out)
    assert status["signups"] == {"last_7_days": 2, "limit": 10}
    assert "Embedded Signups in the last 7 days: 2 of the 10 Meta allows." in cli("status").out


def test_101_template_creations_in_one_apply_make_100_creates_and_one_waiting(isv, cli, emulator):
    doc = signup_doc(1)
    doc["templates"] = [
        {"name": f"offer_{n:03d}", "language": "en", "category": "UTILITY",
         "body": f"Hi {{{{1}}}}, your order {n} has shipped.", "variables": {"1": "Maria"}}
        for n in range(101)
    ]  # fmt: skip
    isv.customer("shop", doc)
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.err
    assert len(contents_of(emulator, "shop")) == 100
    assert "  … 1 waiting on Twilio or Meta (1 template); -v lists them" in applied.out
    assert "offer_100[en]" not in applied.out  # counted; `apply -v` lists it, as `plan -v`
    assert "202 done, 0 failed, 0 skipped." in applied.out  # subaccount, sender, 100 x 2
    again = cli("-v", "plan", "--detailed-exitcode")  # still within the hour: nothing to do yet
    assert again.code == 0, again.out
    assert "offer_100[en]: waits: Meta allows 100 template creations" in again.out


def test_a_number_moved_between_customers_is_never_deregistered_and_registered_at_once(
    isv, cli, emulator
):
    isv.customer("shop", signup_doc(1))
    isv.customer("other", signup_doc(2))
    assert cli("apply", "--auto-approve").code == 0
    moved = signup_doc(1)["senders"][0]
    isv.edit("customers/shop.yaml", lambda d: d.update(senders=[]))
    isv.edit("customers/other.yaml", lambda d: d["senders"].append(moved))
    number = "whatsapp:+14155550001"

    kept = cli("plan")  # prune off: it stays with shop, so other cannot register it
    assert f"{number} is registered in customer shop's subaccount" in kept.out
    assert "deregister it there first" in kept.out
    assert f"+ customer.other/sender.{number}" not in kept.out

    pruned = json.loads(cli("plan", "--prune", "--format", "json").out)
    actions = {(c["address"], c["action"]) for c in pruned["changes"]}
    assert (f"customer.shop/sender.{number}", "delete") in actions
    assert (f"customer.other/sender.{number}", "create") not in actions
    assert cli("apply", "--prune", "--auto-approve").code == 0
    assert senders_of(emulator, "shop") == []
    assert cli("apply", "--auto-approve").code == 0  # the next apply registers it
    assert number in [s["sender_id"] for s in senders_of(emulator, "other")]


def test_templates_wait_for_a_sender_whose_registration_is_held_back(isv, cli, emulator):
    """A new customer whose only sender is another customer's number: its registration
    is held back (a number registers once), so its templates are created but not
    submitted (SPEC §1.1: templates come after the sender), and submitted once it is."""
    isv.customer("shop", signup_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    isv.edit("customers/shop.yaml", lambda d: d.update(senders=[]))
    isv.customer("newshop", {**signup_doc(2), "senders": signup_doc(1)["senders"]})

    doc = json.loads(cli("plan", "--format", "json").out)
    submits = [c for c in doc["changes"] if c["customer"] == "newshop" and c["phase"] == "approval"]
    assert submits
    assert {c["action"] for c in submits} == {"blocked"}, submits
    assert {c["blocked_by"]["step"] for c in submits} == {3}
    assert "which this plan holds back" in submits[0]["reason"]
    emulator.clear_request_log()
    assert cli("apply", "--auto-approve").code == 0
    submitted = [e for e in emulator.request_log() if "ApprovalRequests" in e["template"]]
    assert submitted == []
    made = contents_of(emulator, "newshop")
    assert len(made) == len(contents_of(emulator, "shop"))
    assert {c["approval"]["status"] for c in made} == {"unsubmitted"}, made

    assert cli("apply", "--prune", "--auto-approve").code == 0  # shop lets the number go
    assert cli("apply", "--auto-approve").code == 0
    assert [s["sender_id"] for s in senders_of(emulator, "newshop")] == ["whatsapp:+14155550001"]
    again = json.loads(cli("plan", "--format", "json").out)
    assert again["changes"] == [], again["changes"]
    for content in contents_of(emulator, "newshop"):
        assert content["approval"]["status"] != "unsubmitted", content


def test_a_meta_recategorisation_is_a_drift_note_and_no_write(isv, cli, emulator):
    isv.customer("shop", signup_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    for content in contents_of(emulator, "shop"):
        emulator.approve(content["sid"])
    recall = next(c for c in contents_of(emulator, "shop") if c["friendly_name"] == "recall_offer")
    emulator.recategorise(recall["sid"], "UTILITY")  # declared MARKETING
    emulator.clear_request_log()

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0  # drift that no apply can undo is not a change
    assert "recall_offer is UTILITY in WhatsApp, and the file declares MARKETING" in plan.out
    doc = json.loads(cli("plan", "--format", "json").out)
    jsonschema.Draft202012Validator(load_schema("plan")).validate(doc)
    kinds = {n["address"]: n["kind"] for n in doc["notes"]}
    assert kinds["customer.shop/template.recall_offer[en]"] == "recategorised"
    assert cli("apply", "--auto-approve").code == 0
    assert estate_writes(emulator.request_log()) == []

    isv.write("wa-sync.yaml", {**APPROVED_ISV, "settings": {"on_category_change": "fail"}})
    failed = cli("plan")
    assert failed.code == 1
    assert "recall_offer is UTILITY in WhatsApp" in failed.out  # the plan is shown
    told = "1 template(s) with another category in WhatsApp than declared, and settings."
    assert told + "on_category_change is fail: customer.shop/template.recall_offer[en]" in (
        failed.err
    )
    isv.edit("customers/shop.yaml", lambda d: d["templates"][1].update(category="UTILITY"))
    accepted = cli("plan", "--detailed-exitcode")
    assert accepted.code == 0, accepted.err
    assert "in WhatsApp, and the file declares" not in accepted.out


def test_ignored_profile_fields_edited_in_whatsapp_manager_stay(isv, cli, emulator):
    doc = signup_doc(1)
    doc["senders"][0]["ignore"] = ["profile.about"]
    isv.customer("shop", doc)
    assert cli("apply", "--auto-approve").code == 0
    (sender,) = senders_of(emulator, "shop")
    account = next(a for a in emulator.state()["accounts"] if a["friendly_name"] == "wa-sync:shop")
    owner = Client(account["sid"], account["auth_token"],
                   http_client=EmulatorHttpClient(emulator.url))  # fmt: skip
    edit = ChannelsSenderList.MessagingV2ChannelsSenderRequestsUpdate(
        {"profile": {"about": "Edited in WhatsApp Manager"}}
    )
    owner.messaging.v2.channels_senders(sender["sid"]).update(edit)

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out
    assert "profile.about" not in plan.out
    assert "changed outside wa-sync in profile.about" in cli("plan", "-v").out

    isv.edit(
        "customers/shop.yaml", lambda d: d["senders"][0]["profile"].update(address="2 Dock St")
    )
    assert cli("apply", "--auto-approve").code == 0
    (after,) = senders_of(emulator, "shop")
    assert after["profile"]["address"] == "2 Dock St"
    assert after["profile"]["about"] == "Edited in WhatsApp Manager"  # not sent back


def test_ignore_names_only_fields_a_customer_can_edit(isv, cli):
    doc = signup_doc(1)
    doc["senders"][0]["ignore"] = ["webhook.callback_url"]
    isv.customer("shop", doc)
    result = cli("validate")
    assert result.code == 1
    assert "senders[0].ignore[0]" in result.out + result.err
