"""A line break in Twilio's text starts no line of wa-sync's output (SPEC §4.8, hostile
answers): a CI log reads a line `::error::...` as a command. Every name and free text
Twilio sends that a command shows — a subaccount's FriendlyName (and the customer id it
encodes), a content's FriendlyName, language and WhatsApp name, a rejection reason, a
display name in review, a sender's profile — holds one here, as a hostile answer would
bring it, and each command (plan, status, output, import, apply) is run through the CLI
against the emulator.

The JSON formats keep Twilio's text as it is (json escapes the break): a name that
identifies a template or a subaccount is compared with the configuration exactly."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.e2e.helpers import customer_doc
from tests.e2e.test_import_estates import Console
from tests.e2e.test_reconcile import account_of
from tests.emulator.helpers import raw as raw_request

FORGED = "\n::error::forged\r\n::warning::too"  # a FriendlyName holds 64 at most
CID = "clinic-one"


def commands(text: str) -> list[str]:
    """The lines a CI log would read as a command (GitHub Actions: `::name ...::`)."""
    return [line for line in text.splitlines() if line.lstrip().startswith("::")]


def forge(emulator, account: dict) -> None:
    """The text of clinic-one's subaccount, as a hostile answer would bring it."""
    auth = (account["sid"], account["auth_token"])
    contents = {c["friendly_name"]: c for c in emulator.state()["contents"][account["sid"]]}
    (sender,) = emulator.state()["senders"][account["sid"]]
    emulator.reject(contents["recall_offer"]["sid"], reason=f"PROMOTIONAL{FORGED}")
    emulator.set_display_name_status(sender["sid"], "DECLINED", name=f"Clinic Best{FORGED}")
    edited = raw_request(  # the about edited in WhatsApp Manager: drift
        emulator.url,
        "POST",
        f"/v2/Channels/Senders/{sender['sid']}",
        auth,
        json={"profile": {"about": f"About{FORGED}"}},
    )
    assert edited.status_code in (200, 202), edited.text
    with emulator.store.tx() as db:  # and the name in service (an update goes to review)
        db.execute(
            "UPDATE senders SET profile = json_set(profile, '$.name', ?) WHERE sid = ?",
            (f"Clinic{FORGED}", sender["sid"]),
        )
    console = Console(emulator, account["sid"]).content(  # made in the Console: undeclared
        f"console{FORGED}", body="Hello", submit_as="console_promo", category="MARKETING"
    )
    spoken = raw_request(  # in a language Twilio would not take: a hostile answer's
        emulator.url,
        "POST",
        "/v1/Content",
        auth,
        json={
            "friendly_name": "spoken",
            "language": f"en{FORGED}",
            "types": {"twilio/text": {"body": "Hello"}},
        },
    )
    assert spoken.status_code == 201, spoken.text
    emulator.approve(console)  # deleting it blocks its WhatsApp name: the plan says which
    # Twilio checks the WhatsApp names it is sent: only a hostile answer holds a break
    with emulator.store.tx() as db:
        for name, sid in [("recall_offer", contents["recall_offer"]["sid"]), ("promo", console)]:
            db.execute(
                "UPDATE contents SET approval_name = ? WHERE sid = ?", (f"{name}{FORGED}", sid)
            )


