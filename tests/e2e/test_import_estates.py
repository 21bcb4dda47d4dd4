"""`import` and `output` against estates made by hand in the Twilio Console: contents
whose FriendlyName is not their WhatsApp name, rejected and pending versions, senders
in several statuses, text that YAML reads specially. The invariant: an imported file
validates, and a plan right after shows no changes for it (SPEC §3)."""

from __future__ import annotations

import html
import json
import os
from typing import Any

import pytest
import requests

from tests.e2e.helpers import ISV, customer_doc, set_account_status
from tests.e2e.test_reconcile import account_of

REMINDER = "Hi {{1}}, your order has shipped and arrives on {{2}}. Thank you!"
SAMPLES = {"1": "Maria", "2": "June 3"}


class Console:
    """A person in the Twilio Console: the real API with the subaccount's own credentials."""

    def __init__(self, emulator: Any, account_sid: str) -> None:
        self.emulator = emulator
        self.sid = account_sid
        (token,) = [
            a["auth_token"] for a in emulator.state()["accounts"] if a["sid"] == account_sid
        ]
        self.auth = (account_sid, token)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = requests.post(self.emulator.url + path, auth=self.auth, json=body, timeout=30)
        assert answer.status_code in (200, 201, 202), answer.text
        return answer.json()

    def content(
        self,
        friendly_name: str,
        *,
        language: str = "en",
        body: str = REMINDER,
        submit_as: str | None = None,
        category: str = "UTILITY",
    ) -> str:
        """A content made by hand, submitted under the WhatsApp name `submit_as`."""
        made = self._post(
            "/v1/Content",
            {
                "friendly_name": friendly_name,
                "language": language,
                "variables": SAMPLES,
                "types": {"twilio/text": {"body": body}},
            },
        )
        if submit_as is not None:
            approval = {"name": submit_as, "category": category}
            self._post(f"/v1/Content/{made['sid']}/ApprovalRequests/whatsapp", approval)
        return str(made["sid"])

    def sender(self, phone: str, profile: dict[str, Any]) -> str:
        body = {
            "sender_id": f"whatsapp:{phone}",
            "configuration": {"waba_id": "104000000009999"},
            "profile": profile,
        }
        return str(self._post("/v2/Channels/Senders", body)["sid"])


@pytest.fixture
def console(repo, emulator) -> Console:
    repo.write("wa-sync.yaml", ISV)
    return Console(emulator, emulator.create_subaccount("Made By Hand")["sid"])


def test_output_names_a_console_template_by_its_whatsapp_name(repo, cli, emulator, console):
    """A template made in the Console has a FriendlyName of its own and the WhatsApp name
    it was submitted under: the sending application needs the WhatsApp name."""
    sid = console.content("order_shipped_console", submit_as="order_shipped")
    emulator.approve(sid)
    assert cli("import", "shop", "--account-sid", console.sid).code == 0

    shown = json.loads(cli("output", "--format", "json").out)["customers"]["shop"]
    assert shown["order_shipped_console"]["en"] == {
        "content_sid": sid,
        "status": "approved",
        "whatsapp_name": "order_shipped",
        "pending": None,
    }
    (row,) = cli("output").out.splitlines()[2:]
    assert row.split() == ["shop", "order_shipped_console", "en", sid, "approved", "order_shipped"]


def test_import_writes_text_as_twilio_holds_it(repo, cli, emulator, console):
    """Names stay readable (not `Caf\\xE9`), and text YAML would fold or read otherwise
    (a NEL, `yes`, `0123`, `: `, `#`, a leading `*` or `&`, long lines) comes back as it
    was: a changed body would be a new version of an approved template."""
    profile = {
        "name": "Café Lumière",
        "about": "yes",
        "address": "0123",
        "description": "Open: 9-5 # not a comment " + "and more " * 20,
        "vertical": "Other",
    }
    console.sender("+14155550901", profile)
    emulator.advance_clock(3600)
    odd = "*Hi* {{1}}, your order\x85has shipped & arrives on {{2}}. Thank you!"
    emulator.approve(console.content("order_shipped", body=odd, submit_as="order_shipped"))

    imported = cli("import", "cafe", "--account-sid", console.sid)
    assert imported.code == 1  # the NEL: validate refuses invisible characters, and says
    assert "U+0085" in imported.err
    text = (repo.root / "customers" / "cafe.yaml").read_text(encoding="utf-8")
    assert "name: Café Lumière  # the business's name, from the sender's display name" in text
    doc = repo.read("customers/cafe.yaml")
    assert doc["senders"][0]["profile"] == {k: v for k, v in profile.items() if k != "name"}
    assert doc["templates"][0]["body"] == odd


