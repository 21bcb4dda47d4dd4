"""plan and apply end to end: the CLI, the real twilio SDK over HTTP, the emulator."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.e2e.helpers import customer_doc, estate_writes


def managed_accounts(emu) -> list[dict]:
    return [a for a in emu.state()["accounts"] if a["friendly_name"].startswith("wa-sync:")]


def account_of(emu, cid: str) -> dict:
    (account,) = [a for a in emu.state()["accounts"] if a["friendly_name"] == f"wa-sync:{cid}"]
    return account


def contents_of(emu, cid: str) -> list[dict]:
    return emu.state()["contents"].get(account_of(emu, cid)["sid"], [])


def senders_of(emu, cid: str) -> list[dict]:
    return emu.state()["senders"].get(account_of(emu, cid)["sid"], [])


def content_names(emu, cid: str) -> Counter:
    return Counter((c["friendly_name"], c["language"]) for c in contents_of(emu, cid))


def approve_all(emu) -> None:
    for contents in emu.state()["contents"].values():
        for content in contents:
            if content["approval"]["status"] in ("received", "pending"):
                emu.approve(content["sid"])


@pytest.fixture
def onboarded(repo):
    repo.customer("clinic-one", customer_doc(1))
    repo.customer("clinic-two", customer_doc(2))
    return repo


def test_fresh_estate_plans_creates_and_apply_makes_them(onboarded, cli, emulator):
    plan = cli("plan")
    assert plan.code == 0, plan.err
    assert "+ customer.clinic-one" in plan.out
    assert "customer.clinic-one/template.appointment_reminder[es]" in plan.out
    # per customer: subaccount, sender, 3 contents; 3 submissions
    assert "Plan: 10 to create, 0 to update, 0 to replace, 0 to delete, 6 to submit" in plan.out

    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    assert "Apply complete: 16 done, 0 failed, 0 skipped." in applied.out
    assert len(managed_accounts(emulator)) == 2
    for cid in ("clinic-one", "clinic-two"):
        assert content_names(emulator, cid) == Counter(
            {
                ("appointment_reminder", "en"): 1,
                ("appointment_reminder", "es"): 1,
                ("recall_offer", "en"): 1,
            }
        )
        (sender,) = senders_of(emulator, cid)
        assert sender["sender_id"].startswith("whatsapp:+1415555")
        assert all(c["approval"]["status"] == "received" for c in contents_of(emulator, cid))


def test_second_plan_after_apply_says_no_changes(onboarded, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    assert "No changes." in again.out
    approve_all(emulator)
    assert cli("plan", "--detailed-exitcode").code == 0


def test_no_op_plan_reads_two_listings_per_customer_and_nothing_else(onboarded, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0
    emulator.clear_request_log()
    assert cli("plan").code == 0
    counts = emulator.request_counts()
    assert counts == {
        "GET /2010-04-01/Accounts.json": 1,
        "GET /v2/Channels/Senders": 2,
        "GET /v1/ContentAndApprovals": 2,
    }


def test_detailed_exitcode_is_2_with_changes(onboarded, cli):
    assert cli("plan", "--detailed-exitcode").code == 2


def test_profile_change_is_one_update_and_nothing_else(onboarded, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0
    approve_all(emulator)
    onboarded.edit(
        "customers/clinic-one.yaml",
        lambda d: d["senders"][0]["profile"].update(about="Gentle dentistry since 1990"),
    )
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to submit" in plan.out
    assert "~ customer.clinic-one/sender.whatsapp:+14155550001" in plan.out
    assert "Gentle dentistry since 1990" in plan.out
    assert cli("apply", "--auto-approve").code == 0
    (sender,) = senders_of(emulator, "clinic-one")
    assert sender["profile"]["about"] == "Gentle dentistry since 1990"
    assert cli("plan", "--detailed-exitcode").code == 0


def test_approved_body_change_rolls_out_v2_and_keeps_the_old_one(onboarded, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0
    approve_all(emulator)
    onboarded.edit(
        "customers/clinic-one.yaml",
        lambda d: d["templates"][1].update(
            body="Hi {{1}}, your check-up is due. Book now, 10% off."
        ),
    )
    plan = cli("plan")
    assert "Plan: 0 to create, 0 to update, 1 to replace, 0 to delete, 1 to submit" in plan.out
    assert "-/+ customer.clinic-one/template.recall_offer[en]" in plan.out
    assert cli("apply", "--auto-approve").code == 0
    names = content_names(emulator, "clinic-one")
    assert names[("recall_offer", "en")] == 1
    assert names[("recall_offer_v2", "en")] == 1
    statuses = {
        c["friendly_name"]: c["approval"]["status"] for c in contents_of(emulator, "clinic-one")
    }
    assert statuses["recall_offer"] == "approved"
    assert statuses["recall_offer_v2"] == "received"
    assert cli("plan", "--detailed-exitcode").code == 0


def test_blocked_gating_creates_nothing_beyond_the_subaccount(repo, cli, emulator):
    repo.customer("newbie", customer_doc(3, onboarded=False))
    plan = cli("plan")
    assert "! customer.newbie/sender.whatsapp:+14155550003" in plan.out
    assert "step 2" in plan.out or "step 5" in plan.out
    assert cli("apply", "--auto-approve").code == 0
    assert senders_of(emulator, "newbie") == []
    assert all(c["approval"]["status"] == "unsubmitted" for c in contents_of(emulator, "newbie"))


def test_saved_plan_applies_and_stale_plans_are_refused_without_writes(onboarded, cli, emulator):
    planfile = onboarded.root / "plan.json"
    assert cli("plan", "--out", str(planfile)).code == 0
    saved = json.loads(planfile.read_text())
    assert saved["format_version"] == 1

    # config edited since the plan was made
    onboarded.edit("customers/clinic-two.yaml", lambda d: d.update(name="Clinic Two Renamed"))
    onboarded.edit(
        "customers/clinic-two.yaml",
        lambda d: d["senders"][0]["profile"].update(about="Changed after the plan"),
    )
    emulator.clear_request_log()
    stale = cli("apply", str(planfile))
    assert stale.code == 1
    assert "stale" in stale.err
    assert not estate_writes(emulator.request_log())

    # a fresh plan applies
    assert cli("plan", "--out", str(planfile)).code == 0
    assert cli("apply", str(planfile)).code == 0

    # live state changed since the plan was made
    onboarded.edit(
        "customers/clinic-one.yaml",
        lambda d: d["senders"][0]["profile"].update(about="Another change"),
    )
    assert cli("plan", "--out", str(planfile)).code == 0
    emulator.approve(contents_of(emulator, "clinic-one")[0]["sid"])
    emulator.clear_request_log()
    stale = cli("apply", str(planfile))
    assert stale.code == 1
    assert "Twilio's live state changed for clinic-one" in stale.err
    assert not estate_writes(emulator.request_log())


def test_a_plan_printed_as_json_carries_the_digests_a_saved_one_does(onboarded, cli, tmp_path):
    """Only a plan shown as text or markdown goes without them (they are what a saved
    plan is checked against)."""
    planfile = tmp_path / "plan.json"
    assert cli("plan", "--out", str(planfile)).code == 0
    saved = json.loads(planfile.read_text())
    printed = json.loads(cli("plan", "--format", "json").out)
    assert saved["config_digest"].startswith("sha256:")
    assert sorted(saved["live_digests"]) == ["clinic-one", "clinic-two"]
    assert (printed["config_digest"], printed["live_digests"]) == (
        saved["config_digest"],
        saved["live_digests"],
    )


def test_customer_and_shard_limit_the_work(repo, cli, emulator):
    for n in range(1, 7):
        repo.customer(f"clinic-{n}", customer_doc(n))
    only = cli("apply", "--auto-approve", "--customer", "clinic-3")
    assert only.code == 0
    assert [a["friendly_name"] for a in managed_accounts(emulator)] == ["wa-sync:clinic-3"]

    seen = set()
    for k in (1, 2, 3):
        plan = cli("plan", "--format", "json", "--shard", f"{k}/3")
        assert plan.code == 0
        shard_customers = set(json.loads(plan.out)["customers"])
        assert not shard_customers & seen
        seen |= shard_customers
    assert seen == {f"clinic-{n}" for n in range(1, 7)}


def test_unknown_customer_is_a_usage_error(onboarded, cli):
    result = cli("plan", "--customer", "clinic-on")
    assert result.code == 1
    assert "Did you mean 'clinic-one'?" in result.err


def test_apply_without_a_terminal_refuses_without_auto_approve(onboarded, cli, emulator):
    result = cli("apply")
    assert result.code == 1
    assert "--auto-approve" in result.err
    assert managed_accounts(emulator) == []


def test_apply_on_a_terminal_asks_for_yes(onboarded, cli, emulator):
    assert cli("apply", stdin="no\n", tty=True).code == 1
    assert managed_accounts(emulator) == []
    assert cli("apply", stdin="yes\n", tty=True).code == 0
    assert len(managed_accounts(emulator)) == 2


def test_prune_deletes_undeclared_templates_past_threshold_only_when_allowed(repo, cli, emulator):
    doc = customer_doc(1)
    doc["templates"] = doc["templates"] + [
        {
            "name": f"promo_{i}",
            "language": "en",
            "category": "MARKETING",
            "body": f"Hello {{{{1}}}}, offer number {i} is waiting for you this week.",
            "variables": {"1": "Maria"},
        }
        for i in range(9)
    ]
    repo.customer("clinic-one", doc)
    assert cli("apply", "--auto-approve").code == 0
    repo.edit("customers/clinic-one.yaml", lambda d: d.update(templates=d["templates"][:4]))

    without = cli("plan", "--detailed-exitcode")
    assert without.code == 0  # prune is off: nothing to delete
    refused = cli("plan", "--prune")
    assert refused.code == 1
    assert "clinic-one: 7 deletions are 54% of 13 managed objects" in refused.err
    assert "--allow-mass-delete" in refused.err
    allowed = cli("apply", "--auto-approve", "--prune", "--allow-mass-delete")
    assert allowed.code == 0, allowed.out + allowed.err
    promos = {name for name, _ in content_names(emulator, "clinic-one") if name.startswith("promo")}
    assert promos == {"promo_0", "promo_1"}  # the two still declared; the other 7 are gone


def test_prune_deletes_an_undeclared_sender_and_keeps_the_rest(repo, cli, emulator):
    doc = customer_doc(1)
    second = {**doc["senders"][0], "phone_number": "+14155550999"}
    repo.customer("clinic-one", {**doc, "senders": [doc["senders"][0], second]})
    assert cli("apply", "--auto-approve").code == 0
    contents = sorted(c["sid"] for c in contents_of(emulator, "clinic-one"))
    repo.edit("customers/clinic-one.yaml", lambda d: d.update(senders=d["senders"][:1]))

    plan = cli("plan", "--prune")
    assert "- customer.clinic-one/sender.whatsapp:+14155550999" in plan.out
    assert "0 to create, 0 to update, 0 to replace, 1 to delete" in plan.out
    applied = cli("apply", "--auto-approve", "--prune")
    assert applied.code == 0, applied.out + applied.err
    assert [s["sender_id"] for s in senders_of(emulator, "clinic-one")] == ["whatsapp:+14155550001"]
    assert sorted(c["sid"] for c in contents_of(emulator, "clinic-one")) == contents


def test_no_credentials_names_both_options(onboarded, cli):
    result = cli("plan", environ={})
    assert result.code == 1
    assert "TWILIO_ACCOUNT_SID" in result.err
    assert "--emulator" in result.err


def test_tokens_never_appear_in_any_output_or_file(onboarded, cli, emulator, tmp_path):
    planfile = tmp_path / "plan.json"
    report = tmp_path / "report.jsonl"
    outputs = [
        cli("plan", "--out", str(planfile)),
        cli("plan", "--format", "markdown"),
        cli("plan", "--format", "json"),
        cli("apply", "--auto-approve", "--report", str(report), "-v"),
        cli("plan", "-vv"),
    ]
    tokens = [emulator.parent_token] + [a["auth_token"] for a in emulator.state()["accounts"]]
    assert len(tokens) == 3
    texts = [o.out + o.err for o in outputs] + [planfile.read_text(), report.read_text()]
    for token in tokens:
        for text in texts:
            assert token not in text
