"""status, access-request, import and output, through the CLI against the emulator."""

from __future__ import annotations

import json
import re

import pytest
import requests

from tests.e2e.helpers import ISV, customer_doc, set_account_status
from tests.e2e.test_embedded_signup import APPROVED_ISV, signup_doc
from tests.e2e.test_reconcile import account_of, approve_all, contents_of, senders_of
from wa_sync.commands.status import (
    SUBACCOUNT_LIMIT,
    subaccount_limit_warning,
    template_limit_warning,
)


@pytest.fixture
def estate(repo):
    repo.write("wa-sync.yaml", ISV)
    repo.customer("clinic-one", customer_doc(1))
    repo.customer("newbie", customer_doc(3, onboarded=False))
    return repo


# --- status ----------------------------------------------------------------------


def status_json(cli, *args: str) -> dict:
    result = cli("status", "--format", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def details(out: str, customer: str) -> str:
    """The indented lines under a customer's row in the text table, joined into one text
    (wrapped lines rejoined)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(customer + " "))
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        block.append(line.strip())
    return " ".join(block)


def test_status_shows_stage_next_action_and_who(estate, cli, emulator):
    before = status_json(cli)
    stages = {c["id"]: c["stage"] for c in before["customers"]}
    assert stages["clinic-one"]["step"] == 1
    assert stages["clinic-one"]["actor"] == "ISV"
    assert stages["clinic-one"]["next_action"] == "run `wa-sync apply` to create the subaccount"

    assert cli("apply", "--auto-approve").code == 0
    after = status_json(cli)
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
    assert by_id["clinic-one"]["senders"] == [
        {
            "phone_number": "+14155550001",
            "status": "ONLINE",
            "display_name": "Clinic Number 1",
            "pending_display_name": None,
            "pending_display_name_status": None,
            "offline_reasons": [],
            "offline_hints": [],
            "quality_rating": "HIGH",
            "messaging_limit": "1K Customers/24hr",
            "needs_action": False,
            "next_step": "",
        }
    ]
    assert by_id["clinic-one"]["templates"] == {"received": 3}
    assert by_id["clinic-one"]["subaccount_sid"] == account_of(emulator, "clinic-one")["sid"]
    assert by_id["newbie"]["templates"] == {"unsubmitted": 3}
    assert after["subaccounts"] == 2
    assert after["warnings"] == []
    assert all(c["warnings"] == [] for c in after["customers"])


def test_status_text_is_a_table_with_the_next_action_below_each_row(estate, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0
    result = cli("status")
    assert result.code == 0
    banner, *lines = result.out.splitlines()
    assert banner == "(against the wa-sync emulator, not Twilio)"
    header = lines[0]
    assert header.split() == ["CUSTOMER", "STAGE", "ACTION", "BY", "SENDERS", "TEMPLATES"]
    clinic = next(line for line in lines if line.startswith("clinic-one "))
    assert clinic.split() == [
        "clinic-one",
        "8/8",
        "message",
        "templates",
        "Twilio/Meta",
        "+14155550001",
        "ONLINE",
        "3",
        "received",
    ]
    # the columns line up under their headings
    for column in ("STAGE", "ACTION BY", "SENDERS", "TEMPLATES"):
        at = header.index(column)
        assert clinic[at - 2 : at] == "  ", column
        assert clinic[at] != " ", column
    assert details(result.out, "clinic-one") == "next: wait for WhatsApp to review the templates"
    # a long next action wraps at word boundaries, whole, on indented lines
    newbie = details(result.out, "newbie")
    assert newbie.startswith(
        "next: accept the WhatsApp Terms of Service in their own Twilio project, then "
        "record `onboarding.terms_accepted: true` blocked: "
    )
    assert all(len(line) <= 100 for line in lines if line.startswith("  "))
    assert result.out.endswith("0 of 2 customers fully onboarded.\n")


def test_status_lists_each_sender_on_its_own_row(repo, cli, emulator):
    doc = customer_doc(1)
    doc["senders"].append({**doc["senders"][0], "phone_number": "+14155559999"})
    repo.customer("clinic-one", doc)
    assert cli("apply", "--auto-approve").code == 0
    emulator.set_sender_status(senders_of(emulator, "clinic-one")[1]["sid"], "OFFLINE")
    lines = cli("status").out.splitlines()
    at = lines[1].index("SENDERS")
    row = next(i for i, line in enumerate(lines) if line.startswith("clinic-one "))
    assert lines[row][at:].startswith("+14155550001 ONLINE")
    assert lines[row + 1].strip() == "+14155559999 OFFLINE"
    assert lines[row + 1][at:].startswith("+14155559999 OFFLINE")
    assert "next: +14155559999: bring it back online: Twilio reports an unknown error" in (
        details(cli("status").out, "clinic-one")
    )


def test_status_counts_templates_and_quotes_rejection_reasons(estate, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0
    first, second, third = contents_of(emulator, "clinic-one")
    emulator.reject(first["sid"], reason="INVALID_FORMAT: variables at the edge")
    emulator.approve(second["sid"])
    emulator.approve(third["sid"])

    clinic = status_json(cli, "--customer", "clinic-one")["customers"][0]
    assert clinic["templates"] == {"approved": 2, "rejected": 1}
    assert clinic["rejections"] == [
        {
            "name": first["friendly_name"],
            "whatsapp_name": first["friendly_name"],
            "language": first["language"],
            "reason": "INVALID_FORMAT: variables at the edge",
        }
    ]
    assert clinic["stage"]["next_action"] == "change the rejected templates and apply again"
    assert clinic["stage"]["actor"] == "ISV"

    out = cli("status", "--customer", "clinic-one").out
    row = next(line for line in out.splitlines() if line.startswith("clinic-one "))
    assert row.endswith("2 approved, 1 rejected")
    assert (
        f"rejected: {first['friendly_name']}[{first['language']}]: "
        '"INVALID_FORMAT: variables at the edge"'
    ) in details(out, "clinic-one")

    emulator.approve(first["sid"])
    out = cli("status", "--customer", "clinic-one").out
    assert "onboarded" in out.splitlines()[2]
    assert details(out, "clinic-one") == ""  # nothing left to do
    assert "1 of 1 customers fully onboarded." in out


def test_status_customer_option_narrows_it(estate, cli, emulator):
    assert [c["id"] for c in status_json(cli, "--customer", "newbie")["customers"]] == ["newbie"]
    assert [c["id"] for c in status_json(cli)["customers"]] == ["clinic-one", "newbie"]
    out = cli("status", "--customer", "clinic-one").out
    assert "clinic-one" in out
    assert "newbie" not in out
    unknown = cli("status", "--customer", "clinic-1")
    assert unknown.code == 1
    assert "clinic-one" in unknown.err  # did you mean


def test_status_warns_of_a_rejected_display_name_and_the_daily_cap(estate, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0
    sender = senders_of(emulator, "clinic-one")[0]
    emulator.set_display_name_status(sender["sid"], "PENDING_REVIEW", name="Best Clinic Deals")
    assert status_json(cli, "--customer", "clinic-one")["customers"][0]["warnings"] == []

    emulator.set_display_name_status(sender["sid"], "DECLINED", name="Best Clinic Deals")
    clinic = status_json(cli, "--customer", "clinic-one")["customers"][0]
    assert clinic["senders"][0]["pending_display_name"] == "Best Clinic Deals"
    assert clinic["senders"][0]["pending_display_name_status"] == "DECLINED"
    (warning,) = clinic["warnings"]
    assert "+14155550001: WhatsApp rejected the display name 'Best Clinic Deals'" in warning
    assert "capped at 250 business-initiated messages a day" in warning
    text = details(cli("status", "--customer", "clinic-one").out, "clinic-one")
    assert "warning: +14155550001: WhatsApp rejected the display name" in text
    assert "capped at 250 business-initiated messages a day" in text
    plan = cli("plan", "--customer", "clinic-one")  # the plan warns too, as Twilio says it
    assert "the display name 'Best Clinic Deals' was rejected by Meta" in plan.out


def test_status_warns_when_the_parent_nears_its_subaccount_limit(estate, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0  # 2 subaccounts
    for n in range(SUBACCOUNT_LIMIT * 9 // 10 - 3):
        emulator.create_subaccount(f"another ISV product {n}")
    assert status_json(cli)["warnings"] == []  # 899 of 1,000

    emulator.create_subaccount("one more")
    report = status_json(cli)
    assert report["subaccounts"] == 900
    assert report["warnings"] == [
        "the parent account has 900 subaccounts; Twilio's default limit is 1,000 (error 21480 "
        "when reached): ask Twilio support to raise it, or close unused ones"
    ]
    out = cli("status", "--customer", "newbie").out
    assert "warning: the parent account has 900 subaccounts" in out


def seed_submitted_templates(emulator, account: dict, count: int, first: int = 0) -> None:
    """`count` templates submitted to WhatsApp in a subaccount, behind wa-sync's back."""
    auth = (account["sid"], account["auth_token"])
    for n in range(first, first + count):
        name = f"seeded_{n}"
        created = requests.post(
            f"{emulator.url}/v1/Content",
            auth=auth,
            json={"friendly_name": name, "language": "en", "types": {"twilio/text": {
                "body": f"Notice {n}"}}},
            timeout=10,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        submitted = requests.post(
            f"{emulator.url}/v1/Content/{created.json()['sid']}/ApprovalRequests/whatsapp",
            auth=auth,
            json={"name": name, "category": "UTILITY"},
            timeout=10,
        )
        assert submitted.status_code == 201, submitted.text


def test_status_warns_when_a_whatsapp_account_nears_250_templates(estate, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0  # 3 templates submitted
    seed_submitted_templates(emulator, account_of(emulator, "clinic-one"), 221)
    assert status_json(cli, "--customer", "clinic-one")["customers"][0]["warnings"] == []

    seed_submitted_templates(emulator, account_of(emulator, "clinic-one"), 1, first=221)
    clinic = status_json(cli, "--customer", "clinic-one")["customers"][0]
    assert clinic["warnings"] == [template_limit_warning(225)]
    assert "225 templates submitted to WhatsApp" in clinic["warnings"][0]
    assert "at most 250 until the business is verified" in clinic["warnings"][0]
    assert "warning: 225 templates submitted" in details(cli("status").out, "clinic-one")
    # unsubmitted drafts are not WhatsApp templates: newbie's 3 do not count
    assert status_json(cli, "--customer", "newbie")["customers"][0]["warnings"] == []


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, None),
        (224, None),
        (225, "225 templates submitted to WhatsApp; a WhatsApp Business Account holds at most "
              "250 until the business is verified"),
        (250, "at most 250 until"),
        (251, None),  # past 250, the business is verified: 6,000
        (5399, None),
        (5400, "5,400 templates submitted to WhatsApp; a WhatsApp Business Account holds at "
               "most 6,000"),
        (6000, "6,000 templates"),
    ],
)  # fmt: skip
def test_template_limit_thresholds(count, expected):
    warning = template_limit_warning(count)
    assert (warning is None) if expected is None else (expected in warning)