@pytest.mark.parametrize("own_number", [True, False], ids=["embedded_signup", "legacy"])
def test_import_of_three_senders_records_the_business_as_verified(
    repo, cli, emulator, console, own_number
):
    """Meta registers a third number only for a verified business: the imported file
    says so, else it would not validate (2 numbers until verified)."""
    phones = ["+14155550901", "+14155550902", "+4915155550903" if own_number else "+14155550903"]
    senders = [console.sender(phone, {"name": "Made By Hand"}) for phone in phones]
    emulator.advance_clock(3600)
    if not own_number:  # none ONLINE: their number says the business is verified
        for sid in senders:
            emulator.set_sender_status(sid, "OFFLINE", ["63101"])

    assert cli("import", "shop", "--account-sid", console.sid).code == 0
    text = (repo.root / "customers" / "shop.yaml").read_text(encoding="utf-8")
    assert (
        "  business_verification: verified  # implied: 3 senders are registered, and Meta "
        "allows a business 2 until it is verified"
    ) in text.splitlines()
    onboarding = repo.read("customers/shop.yaml")["onboarding"]
    assert onboarding["flow"] == ("embedded_signup" if own_number else "legacy")
    validated = cli("validate")
    assert validated.code == 0, validated.out
    assert cli("plan", "--customer", "shop", "--detailed-exitcode").code == 0


def test_import_leaves_out_a_content_whose_friendly_name_no_template_can_declare(
    repo, cli, emulator, console
):
    """`Order Update` is no WhatsApp template name, so no declaration can name that
    content: declared, the file would not validate; renamed, the plan would make a second
    content. It is left out, said where, and shown by every plan as undeclared."""
    console.sender("+14155550901", {"name": "Made By Hand"})
    emulator.advance_clock(3600)
    hand = console.content("Order Update", submit_as="order_update")
    emulator.approve(hand)
    sneaky = console.content("Sneaky\nname: Evil Corp", language="es")
    console.content("order_cancelled", submit_as="order_cancelled")

    imported = cli("import", "shop", "--account-sid", console.sid)
    assert imported.code == 0, imported.err
    assert imported.out.splitlines()[-1] == (
        f"Wrote {repo.root / 'customers' / 'shop.yaml'}: 1 sender(s), 1 template(s); 2 "
        "content(s) left out, whose FriendlyName is not a WhatsApp template name (the file "
        "lists them). Add what the lines marked ACTION NEEDED ask for, then run `wa-sync plan`."
    )
    text = (repo.root / "customers" / "shop.yaml").read_text(encoding="utf-8")
    assert f"#   {hand} 'Order Update' [en]: approved as order_update" in text.splitlines()
    assert f"#   {sneaky} 'Sneaky\\nname: Evil Corp' [es]: unsubmitted" in text.splitlines()
    doc = repo.read("customers/shop.yaml")
    assert doc["name"] == "Made By Hand"
    assert [t["name"] for t in doc["templates"]] == ["order_cancelled"]

    assert cli("validate").code == 0
    plan = cli("plan", "--customer", "shop", "--detailed-exitcode", "--format", "json")
    assert plan.code == 0, plan.out
    notes = json.loads(plan.out)["notes"]
    undeclared = [n["message"] for n in notes if n["kind"] == "undeclared"]
    assert sorted(m.split("(")[1].split(",")[0] for m in undeclared) == sorted([hand, sneaky])


