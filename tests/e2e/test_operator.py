"""status, access-request, import and output, through the CLI against the emulator."""

from __future__ import annotations

import json

import pytest

from tests.e2e.helpers import customer_doc
from tests.e2e.test_reconcile import account_of, approve_all, contents_of

ISV = {
    "isv": {
        "name": "Example Integrations Ltd",
        "email": "onboarding@example-isv.com",
        "facebook_business_manager_id": "100000000000001",
    }
}


@pytest.fixture
def estate(repo):
    repo.write("wa-sync.yaml", ISV)
    repo.customer("clinic-one", customer_doc(1))
    repo.customer("newbie", customer_doc(3, onboarded=False))
    return repo


# --- status ----------------------------------------------------------------------


def test_status_shows_stage_next_action_and_who(estate, cli, emulator):
    before = json.loads(cli("status", "--format", "json").out)
    stages = {c["id"]: c["stage"] for c in before["customers"]}
    assert stages["clinic-one"]["step"] == 1
    assert stages["clinic-one"]["actor"] == "ISV"

    assert cli("apply", "--auto-approve").code == 0
    after = json.loads(cli("status", "--format", "json").out)
    by_id = {c["id"]: c for c in after["customers"]}
    assert by_id["newbie"]["stage"]["step"] == 2
    assert by_id["newbie"]["stage"]["actor"] == "customer"
    assert by_id["clinic-one"]["stage"] == {
        "step": 8,
        "name": "message templates",
        "actor": "Twilio/Meta",
        "waiting": True,
        "next_action": "wait for WhatsApp to review the templates",
    }
    assert by_id["clinic-one"]["senders"][0]["status"] == "ONLINE"
    assert by_id["clinic-one"]["templates"] == {"received": 3}

    text = cli("status")
    assert text.code == 0
    assert "clinic-one" in text.out
    assert "0 of 2 customers fully onboarded." in text.out


def test_status_quotes_rejection_reasons_and_counts_onboarded(estate, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0
    first, *rest = contents_of(emulator, "clinic-one")
    emulator.reject(first["sid"], reason="INVALID_FORMAT: variables at the edge")
    for content in rest:
        emulator.approve(content["sid"])
    out = cli("status", "--customer", "clinic-one").out
    assert 'rejected: "INVALID_FORMAT: variables at the edge"' in out
    assert "newbie" not in out

    emulator.approve(first["sid"])
    out = cli("status", "--customer", "clinic-one").out
    assert "1 of 1 customers fully onboarded." in out


# --- access-request ------------------------------------------------------------------


def test_access_request_prints_the_four_fields_when_all_is_right(estate, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0
    result = cli("access-request", "clinic-one", "--format", "json")
    assert result.code == 0, result.out
    doc = json.loads(result.out)
    assert doc["valid"] is True
    assert doc["fields"] == {
        "Email": "onboarding@example-isv.com",
        "Facebook Business Manager ID": "123456789000001",
        "Twilio Account SID": f"AC{1:032x}",
        "Alternate Account SID": account_of(emulator, "clinic-one")["sid"],
    }


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d, sub: d.update(facebook_business_manager_id="100000000000001"),
            "is the ISV's own Business Manager ID",
        ),
        (
            lambda d, sub: d.update(customer_account_sid=sub),
            "is the ISV's subaccount for this customer",
        ),
        (
            lambda d, sub: d["onboarding"].update(terms_accepted=False),
            "has not accepted the WhatsApp Terms of Service",
        ),
        (
            lambda d, sub: d.pop("facebook_business_manager_id"),
            "the customer's Business Manager ID is missing",
        ),
    ],
    ids=["isv-bm-id", "subaccount-as-customer-sid", "no-terms", "no-bm-id"],
)
def test_access_request_pitfalls_are_distinct_errors(estate, cli, emulator, edit, expected):
    assert cli("apply", "--auto-approve").code == 0
    sub = account_of(emulator, "clinic-one")["sid"]
    estate.edit("customers/clinic-one.yaml", lambda d: edit(d, sub))
    result = cli("access-request", "clinic-one")
    assert result.code == 1
    assert expected in result.out
    assert "fix:" in result.out


def test_access_request_before_apply_says_to_run_apply(estate, cli):
    result = cli("access-request", "clinic-one")
    assert result.code == 1
    assert "run `wa-sync apply` first" in result.out


# --- import ----------------------------------------------------------------------------


def test_import_round_trip_has_no_changes(repo, cli, emulator):
    doc = customer_doc(1)
    doc["templates"].append(
        {
            "name": "visit_links",
            "language": "en",
            "category": "UTILITY",
            "types": {
                "twilio/call-to-action": {
                    "body": "Hi {{1}}, manage your visit online or call the front desk.",
                    "actions": [
                        {
                            "type": "URL",
                            "title": "Manage visit",
                            "url": "https://clinic1.example/v",
                        },
                        {"type": "PHONE_NUMBER", "title": "Call us", "phone": "+14155550100"},
                    ],
                }
            },
            "variables": {"1": "Maria"},
        }
    )
    repo.customer("source", doc)
    assert cli("apply", "--auto-approve").code == 0
    approve_all(emulator)
    sid = account_of(emulator, "source")["sid"]
    (repo.root / "customers" / "source.yaml").unlink()

    imported = cli("import", "acme", "--account-sid", sid)
    assert imported.code == 0, imported.err
    text = (repo.root / "customers" / "acme.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../schema/customer.schema.json")
    assert "access_request: approved  # implied" in text
    assert "facebook_business_manager_id" in text  # as a comment asking a person

    assert cli("validate").code == 0
    plan = cli("plan", "--customer", "acme", "--detailed-exitcode")
    assert plan.code == 0, plan.out
    assert "No changes." in plan.out

    again = cli("import", "acme", "--account-sid", sid)
    assert again.code == 1
    assert "--force" in again.err
    assert cli("import", "acme", "--account-sid", sid, "--force").code == 0


def test_import_rejects_bad_ids_and_sids(repo, cli):
    assert "not a valid customer id" in cli("import", "Acme!", "--account-sid", "AC" + "0" * 32).err
    assert "is not an Account SID" in cli("import", "acme", "--account-sid", "ACnope").err


# --- output ---------------------------------------------------------------------------


def test_output_points_at_the_approved_version_during_a_rollout(repo, cli, emulator):
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    approve_all(emulator)

    def recall() -> dict:
        doc = json.loads(cli("output", "--format", "json").out)
        return doc["customers"]["clinic-one"]["recall_offer"]["en"]

    original = recall()
    assert original["status"] == "approved"
    assert original["whatsapp_name"] == "recall_offer"
    assert original["pending"] is None

    repo.edit(
        "customers/clinic-one.yaml",
        lambda d: d["templates"][1].update(
            body="Hi {{1}}, your check-up is due. Book now, 10% off."
        ),
    )
    assert cli("apply", "--auto-approve").code == 0
    during = recall()
    assert during["content_sid"] == original["content_sid"]
    assert during["pending"]["whatsapp_name"] == "recall_offer_v2"
    assert during["pending"]["status"] == "received"
    assert "recall_offer_v2" in cli("output").out

    emulator.approve(during["pending"]["content_sid"])
    after = recall()
    assert after["whatsapp_name"] == "recall_offer_v2"
    assert after["status"] == "approved"
    assert after["pending"] is None