@pytest.mark.parametrize(
    ("count", "warns"), [(0, False), (899, False), (900, True), (1000, True), (1500, True)]
)
def test_subaccount_limit_threshold(count, warns):
    assert (subaccount_limit_warning(count) is not None) is warns


# --- access-request ------------------------------------------------------------------


def test_access_request_prints_the_four_fields_when_all_is_right(estate, cli, emulator):
    assert cli("apply", "--auto-approve").code == 0
    result = cli("access-request", "clinic-one", "--format", "json")
    assert result.code == 0, result.out
    doc = json.loads(result.out)
    assert doc == {
        "customer": "clinic-one",
        "flow": "legacy",
        "emulator": True,
        "valid": True,
        "access_request": "approved",
        "fields": {
            "Email": "onboarding@example-isv.com",
            "Facebook Business Manager ID": "123456789000001",
            "Twilio Account SID": f"AC{1:032x}",
            "Alternate Account SID": account_of(emulator, "clinic-one")["sid"],
        },
        "problems": [],
        "next": "All four fields check out. The request is already approved; nothing to submit.",
    }
    text = cli("access-request", "clinic-one")
    assert text.code == 0
    assert text.out.splitlines()[1:6] == [
        "WhatsApp access request for clinic-one:",
        "  Email                         onboarding@example-isv.com",
        "  Facebook Business Manager ID  123456789000001",
        f"  Twilio Account SID            AC{1:032x}",
        f"  Alternate Account SID         {account_of(emulator, 'clinic-one')['sid']}",
    ]
    assert "already approved; nothing to submit" in text.out


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("not_submitted", "submit the form, then record `onboarding.access_request: submitted`"),
        ("submitted", "when Twilio approves it, record `onboarding.access_request: approved`"),
        ("denied", "The last request was denied"),
    ],
)
def test_access_request_says_what_to_do_with_a_good_form(estate, cli, emulator, state, expected):
    estate.edit(
        "customers/clinic-one.yaml",
        lambda d: d["onboarding"].update(access_request=state, invitation="not_sent"),
    )
    assert cli("apply", "--auto-approve").code == 0
    result = cli("access-request", "clinic-one")
    assert result.code == 0, result.out
    assert expected in result.out
    assert (
        json.loads(cli("access-request", "clinic-one", "--format", "json").out)["access_request"]
        == state
    )


