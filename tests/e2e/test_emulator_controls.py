"""`wa-sync emulator CONTROL`: Twilio's and Meta's part played from the CLI (SPEC §6,
issue #19.7), on the embedded emulator (`--emulator`) and on a served one (`--url`)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_embedded_signup import APPROVED_ISV, signup_doc
from tests.e2e.test_reconcile import contents_of, senders_of

PHONE = "+493055500001"


@pytest.fixture
def embedded(repo, cli):
    repo.write("wa-sync.yaml", APPROVED_ISV)
    doc = signup_doc(1)
    doc["senders"][0]["phone_number"] = PHONE
    repo.customer("shop", doc)
    assert cli("--emulator", "apply", "--auto-approve").code == 0
    return repo


def status_of(cli) -> dict:
    return json.loads(cli("--emulator", "status", "--format", "json").out)["customers"][0]


def test_the_one_time_code_walk_on_the_embedded_emulator(embedded, cli):
    assert status_of(cli)["senders"][0]["status"] == "PENDING_VERIFICATION"
    set_code = cli("emulator", "verification-code", "4444")
    assert set_code.code == 0, set_code.err
    assert "4444" not in set_code.out
    assert cli("--emulator", "verify", "shop", PHONE, "123456").code == 1  # the default no more
    assert cli("--emulator", "verify", "shop", PHONE, "4444").code == 0
    assert status_of(cli)["senders"][0]["status"] == "ONLINE"


def test_offline_with_reasons_approve_and_recategorise(embedded, cli):
    offline = cli("emulator", "sender-status", PHONE, "OFFLINE", "--reason", "63101")
    assert offline.code == 0, offline.err
    assert f"sender {PHONE}" in offline.out
    assert "now OFFLINE (63101)" in offline.out
    assert status_of(cli)["senders"][0]["offline_reasons"][0].startswith("63101")

    approved = cli("emulator", "approve")
    assert approved.out.strip() == "approved 3 template(s) in review"
    moved = cli("emulator", "recategorise", "recall_offer", "en", "UTILITY")
    assert moved.code == 0, moved.err
    assert "category MARKETING -> UTILITY" in moved.out
    plan = cli("--emulator", "plan", "--detailed-exitcode")
    assert plan.code == 0  # a re-categorisation is reported, never a change
    assert "recall_offer" in plan.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sender-status", "+14155550999", "OFFLINE"), "no sender +14155550999 in the emulator"),
        (("sender-status", PHONE, "ASLEEP"), "status must be one of"),
        (("sender-status", PHONE, "ONLINE", "--reason", "63101"), "only an OFFLINE sender"),
        (("verification-code", "12"), "4 to 8 digits"),
        (("recategorise", "nothing", "en", "UTILITY"), "no approved template nothing [en]"),
    ],
    ids=["unknown-phone", "bad-status", "reason-online", "short-code", "unknown-template"],
)
def test_control_errors_are_clear(embedded, cli, args, message):
    result = cli("emulator", *args)
    assert result.code == 1
    assert message in result.err
    assert "Traceback" not in result.err


def test_without_embedded_state_it_says_how_to_get_one(repo, cli):
    result = cli("emulator", "approve")
    assert result.code == 1
    assert "no embedded emulator state" in result.err
    assert "--url" in result.err


def test_a_served_emulator_is_controlled_with_url(repo, cli, emulator):
    repo.write("wa-sync.yaml", APPROVED_ISV)
    repo.customer("shop", signup_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    assert cli("emulator", "approve", "--url", emulator.url, "--customer", "shop").code == 0
    assert {c["approval"]["status"] for c in contents_of(emulator, "shop")} == {"approved"}
    (sender,) = senders_of(emulator, "shop")
    result = cli("emulator", "sender-status", sender["sender_id"][9:], "OFFLINE",
                 "--reason", "63020", "--url", emulator.url)  # fmt: skip
    assert result.code == 0, result.err
    assert senders_of(emulator, "shop")[0]["status"] == "OFFLINE"


@pytest.mark.parametrize("kind", ["not-a-database", "a-directory"])
@pytest.mark.parametrize(
    "args", [("--emulator", "plan"), ("emulator", "approve")], ids=["embedded", "control"]
)
def test_embedded_state_that_is_no_emulator_database_says_how_to_start_over(repo, cli, args, kind):
    repo.write("wa-sync.yaml", APPROVED_ISV)
    db = repo.root / ".wa-sync" / "emulator.db"
    db.parent.mkdir(parents=True)
    if kind == "a-directory":
        db.mkdir()
    else:
        db.write_text("notes, not SQLite\n")
    result = cli(*args)
    assert result.code == 1
    assert "internal error" not in result.err
    assert "cannot keep the emulator's state there" in result.err
    assert "remove .wa-sync to start over" in result.err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:9", "--url http://127.0.0.1:9: no emulator answers there"),
        ("http://[bad", "--url must be the address `wa-sync emulator` prints"),
        ("notaurl", "--url must be the address `wa-sync emulator` prints"),
    ],
    ids=["nothing-listening", "unparsable", "no-scheme"],
)
def test_a_control_url_without_an_emulator_is_a_clear_error(repo, cli, url, message):
    result = cli("emulator", "approve", "--url", url)
    assert result.code == 1
    assert "internal error" not in result.err
    assert message in result.err


def test_a_control_url_of_another_server_says_it_is_no_emulator(repo, cli, emulator):
    """A Twilio-compatible server that is not the emulator answers /__emulator/... with
    something other than its JSON: here the emulator's own Twilio API, one level up."""
    result = cli("emulator", "approve", "--url", f"{emulator.url}/2010-04-01")
    assert result.code == 1
    assert "internal error" not in result.err
    assert "is not a wa-sync emulator's control API" in result.err
