"""A customer whose subaccount Twilio does not answer for (SPEC §4.2): the others are
planned and applied, it is shown as not read in every format and in apply's summary,
nothing is planned or written for it, and the exit code is 1."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.e2e.helpers import customer_doc, estate_writes, set_account_status, spawn
from tests.e2e.test_reconcile import account_of
from tests.gitops.test_workflows import run_comment, write_shard
from wa_sync.schemas import load_schema

CONTENTS = r"^/v1/ContentAndApprovals$"
NEW_TEMPLATE = {
    "name": "opening_hours",
    "language": "en",
    "category": "UTILITY",
    "body": "Hi {{1}}, we are open from 9:00 to 17:00 on weekdays.",
    "variables": {"1": "Maria"},
}


@pytest.fixture
def onboarded(repo, cli, emulator):
    """Three applied customers, each then given one more template: each has changes."""
    for n in range(1, 4):
        repo.customer(f"clinic-{n}", customer_doc(n))
    assert cli("apply", "--auto-approve").code == 0, "the set-up apply failed"
    for n in range(1, 4):
        repo.edit(f"customers/clinic-{n}.yaml", lambda doc: doc["templates"].append(NEW_TEMPLATE))
    emulator.clear_request_log()
    return repo


def subaccount(emulator, customer_id: str) -> str:
    return account_of(emulator, customer_id)["sid"]


def writes_as(emulator, sid: str) -> list[dict]:
    return [r for r in estate_writes(emulator.request_log()) if r["account_sid"] == sid]


def test_a_plan_shows_the_others_and_fails_for_the_one_not_read(onboarded, cli, emulator):
    emulator.fail_next("GET", CONTENTS, status=403, account=subaccount(emulator, "clinic-2"))
    result = cli("plan", "--detailed-exitcode")
    assert result.code == 1, result.err
    assert "+ customer.clinic-1/template.opening_hours[en]" in result.out
    assert "+ customer.clinic-3/template.opening_hours[en]" in result.out
    assert "customer.clinic-2/" not in result.out  # nothing planned against a state unknown
    assert "✗ customer.clinic-2: Twilio could not be read for this customer" in result.out
    assert "refused its own credentials" in result.out  # why, in Twilio's words
    assert result.out.rstrip().endswith("1 not read from Twilio: nothing is planned for it."), (
        result.out
    )
    assert "Twilio could not be read for 1 customer(s) (clinic-2)" in result.err


def test_every_format_shows_the_customer_not_read(onboarded, cli, emulator):
    sid = subaccount(emulator, "clinic-2")
    emulator.fail_next("GET", CONTENTS, status=403, account=sid)
    saved = onboarded.root / "plan.json"
    assert cli("plan", "--format", "markdown", "--out", str(saved)).code == 1
    doc = json.loads(saved.read_text(encoding="utf-8"))
    jsonschema.validate(doc, load_schema("plan"))
    assert doc["summary"]["unread"] == 1
    assert [n["customer"] for n in doc["notes"] if n["kind"] == "unread"] == ["clinic-2"]
    assert {c["customer"] for c in doc["changes"]} == {"clinic-1", "clinic-3"}
    emulator.fail_next("GET", CONTENTS, status=403, account=sid)
    markdown = cli("plan", "--format", "markdown").out
    assert "**Not read from Twilio, so nothing is planned for them:** clinic\\-2" in markdown


def test_a_plan_with_nothing_else_to_do_does_not_say_twilio_matches(repo, cli, emulator):
    for n in range(1, 3):
        repo.customer(f"clinic-{n}", customer_doc(n))
    assert cli("apply", "--auto-approve").code == 0
    emulator.fail_next("GET", CONTENTS, status=403, account=subaccount(emulator, "clinic-1"))
    result = cli("plan")
    assert result.code == 1
    assert "Twilio matches" not in result.out
    assert "No changes in the customers read." in result.out
    emulator.fail_next("GET", CONTENTS, status=403, account=subaccount(emulator, "clinic-1"))
    report = repo.root / "report.jsonl"
    result = cli("apply", "--auto-approve", "--report", str(report))
    assert (result.code, result.out.strip().splitlines()[-1]) == (1, "Nothing to apply."), result
    assert "Twilio could not be read for 1 customer(s) (clinic-1)" in result.err
    summary = json.loads(report.read_text(encoding="utf-8").splitlines()[-1])  # why it failed
    assert (summary["changes"], [r["customer"] for r in summary["not_read"]]) == (0, ["clinic-1"])


def test_an_apply_carries_out_the_others_and_lists_the_one_not_read(onboarded, cli, emulator):
    sid = subaccount(emulator, "clinic-2")
    emulator.fail_next("GET", CONTENTS, status=403, account=sid)
    report = onboarded.root / "report.jsonl"
    result = cli("apply", "--auto-approve", "--report", str(report))
    assert result.code == 1, result.out
    summary = json.loads(report.read_text(encoding="utf-8").splitlines()[-1])
    assert [r["customer"] for r in summary["not_read"]] == ["clinic-2"]
    assert "refused its own credentials" in summary["not_read"][0]["reason"]
    assert "Apply finished with failures: 4 done, 0 failed, 0 skipped; 1 customer(s) not read" in (
        result.out
    )
    assert "Not read from Twilio, so nothing was applied for them:\n  customer.clinic-2: " in (
        result.out
    )
    assert writes_as(emulator, sid) == []
    for other in ("clinic-1", "clinic-3"):
        assert writes_as(emulator, subaccount(emulator, other)), other
    assert cli("apply", "--auto-approve").code == 0  # Twilio answers again: the rest
    assert len(writes_as(emulator, sid)) == 2  # its new content, and its submission
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_saved_plan_with_a_customer_not_read(onboarded, cli, emulator):
    sid = subaccount(emulator, "clinic-2")
    saved = str(onboarded.root / "plan.json")
    emulator.fail_next("GET", CONTENTS, status=403, account=sid)
    assert cli("plan", "--out", saved).code == 1
    emulator.fail_next("GET", CONTENTS, status=403, account=sid)
    result = cli("apply", saved)  # still not read: the others as reviewed, and exit 1
    assert result.code == 1
    assert writes_as(emulator, sid) == []
    assert "customer.clinic-2: Twilio could not be read" in result.out
    emulator.clear_request_log()
    result = cli("apply", saved)  # clinic-2 read now: the plan was not made from that
    assert result.code == 1
    assert "is stale: Twilio's live state changed for clinic-1, clinic-2, clinic-3" in result.err
    assert estate_writes(emulator.request_log()) == []


def test_a_saved_plan_is_not_applied_when_a_customer_it_read_cannot_be_read(
    onboarded, cli, emulator
):
    saved = str(onboarded.root / "plan.json")
    assert cli("plan", "--out", saved).code == 0
    emulator.fail_next("GET", CONTENTS, status=403, account=subaccount(emulator, "clinic-3"))
    result = cli("apply", saved)
    assert result.code == 1
    assert "is stale: Twilio could not be read now for clinic-3" in result.err
    assert estate_writes(emulator.request_log()) == []


def test_twilio_unavailable_for_one_subaccount_after_the_retries(onboarded, cli, emulator):
    """The real case: 5xx to every attempt (5, with backoff) for one subaccount."""
    emulator.fail_next(
        "GET", CONTENTS, status=503, count=5, account=subaccount(emulator, "clinic-1")
    )
    result = cli("plan")
    assert result.code == 1
    assert "✗ customer.clinic-1: Twilio could not be read" in result.out
    assert "Twilio is unavailable, try again later" in result.out
    assert "+ customer.clinic-3/template.opening_hours[en]" in result.out


def test_a_number_is_not_registered_while_a_customer_that_may_hold_it_is_not_read(
    repo, cli, emulator
):
    """A number moved from clinic-1 to clinic-2 while clinic-1's subaccount does not
    answer: its senders are unknown, so it may still hold the number, and a number
    registers once (SPEC §1.1): clinic-2 must not register it in this apply."""
    for n in range(1, 3):
        repo.customer(f"clinic-{n}", customer_doc(n))
    assert cli("apply", "--auto-approve").code == 0
    moved = customer_doc(1)["senders"][0]
    repo.edit("customers/clinic-1.yaml", lambda doc: doc.update(senders=[]))
    repo.edit("customers/clinic-2.yaml", lambda doc: doc["senders"].append(moved))
    number = "whatsapp:+14155550001"
    sid = subaccount(emulator, "clinic-1")
    emulator.fail_next("GET", r"^/v2/Channels/Senders$", status=403, account=sid)
    result = cli("plan")
    assert result.code == 1
    assert f"+ customer.clinic-2/sender.{number}" not in result.out
    assert f"customer.clinic-2/sender.{number}" in result.out  # held back, and why
    assert "customer clinic-1 was not read from Twilio, so" in result.out, result.out
    emulator.clear_request_log()
    emulator.fail_next("GET", r"^/v2/Channels/Senders$", status=403, account=sid)
    assert cli("apply", "--auto-approve").code == 1
    assert estate_writes(emulator.request_log()) == []


def test_the_pull_request_comment_shows_the_plan_and_why_a_customer_was_not_read(
    onboarded, cli, emulator, tmp_path
):
    """The action posts stderr alone for a failed plan: for one that printed the plan
    before failing, the reviewer must still see it, and why the customer was not read."""
    emulator.fail_next("GET", CONTENTS, status=403, account=subaccount(emulator, "clinic-2"))
    result = cli("plan", "--format", "markdown", "--detailed-exitcode")  # as action/run.sh
    assert result.code == 1
    plans = tmp_path / "plans"
    write_shard(plans, 1, 1, result.code, result.out, err=result.err)
    body = run_comment(tmp_path, [], plansDir=str(plans), validateResult="success")
    body = body["calls"][-1][1]["body"]
    assert ":x: **wa-sync plan failed (exit 1).**" in body
    assert "Twilio could not be read for 1 customer(s) (clinic-2)" in body  # the error
    assert "**Not read from Twilio, so nothing is planned for them:** clinic\\-2" in body
    assert "refused its own credentials" in body  # why, in Twilio's words
    assert "| clinic\\-1 | 1 |" in body  # the others' plan: clinic-1's one create


def test_a_stopped_apply_counts_the_customers_not_read_apart_from_its_changes(
    onboarded, emulator, env
):
    """`wa-sync apply | head -1` with a customer not read: the summary (on standard
    error) counts the changes, then the customers not read, each under its own name."""
    emulator.fail_next("GET", CONTENTS, status=403, account=subaccount(emulator, "clinic-2"))
    emulator.set_faults(latency_ms=150, methods=["POST"])
    process = spawn(onboarded.root, env, "apply", "--auto-approve", "--parallelism", "1")
    assert process.stdout is not None
    for line in process.stdout:  # the plan, then the first outcome
        if line.startswith("[1/"):
            break
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    headline = next(line for line in err.splitlines() if line.startswith("Apply stopped"))
    assert headline.endswith(" not started; 1 customer(s) not read from Twilio."), headline
    assert "Not read from Twilio, so nothing was applied for them:" in err


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_a_plan_never_says_twilio_matches_over_a_subaccount_it_could_not_read(
    repo, cli, emulator, status
):
    """Twilio refuses a suspended or closed subaccount's own credentials, so nothing of
    that customer is read: the plan says so (note kind `inactive`, counted in the
    summary) and never that Twilio matches the configuration. Not an error: the state
    lasts, and every plan of the estate would fail for it."""
    for n in (1, 2):
        repo.customer(f"clinic-{n}", customer_doc(n))
    assert cli("apply", "--auto-approve").code == 0, "the set-up apply failed"
    sid = subaccount(emulator, "clinic-2")
    if status == "closed":  # found by its SID: a closed subaccount's name matches nothing
        repo.edit("customers/clinic-2.yaml", lambda d: d.update(account_sid=sid))
    set_account_status(emulator, sid, status)

    shown = cli("plan")
    assert shown.code == 0, shown.err
    assert "Twilio matches the configuration" not in shown.out
    last = shown.out.strip().splitlines()[-1]
    assert last.startswith("No changes in the customers read."), last
    assert "1 not read from Twilio (its subaccount is suspended or closed)." in last, last
    doc = json.loads(cli("plan", "--format", "json").out)
    jsonschema.Draft202012Validator(load_schema("plan")).validate(doc)
    assert doc["summary"]["inactive"] == 1
    (note,) = [n for n in doc["notes"] if n["kind"] == "inactive"]
    assert (note["customer"], f"is {status}" in note["message"]) == ("clinic-2", True)