def _isv_without_email(repo, sids):
    repo.write("wa-sync.yaml", {"isv": {**ISV["isv"], "email": ""}})


def _edit(change):
    def edit(repo, sids):
        repo.edit("customers/clinic-one.yaml", lambda d: change(d, sids))

    return edit


# (case, setup, field, rule, what the message says, what the fix says)
PITFALLS = [
    (
        "isv-bm-id",
        _edit(lambda d, sids: d.update(facebook_business_manager_id="100000000000001")),
        "Facebook Business Manager ID",
        "AR-ISV-BM-ID",
        "100000000000001 is the ISV's own Business Manager ID",
        "to the CUSTOMER's Business Manager ID",
    ),
    (
        "subaccount-as-customer-sid",
        _edit(lambda d, sids: d.update(customer_account_sid=sids["sub"])),
        "Twilio Account SID",
        "AR-SUBACCOUNT-AS-CUSTOMER-SID",
        "is the ISV's subaccount for this customer, not the customer's own project; it "
        "belongs in Alternate Account SID",
        "to the SID of the customer's own Twilio project",
    ),
    (
        "parent-as-customer-sid",
        _edit(lambda d, sids: d.update(customer_account_sid=sids["parent"])),
        "Twilio Account SID",
        "AR-PARENT-AS-CUSTOMER-SID",
        "is the ISV's own parent account, not the customer's",
        "to the SID of the customer's own Twilio project",
    ),
    (
        "other-subaccount-as-customer-sid",
        _edit(lambda d, sids: d.update(customer_account_sid=sids["other"])),
        "Twilio Account SID",
        "AR-OTHER-SUBACCOUNT-AS-CUSTOMER-SID",
        "is another of the ISV's subaccounts",
        "to the SID of the customer's own Twilio project",
    ),
    (
        "no-terms",
        _edit(lambda d, sids: d["onboarding"].update(terms_accepted=False)),
        "Terms of Service",
        "AR-NO-TERMS",
        "the customer has not accepted the WhatsApp Terms of Service",
        "set onboarding.terms_accepted: true in customers/clinic-one.yaml",
    ),
    (
        "no-bm-id",
        _edit(lambda d, sids: d.pop("facebook_business_manager_id")),
        "Facebook Business Manager ID",
        "AR-NO-BM-ID",
        "the customer's Business Manager ID is missing",
        "set facebook_business_manager_id in customers/clinic-one.yaml",
    ),
    (
        "no-customer-sid",
        _edit(lambda d, sids: d.pop("customer_account_sid")),
        "Twilio Account SID",
        "AR-NO-CUSTOMER-SID",
        "the customer's own Twilio Account SID is missing",
        "set customer_account_sid in customers/clinic-one.yaml",
    ),
    (
        "no-email",
        _isv_without_email,
        "Email",
        "AR-NO-EMAIL",
        "the ISV's email is missing",
        "set isv.email in wa-sync.yaml",
    ),
]