def test_a_friendly_name_with_a_line_break_starts_no_line_of_a_plan(repo, cli, emulator):
    """A Console FriendlyName is Twilio's text: a line break in it must not start a line
    of the plan, where a CI log reads `::error::` as a command (SPEC §4.8)."""
    repo.customer("clinic-1", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    console = Console(emulator, account_of(emulator, "clinic-1")["sid"])
    console.content("made\n::error::forged by a FriendlyName", language="en\n::warning::x")

    for fmt in ("text", "markdown"):
        plan = cli("plan", "--format", fmt)
        assert plan.code == 0, plan.err
        lines = [line for line in plan.out.splitlines() if "forged" in line]
        assert len(lines) == 1, plan.out
        assert "made ::error::forged by a FriendlyName" in html.unescape(lines[0])
        assert not [line for line in plan.out.splitlines() if line.startswith("::")]


def test_import_says_when_what_twilio_holds_does_not_validate(repo, cli, emulator, console):
    """Twilio keeps content that breaks WhatsApp's rules as wa-sync checks them (a body
    that ends with a variable, a variable without a sample): the file is written as Twilio
    holds it, and import says at once, with each problem's line and fix, and exits 1."""
    console.sender("+14155550901", {"name": "Made By Hand"})
    emulator.advance_clock(3600)
    rejected = console.content("big_sale", body="Big sale today, {{1}}", submit_as="big_sale")
    emulator.reject(rejected, "INVALID_FORMAT")

    imported = cli("import", "shop", "--account-sid", console.sid)
    assert imported.code == 1
    target = repo.root / "customers" / "shop.yaml"
    assert imported.out.splitlines()[-1].startswith(f"Wrote {target}: 1 sender(s), 1 template(s)")
    lines = imported.err.splitlines()
    assert lines[0] == (
        "Error: customers/shop.yaml does not validate as written: what Twilio holds fails "
        "these checks. Fix it in the file, then run `wa-sync validate`:"
    )
    validated = cli("validate")
    assert validated.code == 1
    errors = [line for line in validated.out.splitlines() if line.startswith("error: ")]
    assert [line.removeprefix("error: ") for line in errors] == [
        line for line in lines[1:] if not line.startswith("  ")
    ]
    assert "[VAR-EDGE]" in imported.err
    assert repo.read("customers/shop.yaml")["templates"][0]["body"] == "Big sale today, {{1}}"


def test_import_says_which_templates_the_next_apply_submits(repo, cli, emulator, console):
    """A content never submitted is declared as it is, and a declared template is one to
    submit: the plan right after has that submission, so import says so beforehand."""
    console.sender("+14155550901", {"name": "Made By Hand"})
    emulator.advance_clock(3600)
    emulator.approve(console.content("order_shipped", submit_as="order_shipped"))
    console.content("draft_offer", language="de")

    imported = cli("import", "shop", "--account-sid", console.sid)
    assert imported.code == 0, imported.err
    assert imported.out.splitlines()[-1] == (
        f"Wrote {repo.root / 'customers' / 'shop.yaml'}: 1 sender(s), 2 template(s), 1 never "
        "submitted to WhatsApp, which apply submits (the file says which). Add what the lines "
        "marked ACTION NEEDED ask for, then run `wa-sync plan`."
    )
    lines = (repo.root / "customers" / "shop.yaml").read_text(encoding="utf-8").splitlines()
    at = lines.index("# Never submitted to WhatsApp; declared here, apply submits them:")
    assert lines[at + 1 : at + 4] == [
        "#   draft_offer [de]",
        "# Twilio has no category for them before a submission: UTILITY is assumed, check it.",
        "# Remove any that should not be submitted: plans then show it as undeclared, and keep it.",
    ]
    plan = cli("plan", "--customer", "shop", "--detailed-exitcode")
    assert plan.code == 2
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 1 to submit" in plan.out
    assert "> customer.shop/template.draft_offer[de]" in plan.out


def test_an_imported_console_estate_validates_and_plans_no_changes(repo, cli, emulator, console):
    """The round trip (SPEC §3): whatever the Console made, the imported file validates
    and the plan right after has no change, for that customer and for the estate."""
    phone = "+14155550901"
    console.sender(
        phone,
        {
            "name": "Grüne Apotheke",
            "about": "yes",
            "address": "0123 Main St: Suite #4",
            "description": "*Open* & friendly: 9-5 # every day " + "and on holidays " * 12,
            "vertical": "Medical and Health",
            "emails": [{"email": "hello@apotheke.example", "label": "Email"}],
            "websites": [{"website": "https://apotheke.example", "label": "Website"}],
        },
    )
    emulator.advance_clock(3600)
    for language in ("en", "de", "pt_BR"):  # one name in three languages, one approved
        sid = console.content("pickup_ready", language=language, submit_as="pickup_ready")
        if language == "en":
            emulator.approve(sid)
    # a FriendlyName that is not the WhatsApp name it was approved under
    emulator.approve(console.content("refill_console", submit_as="refill_reminder"))
    # a rollout: _v2 approved over the original, _v2 rejected over an approved one
    emulator.approve(console.content("opening_hours", submit_as="opening_hours"))
    emulator.approve(
        console.content(
            "opening_hours_v2", body=REMINDER + " See you.", submit_as="opening_hours_v2"
        )
    )
    emulator.approve(console.content("promo", submit_as="promo", category="MARKETING"))
    emulator.reject(
        console.content("promo_v2", body=REMINDER + " 10% off.", submit_as="promo_v2"), "PROMO"
    )
    console.content("Made In Console", submit_as="made_in_console")  # left out: no name

    imported = cli("import", "apotheke", "--account-sid", console.sid)
    assert imported.code == 0, imported.err
    validated = cli("validate")
    assert validated.code == 0, validated.out
    for scope in (["--customer", "apotheke"], []):
        plan = cli("plan", "--detailed-exitcode", *scope)
        assert plan.code == 0, plan.out
        assert "No changes." in plan.out

    doc = repo.read("customers/apotheke.yaml")
    assert doc["name"] == "Grüne Apotheke"
    assert sorted((t["name"], t["language"]) for t in doc["templates"]) == [
        ("opening_hours", "en"),
        ("pickup_ready", "de"),
        ("pickup_ready", "en"),
        ("pickup_ready", "pt_BR"),
        ("promo", "en"),
        ("refill_console", "en"),
    ]
    shown = json.loads(cli("output", "--format", "json").out)["customers"]["apotheke"]
    assert shown["refill_console"]["en"]["whatsapp_name"] == "refill_reminder"
    assert shown["opening_hours"]["en"]["whatsapp_name"] == "opening_hours_v2"
    assert shown["promo"]["en"]["whatsapp_name"] == "promo"  # the approved one serves
    assert shown["promo"]["en"]["pending"]["status"] == "rejected"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_output_prints_no_map_while_twilio_does_not_answer_for_a_customer(repo, cli, emulator, fmt):
    """A map without one customer's templates would hide them from the sending
    application: output stops, naming the customer and why, and prints no map."""
    repo.customer("clinic-1", customer_doc(1))
    repo.customer("clinic-2", customer_doc(2))
    assert cli("apply", "--auto-approve").code == 0
    sid = account_of(emulator, "clinic-2")["sid"]
    emulator.fail_next("GET", r"^/v1/ContentAndApprovals$", status=403, account=sid)

    shown = cli("output", "--format", fmt)
    assert shown.code == 1
    assert shown.out == ""
    assert shown.err.startswith(
        "Error: output prints no map while Twilio does not answer for 1 customer(s), whose "
        "templates it would leave out: clinic-2 (listing the contents of subaccount "
        f"{sid}: "
    )
    assert cli("output", "--format", fmt).code == 0  # Twilio answers again


def test_import_force_refreshes_a_file_but_never_swaps_its_subaccount(repo, cli, emulator, console):
    """--force refreshes a file from its own subaccount. Over a file that manages
    another subaccount it would drop that one from wa-sync without a word (a subaccount
    named otherwise than wa-sync:<id> that no file adopts is in no plan): refused."""
    assert cli("import", "shop", "--account-sid", console.sid).code == 0
    before = (repo.root / "customers" / "shop.yaml").read_text(encoding="utf-8")
    other = emulator.create_subaccount("Another Business")["sid"]

    swapped = cli("import", "shop", "--account-sid", other, "--force")
    assert swapped.code == 1
    assert swapped.err == (
        f"Error: {repo.root / 'customers' / 'shop.yaml'} manages subaccount {console.sid} "
        f"(Made By Hand), not {other}: written over, it would leave {console.sid} without a "
        "customer file. Import the other subaccount under another id, or remove the file "
        "first if that is what you mean\n"
    )
    assert (repo.root / "customers" / "shop.yaml").read_text(encoding="utf-8") == before
    assert cli("import", "shop", "--account-sid", console.sid, "--force").code == 0
    assert cli("import", "other-shop", "--account-sid", other).code == 0


@pytest.mark.parametrize("status", ["closed", "suspended"])
def test_access_request_refuses_a_subaccount_that_is_not_active(repo, cli, emulator, status):
    """The Alternate Account SID must be a subaccount Twilio can use: a closed or
    suspended one does not check out."""
    repo.write("wa-sync.yaml", ISV)
    sid = emulator.create_subaccount("Old Customer")["sid"]
    set_account_status(emulator, sid, status)
    doc = customer_doc(1, account_sid=sid)
    doc["onboarding"]["access_request"] = "not_submitted"
    repo.customer("clinic-1", doc)

    checked = cli("access-request", "clinic-1", "--format", "json")
    assert checked.code == 1
    (problem,) = json.loads(checked.out)["problems"]
    assert problem["field"] == "Alternate Account SID"
    assert problem["rule"] == "AR-SUBACCOUNT-NOT-ACTIVE"
    assert problem["message"] == (
        f"the subaccount {sid} is {status}: Twilio refuses its credentials, so WhatsApp "
        "cannot be set up in it"
    )
    fix = {
        "closed": "a closed subaccount cannot be reopened: remove account_sid from "
        "customers/clinic-1.yaml, then run `wa-sync apply`, which creates a new one",
        "suspended": f"reactivate subaccount {sid} (Twilio Console, or the Accounts API "
        "with Status=active), then check again",
    }
    assert problem["fix"] == fix[status]


@pytest.mark.parametrize("flow", ["legacy", "embedded_signup"])
def test_status_of_a_closed_subaccount_is_step_one_not_run_apply(repo, cli, emulator, flow):
    """Apply can do nothing in a closed subaccount: the next step is the subaccount's,
    not `run wa-sync apply to register the sender`."""
    isv = {"isv": {**ISV["isv"], "tech_provider": {"status": "approved"}}}
    repo.write("wa-sync.yaml", isv)
    sid = emulator.create_subaccount("Old Customer")["sid"]
    set_account_status(emulator, sid, "closed")
    doc = customer_doc(1, account_sid=sid)
    if flow == "embedded_signup":
        del doc["customer_account_sid"]
        doc["onboarding"] = {"flow": flow, "signup": "completed"}
    repo.customer("clinic-1", doc)

    (shown,) = json.loads(cli("status", "--format", "json").out)["customers"]
    assert shown["stage"]["step"] == 1
    assert shown["stage"]["actor"] == "ISV"
    assert shown["stage"]["next_action"] == (
        f"subaccount {sid} is closed, and a closed subaccount cannot be reopened: remove "
        "account_sid from customers/clinic-1.yaml, then run `wa-sync apply`, which creates "
        "a new one"
    )


def test_a_temporary_file_left_by_a_killed_run_does_not_block_the_next(
    repo, cli, emulator, console
):
    """A run killed between writing its temporary file and renaming it leaves the file
    behind; a later run whose process has the same id (containers reuse them) must
    still write, not claim that the customer file exists."""
    left = repo.root / "customers" / f".wa-sync.{os.getpid()}.tmp"
    left.write_text("half a file", encoding="utf-8")

    for force in ([], ["--force"]):
        imported = cli("import", "shop", "--account-sid", console.sid, *force)
        assert imported.code == 0, imported.err
    assert repo.read("customers/shop.yaml")["account_sid"] == console.sid
    assert cli("validate").code == 0


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_output_does_not_call_templates_in_a_subaccount_it_cannot_read_not_created(
    repo, cli, emulator, status
):
    """Twilio refuses a suspended or closed subaccount's credentials, so its templates
    cannot be read: they exist (approved, here), and output says why it shows no SID."""
    repo.customer("clinic-1", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    sid = account_of(emulator, "clinic-1")["sid"]
    set_account_status(emulator, sid, status)
    if status == "closed":  # found by its SID: a closed subaccount has no name to match
        repo.edit("customers/clinic-1.yaml", lambda d: d.update(account_sid=sid))

    shown = json.loads(cli("output", "--format", "json").out)["customers"]["clinic-1"]
    assert shown["recall_offer"]["en"] == {
        "content_sid": None,
        "status": f"subaccount_{status}",
        "whatsapp_name": None,
        "pending": None,
    }
    rows = [line.split() for line in cli("output").out.splitlines()[2:]]
    assert [row[3:] for row in rows] == [["-", f"subaccount_{status}", "-"]] * 3


def test_an_imported_customer_already_sending_is_onboarded_in_status(repo, cli, emulator, console):
    """Twilio's API does not know the customer's Business Manager ID, which only the
    access request needs: once that request is approved (implied by an ONLINE sender),
    its absence blocks no step, and status does not send the customer back to step 3."""
    console.sender("+14155550901", {"name": "Made By Hand"})
    emulator.advance_clock(3600)
    emulator.approve(console.content("order_shipped", submit_as="order_shipped"))
    assert cli("import", "shop", "--account-sid", console.sid).code == 0
    assert "facebook_business_manager_id" not in repo.read("customers/shop.yaml")

    (shown,) = json.loads(cli("status", "--format", "json").out)["customers"]
    assert shown["stage"]["step"] is None, shown["stage"]
    assert "1 of 1 customers fully onboarded." in cli("status").out

    repo.edit("customers/shop.yaml", lambda d: d["onboarding"].update(access_request="submitted"))
    (shown,) = json.loads(cli("status", "--format", "json").out)["customers"]
    assert shown["stage"]["step"] == 3  # the form still needs it


def test_import_is_not_stopped_by_another_customer_file_it_cannot_read(
    repo, cli, emulator, console
):
    """Import looks through the other customer files for one that already manages the
    subaccount: one that is not UTF-8 was an internal error; `validate` names it."""
    (repo.root / "customers" / "broken.yaml").write_bytes(b"name: Caf\xe9\n")

    imported = cli("import", "shop", "--account-sid", console.sid)
    assert imported.code == 0, imported.err
    assert repo.read("customers/shop.yaml")["account_sid"] == console.sid
    assert "customers/broken.yaml" in cli("validate").out


def test_import_of_a_subaccount_named_for_a_customer_that_adopted_another(
    repo, cli, emulator, console
):
    """`wa-sync:shop` names customer shop's subaccount (SPEC §4.3), but shop adopted
    another by account_sid: importing the named one elsewhere is refused, and the advice
    is to rename it, not to refresh shop's file from it (which is refused too)."""
    assert cli("import", "shop", "--account-sid", console.sid).code == 0
    named = emulator.create_subaccount("wa-sync:shop")["sid"]

    refused = cli("import", "shop-two", "--account-sid", named)
    assert refused.code == 1
    assert refused.err == (
        f"Error: subaccount {named} is named 'wa-sync:shop', the name of customer shop's "
        f"subaccount, though {repo.root / 'customers' / 'shop.yaml'} adopts {console.sid}: "
        "two customer files would claim it. Rename it in the Twilio Console (any "
        "FriendlyName but 'wa-sync:shop'), then import it\n"
    )
    assert not (repo.root / "customers" / "shop-two.yaml").exists()


@pytest.mark.parametrize(
    ("status", "reasons", "invitation", "step"),
    [("OFFLINE", ["63020"], "pending", 7), ("TWILIO_REVIEW", [], "not_sent", 6)],
    ids=["invitation-not-accepted", "in-review"],
)
def test_import_of_a_registered_legacy_sender_records_the_approved_access_request(
    repo, cli, emulator, console, status, reasons, invitation, step
):
    """A legacy sender is registered once the access request is approved (SPEC §1 step 6):
    one that is not ONLINE yet still implies steps 2-5, and Twilio's 63020 that the
    invitation is out. Recorded as not done, status sent the customer back to the Terms
    of Service, and the plan blocked every change of the sender there."""
    sid = console.sender("+14155550901", {"name": "Made By Hand"})
    emulator.set_sender_status(sid, status, reasons)

    assert cli("import", "shop", "--account-sid", console.sid).code == 0
    onboarding = repo.read("customers/shop.yaml")["onboarding"]
    assert onboarding == {
        "flow": "legacy",
        "terms_accepted": True,
        "business_verification": "verified",
        "access_request": "approved",
        "invitation": invitation,
    }
    assert cli("validate").code == 0
    assert cli("plan", "--customer", "shop", "--detailed-exitcode").code == 0
    (shown,) = json.loads(cli("status", "--format", "json").out)["customers"]
    assert shown["stage"]["step"] == step, shown["stage"]

    repo.edit("customers/shop.yaml", lambda d: d["senders"][0].update(profile={"about": "Hi"}))
    plan = json.loads(cli("plan", "--format", "json").out)
    assert [c["action"] for c in plan["changes"]] == ["update"]  # not blocked at step 2


def test_import_refuses_to_guess_the_flow_from_an_invalid_settings_file(
    repo, cli, emulator, console
):
    """wa-sync.yaml with a typo says embedded_signup: the imported file was written as
    legacy, with a comment that the setting said legacy."""
    console.sender("+14155550901", {"name": "Made By Hand"})
    (repo.root / "wa-sync.yaml").write_text(
        "settings:\n  onboarding_flow: embedded_signup\n  paralelism: 4\n"
    )
    emulator.clear_request_log()
    result = cli("import", "shop", "--account-sid", console.sid)
    assert result.code == 1
    assert "wa-sync.yaml:3:" in result.err
    assert not (repo.root / "customers" / "shop.yaml").exists()
    assert emulator.request_log() == []


@pytest.mark.parametrize("force", [False, True], ids=["", "force"])
def test_import_refuses_a_customer_whose_file_has_the_yml_extension(
    repo, cli, emulator, console, force
):
    """customers/shop.yml is shop's file under an extension wa-sync does not read: import
    wrote shop.yaml beside it and said to run `plan`, and validate's fix (rename the .yml
    to .yaml) then wrote over the imported file."""
    console.sender("+14155550901", {"name": "Made By Hand"})
    (repo.root / "customers" / "shop.yml").write_text("name: Shop\n", encoding="utf-8")
    result = cli("import", "shop", "--account-sid", console.sid, *(["--force"] if force else []))
    assert result.code == 1
    assert "customers/shop.yml" in result.err
    assert "rename it to customers/shop.yaml" in result.err
    assert not (repo.root / "customers" / "shop.yaml").exists()


def test_import_declares_the_display_name_in_metas_review(repo, cli, emulator, console):
    """A rename in Meta's review is the newest word on the sender's name: imported as the
    name in service, the plan warned that once Meta approved it the next plan would change
    it back, and that plan did (Meta limits display-name changes, 10 in 30 days)."""
    sid = console.sender("+14155550901", {"name": "Shop Co"})
    emulator.set_display_name_status(sid, "PENDING_REVIEW", "Shop Company")

    assert cli("import", "shop", "--account-sid", console.sid).code == 0
    assert repo.read("customers/shop.yaml")["senders"][0]["display_name"] == "Shop Company"
    text = (repo.root / "customers" / "shop.yaml").read_text(encoding="utf-8")
    assert "'Shop Co' stays in service until Meta approves it" in text
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out
    assert "changes it back" not in plan.out

    emulator.set_display_name_status(sid, "APPROVED", "Shop Company")
    assert cli("plan", "--detailed-exitcode").code == 0