@pytest.fixture
def forged(repo, cli, emulator):
    """clinic-one applied, its text forged; and a subaccount named for a customer with
    no file (`wa-sync:gone...`): the plan warns of it under that customer id."""
    repo.customer(CID, customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    forge(emulator, account_of(emulator, CID))
    emulator.create_subaccount(f"wa-sync:gone{FORGED}")
    return repo


@pytest.mark.parametrize(
    "args",
    [
        ("plan",),
        ("plan", "-v"),
        ("plan", "--prune"),
        ("plan", "--prune", "-v"),
        ("plan", "--format", "markdown"),
        ("plan", "--prune", "--format", "markdown"),
        ("status",),
        ("status", "-v"),
        ("output",),
    ],
    ids=lambda a: " ".join(a),
)
def test_twilio_s_text_starts_no_line(forged, cli, args):
    result = cli(*args)

    assert result.code == 0, result.out + result.err
    assert commands(result.out + result.err) == []
    assert "::error::forged ::warning::too" in result.out


def test_a_wrapped_status_line_starts_no_line_with_twilio_s_text(repo, cli, emulator):
    """Status wraps its detail lines at 100 characters: a rejection reason on one line
    whose `::error::` falls past the edge stays on the line before."""
    repo.customer(CID, customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    account = account_of(emulator, CID)
    contents = {c["friendly_name"]: c for c in emulator.state()["contents"][account["sid"]]}
    emulator.reject(contents["recall_offer"]["sid"], reason="a" * 60 + " ::error::forged")

    out = cli("status").out

    assert commands(out) == []
    assert f'rejected: recall_offer[en]: "{"a" * 60} ::error::forged"' in out


def test_the_plan_shows_each_forged_name_on_the_line_of_its_object(forged, cli):
    """The plan's text: the customer of the subaccount no file manages, the undeclared
    content to delete, the sender's drift, the rejection and the declined display name
    each on its own line, the break shown as a space (the profile's values as repr)."""
    out = cli("plan", "--prune").out
    flat = " ::error::forged ::warning::too"

    assert f"customer.gone{flat}" in out.splitlines()
    assert f"  - customer.clinic-one/template.console{flat}[en]" in out.splitlines()
    assert any(
        line.startswith(f"      template console{flat} [en] (HX") for line in out.splitlines()
    )
    assert f"WhatsApp then blocks the name promo{flat} for 30 days" in out
    assert f"  - customer.clinic-one/template.spoken[en{flat}]" in out.splitlines()
    assert f"      template spoken [en{flat}] (HX" in out
    assert "      display_name: 'Clinic\\n::error::forged\\r\\n::warning::too'" in out
    assert f"recall_offer was rejected by WhatsApp: PROMOTIONAL{flat}." in out
    assert f"the display name 'Clinic Best{flat}' was rejected by Meta" in out


def test_the_json_plan_keeps_twilio_s_text_as_it_is(forged, cli):
    """Addresses and values identify objects and are compared: exactly Twilio's."""
    result = cli("plan", "--prune", "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)

    addresses = {c["address"] for c in doc["changes"]} | {n["address"] for n in doc["notes"]}
    assert f"customer.{CID}/template.console{FORGED}[en]" in addresses
    assert f"customer.gone{FORGED}" in addresses
    (update,) = [c for c in doc["changes"] if c["action"] == "update"]
    assert update["before"]["display_name"] == f"Clinic{FORGED}"
    assert update["before"]["profile"]["about"] == f"About{FORGED}"
    # its prose, for people as in the text plan, names them in their display form
    flat = " ::error::forged ::warning::too"
    said = [c["reason"] for c in doc["changes"]] + [n["message"] for n in doc["notes"]]
    assert not [text for text in said if "\n" in text or "\r" in text]
    (gone,) = [n for n in doc["notes"] if n["customer"] == f"gone{FORGED}"]
    assert f"(wa-sync:gone{flat}) has no customer file" in gone["message"]
    assert f"restore customers/gone{flat}.yaml" in gone["message"]
    assert any(f"template console{flat} [en] (HX" in text for text in said)
    assert any(f"WhatsApp then blocks the name promo{flat} for 30 days" in t for t in said)
    assert any(f"rejected by WhatsApp: PROMOTIONAL{flat}." in text for text in said)


def test_status_and_output_json_keep_twilio_s_names_as_they_are(forged, cli):
    status = json.loads(cli("status", "--format", "json").out)
    (clinic,) = status["customers"]
    (rejection,) = clinic["rejections"]
    assert rejection["name"] == "recall_offer"  # the template that declares it
    assert rejection["whatsapp_name"] == f"recall_offer{FORGED}"
    assert rejection["reason"] == "PROMOTIONAL ::error::forged ::warning::too"  # only shown
    (sender,) = clinic["senders"]
    assert sender["display_name"] == f"Clinic{FORGED}"  # compared with the configuration
    assert sender["pending_display_name"] == "Clinic Best ::error::forged ::warning::too"
    output = json.loads(cli("output", "--format", "json").out)
    recall = output["customers"][CID]["recall_offer"]["en"]
    assert recall["whatsapp_name"] == f"recall_offer{FORGED}"


def test_import_of_a_forged_subaccount_starts_no_line(repo, cli, emulator):
    """The file it writes holds Twilio's text as YAML reads it back, and its comments
    stay comments; what it prints, and an error that names the subaccount, start no
    line of their own."""
    account = emulator.create_subaccount(f"wa-sync:gone{FORGED}")
    repo.write("wa-sync.yaml", {})
    imported = cli("import", "gone", "--account-sid", account["sid"])
    assert commands(imported.out + imported.err) == []
    written = (repo.root / "customers" / "gone.yaml").read_text(encoding="utf-8")
    assert commands(written) == []
    assert yaml.safe_load(written)["account_sid"] == account["sid"]

    repo.customer("other", {**customer_doc(2), "account_sid": account["sid"]})
    refused = cli("import", "gone", "--account-sid", account["sid"], "--force")
    assert refused.code == 1
    assert commands(refused.out + refused.err) == []
    assert "::error::forged ::warning::too) already" in (refused.err)


def test_apply_s_progress_and_summary_start_no_line(forged, cli, emulator):
    """apply prints a line per change as it completes and lists the failed ones at the
    end: an undeclared content's name is the address of its deletion."""
    emulator.fail_next("DELETE", r"/Content/HX", status=400, count=20, message="refused")

    result = cli("apply", "--auto-approve", "--prune")

    assert result.code == 1, result.out + result.err
    assert commands(result.out + result.err) == []
    flat = " ::error::forged ::warning::too"
    failed = f"  customer.clinic-one/template.console{flat}[en]: "
    assert any(line.startswith(failed) for line in result.out.splitlines())