@pytest.mark.parametrize(
    ("setup", "field", "rule", "message", "fix"),
    [p[1:] for p in PITFALLS],
    ids=[p[0] for p in PITFALLS],
)
def test_access_request_pitfalls_are_distinct_errors(
    estate, cli, emulator, setup, field, rule, message, fix
):
    assert cli("apply", "--auto-approve").code == 0
    sids = {
        "sub": account_of(emulator, "clinic-one")["sid"],
        "other": account_of(emulator, "newbie")["sid"],
        "parent": emulator.parent_sid,
    }
    setup(estate, sids)

    result = cli("access-request", "clinic-one", "--format", "json")
    assert result.code == 1
    doc = json.loads(result.out)
    assert doc["valid"] is False
    (problem,) = doc["problems"]  # exactly this one mistake, nothing else
    assert problem["field"] == field
    assert problem["rule"] == rule
    assert message in problem["message"]
    assert fix in problem["fix"]

    text = cli("access-request", "clinic-one")
    assert text.code == 1
    assert "1 problem(s); do not submit the form yet:" in text.out
    assert f"  ✗ {field}: {problem['message']} [{rule}]" in text.out
    assert f"    fix: {problem['fix']}" in text.out
    assert "check out" not in text.out


def test_access_request_pitfall_rules_are_distinct():
    rules = [p[3] for p in PITFALLS] + ["AR-NO-SUBACCOUNT"]
    assert len(set(rules)) == len(rules)


# The one JSON shape of access-request, both flows (docs/commands/access-request.md)
ACCESS_REQUEST_SHAPE = {
    "customer": str,
    "flow": str,
    "emulator": (bool, type(None)),
    "valid": bool,
    "access_request": (str, type(None)),
    "fields": dict,
    "problems": list,
    "next": str,
}
FORM_FIELDS = [
    "Email",
    "Facebook Business Manager ID",
    "Twilio Account SID",
    "Alternate Account SID",
]


def assert_access_request_shape(doc: dict) -> None:
    assert list(doc) == list(ACCESS_REQUEST_SHAPE)
    for key, kind in ACCESS_REQUEST_SHAPE.items():
        assert isinstance(doc[key], kind), (key, doc[key])
    assert list(doc["fields"]) == FORM_FIELDS
    for problem in doc["problems"]:
        assert list(problem) == ["field", "rule", "message", "fix"]


@pytest.mark.parametrize("customer", ["clinic-one", "newbie", "shop"])
def test_access_request_json_has_one_shape_in_both_flows(estate, cli, customer):
    """A legacy form that checks out (once applied), one with problems, and an
    embedded_signup customer, which has no form: the same keys, each with its value."""
    estate.write("wa-sync.yaml", APPROVED_ISV)
    estate.customer("shop", signup_doc(4))
    assert cli("apply", "--auto-approve", "--customer", "clinic-one").code == 0

    result = cli("access-request", customer, "--format", "json")

    doc = json.loads(result.out)
    assert_access_request_shape(doc)
    assert result.code == (0 if doc["valid"] else 1)
    if customer == "shop":
        assert doc["flow"] == "embedded_signup"
        assert (doc["emulator"], doc["access_request"]) == (None, None)  # Twilio not read
        assert doc["fields"] == dict.fromkeys(FORM_FIELDS)  # no form: no values
        assert doc["problems"] == []
        assert "Embedded Signup" in doc["next"]
    else:
        assert (doc["flow"], doc["emulator"]) == ("legacy", True)
    if customer == "newbie":
        assert doc["valid"] is False
        assert doc["next"] == (
            "Do not submit the form yet: fix the 2 problem(s), each with its fix, then run "
            "`wa-sync access-request newbie` again."
        )


@pytest.mark.parametrize(
    "respell",
    [str.upper, lambda sid: "ac" + sid[2:], str.swapcase],
    ids=["hex-upper-case", "prefix-lower-case", "each-letter-swapped"],
)
def test_a_sid_copied_in_another_case_is_refused_at_its_line(estate, cli, emulator, respell):
    """The subaccount's SID, copied in another case as the customer's own: an exact
    comparison would let it through as another SID, so it is refused where it is
    written, with the SID as Twilio writes it."""
    assert cli("apply", "--auto-approve").code == 0
    sub = account_of(emulator, "clinic-one")["sid"]
    estate.edit("customers/clinic-one.yaml", lambda d: d.update(customer_account_sid=respell(sub)))
    text = (estate.root / "customers/clinic-one.yaml").read_text().splitlines()
    line = 1 + next(n for n, row in enumerate(text) if row.startswith("customer_account_sid:"))

    for args in (["access-request", "clinic-one"], ["validate"]):
        result = cli(*args)
        assert result.code == 1, result.out
        said = result.err + result.out
        assert f"customers/clinic-one.yaml:{line}: customer_account_sid: " in said
        assert "AC, then 32 hexadecimal digits in lower case" in said
        assert f"fix: write it as {sub} (the same SID, as Twilio shows it)" in said
        assert "check out" not in result.out


def test_access_request_before_apply_says_to_run_apply(estate, cli):
    result = cli("access-request", "clinic-one", "--format", "json")
    assert result.code == 1
    doc = json.loads(result.out)
    assert doc["fields"]["Alternate Account SID"] == ""
    assert doc["problems"] == [
        {
            "field": "Alternate Account SID",
            "rule": "AR-NO-SUBACCOUNT",
            "message": "the customer's subaccount does not exist yet, so there is no SID to give",
            "fix": "run `wa-sync apply` first; it creates the subaccount",
        }
    ]
    text = cli("access-request", "clinic-one")
    assert text.code == 1
    assert "  Alternate Account SID         (missing)" in text.out
    assert "fix: run `wa-sync apply` first; it creates the subaccount" in text.out


def test_access_request_lists_every_problem_at_once(estate, cli):
    result = cli("access-request", "newbie", "--format", "json")
    assert result.code == 1
    rules = [p["rule"] for p in json.loads(result.out)["problems"]]
    assert rules == ["AR-NO-SUBACCOUNT", "AR-NO-TERMS"]


def test_access_request_unknown_customer_is_a_plain_error(estate, cli):
    result = cli("access-request", "clinic-on")
    assert result.code == 1
    assert result.err == (
        "Error: no customer 'clinic-on': there is no file customers/clinic-on.yaml. "
        "Did you mean 'clinic-one'? Known customers: clinic-one, newbie.\n"
    )


# --- import ----------------------------------------------------------------------------

VISIT_LINKS = {
    "name": "visit_links",
    "language": "en",
    "category": "UTILITY",
    "types": {
        "twilio/call-to-action": {
            "body": "Hi {{1}}, manage your visit online or call the front desk.",
            "actions": [
                {"type": "URL", "title": "Manage visit", "url": "https://clinic1.example/v"},
                {"type": "PHONE_NUMBER", "title": "Call us", "phone": "+14155550100"},
            ],
        }
    },
    "variables": {"1": "Maria"},
}


@pytest.fixture
def live_source(repo, cli, emulator) -> str:
    """A customer onboarded by wa-sync, mid-rollout, whose file is then lost: its
    subaccount holds en text and es quick-reply versions of a library template, a
    call-to-action template, and recall_offer with recall_offer_v2 in review."""
    repo.write("wa-sync.yaml", ISV)
    doc = customer_doc(1)
    doc["templates"].append(VISIT_LINKS)
    repo.customer("source", doc)
    assert cli("apply", "--auto-approve").code == 0
    approve_all(emulator)
    repo.edit(
        "customers/source.yaml",
        lambda d: d["templates"][1].update(body="Hi {{1}}, your check-up is due: 10% off."),
    )
    assert cli("apply", "--auto-approve").code == 0
    (repo.root / "customers" / "source.yaml").unlink()
    return account_of(emulator, "source")["sid"]


def test_import_writes_a_file_that_validates_and_plans_no_changes(repo, cli, live_source):
    imported = cli("import", "acme", "--account-sid", live_source)
    assert imported.code == 0, imported.err
    assert imported.out.splitlines()[-1] == (
        "Wrote " + str(repo.root / "customers" / "acme.yaml") + ": 1 sender(s), 4 template(s). "
        "Add what the lines marked ACTION NEEDED ask for, then run `wa-sync plan`."
    )

    assert cli("validate").code == 0
    plan = cli("plan", "--customer", "acme", "--detailed-exitcode")
    assert plan.code == 0, plan.out
    assert "No changes." in plan.out
    whole = cli("plan", "--detailed-exitcode")  # the adopted subaccount is no orphan
    assert whole.code == 0, whole.out
    assert "no customer file" not in whole.out


def test_import_keeps_languages_and_content_types(repo, cli, live_source):
    assert cli("import", "acme", "--account-sid", live_source).code == 0
    doc = repo.read("customers/acme.yaml")
    templates = {(t["name"], t["language"]): t for t in doc["templates"]}
    assert sorted(templates) == [
        ("appointment_reminder", "en"),
        ("appointment_reminder", "es"),
        ("recall_offer", "en"),
        ("visit_links", "en"),
    ]
    assert templates["appointment_reminder", "en"]["body"].startswith("Hi {{1}}, Clinic 1 ")
    quick = templates["appointment_reminder", "es"]["types"]["twilio/quick-reply"]
    assert [a["id"] for a in quick["actions"]] == ["confirm", "reschedule"]
    assert templates["appointment_reminder", "es"]["variables"] == {
        "1": "María",
        "2": "3 de junio, 10:00",
    }
    assert templates["visit_links", "en"]["types"] == VISIT_LINKS["types"]
    # the newest version of a rollout is what the configuration declares
    assert templates["recall_offer", "en"]["body"] == "Hi {{1}}, your check-up is due: 10% off."
    assert templates["recall_offer", "en"]["category"] == "MARKETING"
    assert doc["senders"][0]["phone_number"] == "+14155550001"
    assert doc["senders"][0]["profile"]["websites"] == ["https://clinic1.example"]
    assert doc["waba_id"] == "104000000000001"
    assert doc["name"] == "Clinic Number 1"


def test_import_comments_what_it_implies_and_what_a_person_must_add(repo, cli, live_source):
    assert cli("import", "acme", "--account-sid", live_source).code == 0
    text = (repo.root / "customers" / "acme.yaml").read_text()
    lines = text.splitlines()
    assert lines[0] == "# yaml-language-server: $schema=../schema/customer.schema.json"
    assert lines[1].startswith(f"# Imported by `wa-sync import acme --account-sid {live_source}`")
    implied = "  # implied: a sender is ONLINE in the subaccount"
    for fact in (
        "terms_accepted: true",
        "business_verification: verified",
        "access_request: approved",
        "invitation: approved",
    ):
        assert f"  {fact}{implied}" in lines
    assert "name: Clinic Number 1  # the business's name, from the sender's display name: " in (
        text
    )
    assert "# ACTION NEEDED: Twilio's API does not know these; the access request needs them:" in (
        lines
    )
    assert '# facebook_business_manager_id: "..."  # the CUSTOMER\'s Business Manager ID' in lines
    assert any(line.startswith("# customer_account_sid: AC...") for line in lines)
    doc = repo.read("customers/acme.yaml")
    assert "facebook_business_manager_id" not in doc
    assert "customer_account_sid" not in doc
    assert doc["account_sid"] == live_source

    # the person adds what was asked for: the file still validates, the form checks out
    text = text.replace(
        '# facebook_business_manager_id: "..."', 'facebook_business_manager_id: "123456789000001"'
    ).replace("# customer_account_sid: AC...", f"customer_account_sid: AC{1:032x}")
    (repo.root / "customers" / "acme.yaml").write_text(text)
    assert cli("validate").code == 0
    assert cli("access-request", "acme").code == 0
    assert cli("plan", "--customer", "acme", "--detailed-exitcode").code == 0


def test_import_refuses_to_overwrite_without_force(repo, cli, live_source):
    target = repo.root / "customers" / "acme.yaml"
    target.write_text("name: Hand Written\n")
    again = cli("import", "acme", "--account-sid", live_source)
    assert again.code == 1
    assert f"{target} already exists; pass --force to overwrite it" in again.err
    assert target.read_text() == "name: Hand Written\n"
    forced = cli("import", "acme", "--account-sid", live_source, "--force")
    assert forced.code == 0, forced.err
    assert repo.read("customers/acme.yaml")["account_sid"] == live_source


def test_import_of_a_customer_not_yet_online_records_nothing_as_done(repo, cli, emulator):
    repo.customer("newbie", customer_doc(3, onboarded=False))
    assert cli("apply", "--auto-approve").code == 0
    sid = account_of(emulator, "newbie")["sid"]
    (repo.root / "customers" / "newbie.yaml").unlink()
    assert cli("import", "fresh", "--account-sid", sid).code == 0
    text = (repo.root / "customers" / "fresh.yaml").read_text()
    assert "onboarding:  # no sender is registered yet: record each step as it happens" in text
    assert "implied" not in text
    doc = repo.read("customers/fresh.yaml")
    assert doc["onboarding"]["terms_accepted"] is False
    assert doc["name"] == "newbie"  # from the subaccount's name, with a comment to check it
    assert "senders" not in doc
    assert len(doc["templates"]) == 3
    assert cli("validate").code == 0
    status = json.loads(cli("status", "--format", "json").out)["customers"][0]
    assert status["stage"]["step"] == 2


def test_import_rejects_bad_ids_and_sids(repo, cli, emulator):
    assert "not a valid customer id" in cli("import", "Acme!", "--account-sid", "AC" + "0" * 32).err
    assert "is not an Account SID" in cli("import", "acme", "--account-sid", "ACnope").err
    # in another case than Twilio's it would write a file that the schema refuses
    upper = cli("import", "acme", "--account-sid", "AC" + "AB" * 16)
    assert "in lower case" in upper.err
    assert not (repo.root / "customers" / "acme.yaml").exists()
    unknown = cli("import", "acme", "--account-sid", "AC" + "0" * 32)
    assert unknown.code == 1
    assert "is not a subaccount of the parent account" in unknown.err
    parent = cli("import", "acme", "--account-sid", emulator.parent_sid)
    assert parent.code == 1
    assert "is the parent account itself, not a subaccount" in parent.err
    assert not (repo.root / "customers" / "acme.yaml").exists()


def test_import_refuses_a_subaccount_another_file_manages(repo, cli, emulator):
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    sid = account_of(emulator, "clinic-one")["sid"]
    result = cli("import", "acme", "--account-sid", sid)
    assert result.code == 1
    assert f"subaccount {sid} (wa-sync:clinic-one) already belongs to" in result.err
    assert f"wa-sync import clinic-one --account-sid {sid} --force" in result.err
    assert not (repo.root / "customers" / "acme.yaml").exists()


def test_import_refuses_a_closed_subaccount(repo, cli, emulator):
    other = emulator.create_subaccount("Old Customer")
    set_account_status(emulator, other["sid"], "closed")
    result = cli("import", "old", "--account-sid", other["sid"])
    assert result.code == 1
    assert f"subaccount {other['sid']} is closed" in result.err


def test_plan_for_some_customers_reports_no_orphans(repo, cli, emulator):
    repo.customer("clinic-one", customer_doc(1))
    repo.customer("clinic-two", customer_doc(2))
    assert cli("apply", "--auto-approve").code == 0
    narrowed = cli("plan", "--customer", "clinic-one")
    assert "no customer file" not in narrowed.out
    (repo.root / "customers" / "clinic-two.yaml").unlink()
    assert "wa-sync:clinic-two) has no customer file" in cli("plan").out


# --- output ---------------------------------------------------------------------------


def output_rows(out: str) -> list[list[str]]:
    """The text table's rows as cells (split on runs of two or more spaces)."""
    banner, header, *rows = out.splitlines()
    assert banner == "(against the wa-sync emulator, not Twilio)"
    assert re.split(r"\s{2,}", header) == [
        "CUSTOMER",
        "TEMPLATE",
        "LANG",
        "CONTENT SID",
        "STATUS",
        "WHATSAPP NAME",
    ]
    return [re.split(r"\s{2,}", row.strip()) for row in rows]


def test_output_points_at_the_approved_version_during_a_rollout(repo, cli, emulator):
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    approve_all(emulator)

    def recall() -> dict:
        result = cli("output", "--format", "json")
        assert result.code == 0
        return json.loads(result.out)["customers"]["clinic-one"]["recall_offer"]["en"]

    def recall_rows() -> list[list[str]]:
        result = cli("output")
        assert result.code == 0
        rows = output_rows(result.out)
        at = next(i for i, row in enumerate(rows) if row[:2] == ["clinic-one", "recall_offer"])
        following = rows[at + 1 : at + 2]
        return [rows[at], *(r for r in following if r[0].startswith("(next: "))]

    original = recall()
    assert original == {
        "content_sid": original["content_sid"],
        "status": "approved",
        "whatsapp_name": "recall_offer",
        "pending": None,
    }
    assert recall_rows() == [
        ["clinic-one", "recall_offer", "en", original["content_sid"], "approved", "recall_offer"]
    ]

    repo.edit(
        "customers/clinic-one.yaml",
        lambda d: d["templates"][1].update(
            body="Hi {{1}}, your check-up is due. Book now, 10% off."
        ),
    )
    assert cli("apply", "--auto-approve").code == 0
    during = recall()
    assert during["content_sid"] == original["content_sid"]  # still sending the approved one
    assert during["status"] == "approved"
    assert during["whatsapp_name"] == "recall_offer"
    assert during["pending"] == {
        "content_sid": during["pending"]["content_sid"],
        "status": "received",
        "whatsapp_name": "recall_offer_v2",
    }
    assert during["pending"]["content_sid"] != original["content_sid"]
    assert recall_rows() == [
        ["clinic-one", "recall_offer", "en", original["content_sid"], "approved", "recall_offer"],
        [f"(next: {during['pending']['content_sid']})", "received", "recall_offer_v2"],
    ]

    emulator.approve(during["pending"]["content_sid"])
    after = recall()
    assert after == {
        "content_sid": during["pending"]["content_sid"],
        "status": "approved",
        "whatsapp_name": "recall_offer_v2",
        "pending": None,
    }
    assert recall_rows() == [
        [
            "clinic-one",
            "recall_offer",
            "en",
            during["pending"]["content_sid"],
            "approved",
            "recall_offer_v2",
        ]
    ]


def test_output_keeps_the_approved_version_when_the_new_one_is_rejected(repo, cli, emulator):
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    approve_all(emulator)
    repo.edit(
        "customers/clinic-one.yaml",
        lambda d: d["templates"][1].update(body="Hi {{1}}, BUY NOW!!! 10% off."),
    )
    assert cli("apply", "--auto-approve").code == 0
    v2 = next(c for c in contents_of(emulator, "clinic-one") if c["friendly_name"].endswith("_v2"))
    emulator.reject(v2["sid"], reason="PROMOTIONAL_CONTENT")
    doc = json.loads(cli("output", "--format", "json").out)
    recall = doc["customers"]["clinic-one"]["recall_offer"]["en"]
    assert recall["whatsapp_name"] == "recall_offer"
    assert recall["status"] == "approved"
    assert recall["pending"]["status"] == "rejected"


def test_output_next_is_the_newest_version_and_one_in_between_takes_over_if_approved(
    repo, cli, emulator
):
    """v1 approved, v2 in review superseded by a second change, v3 in review: `next`
    is v3, the one the rollout works on; v2 is not shown, and takes over if WhatsApp
    approves it first, being then the newest approved version (docs/commands/output.md)."""
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    approve_all(emulator)
    for body in ("Hi {{1}}, your check-up is due.", "Hi {{1}}, time for a check-up."):
        repo.edit("customers/clinic-one.yaml", lambda d, b=body: d["templates"][1].update(body=b))
        assert cli("apply", "--auto-approve").code == 0
    sids = {c["friendly_name"]: c["sid"] for c in contents_of(emulator, "clinic-one")}

    def recall() -> dict:
        result = cli("output", "--format", "json")
        assert result.code == 0, result.err
        return json.loads(result.out)["customers"]["clinic-one"]["recall_offer"]["en"]

    during = recall()
    assert (during["content_sid"], during["pending"]["content_sid"]) == (
        sids["recall_offer"],
        sids["recall_offer_v3"],
    )
    assert sids["recall_offer_v2"] not in cli("output").out

    emulator.approve(sids["recall_offer_v2"])
    taken_over = recall()
    assert (taken_over["content_sid"], taken_over["whatsapp_name"]) == (
        sids["recall_offer_v2"],
        "recall_offer_v2",
    )
    assert taken_over["pending"]["content_sid"] == sids["recall_offer_v3"]


def test_output_before_apply_and_for_some_customers(estate, cli, emulator):
    doc = json.loads(cli("output", "--format", "json", "--customer", "clinic-one").out)
    assert list(doc["customers"]) == ["clinic-one"]
    assert doc["emulator"] is True
    assert doc["customers"]["clinic-one"]["appointment_reminder"]["es"] == {
        "content_sid": None,
        "status": "not_created",
        "whatsapp_name": None,
        "pending": None,
    }
    rows = output_rows(cli("output", "--customer", "clinic-one").out)
    assert ["clinic-one", "appointment_reminder", "es", "-", "not created", "-"] in rows
    assert len(rows) == 3

    assert cli("apply", "--auto-approve").code == 0
    doc = json.loads(cli("output", "--format", "json").out)
    assert sorted(doc["customers"]) == ["clinic-one", "newbie"]
    newbie = doc["customers"]["newbie"]["recall_offer"]["en"]
    assert newbie["status"] == "unsubmitted"
    assert newbie["content_sid"].startswith("HX")
