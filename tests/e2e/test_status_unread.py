"""`status` (and the commands that only show Twilio) with a customer whose subaccount
Twilio does not answer for (SPEC §4.2): status shows every other customer in full and
that one as not read, with Twilio's reason, and exits 1; `output` and `access-request`
stop, since a partial ContentSid map or form would pass for a whole one."""

from __future__ import annotations

import json

import pytest

from tests.e2e.helpers import ISV, customer_doc
from tests.e2e.test_unread import subaccount

CONTENTS = r"^/v1/ContentAndApprovals$"
SENDERS = r"^/v2/Channels/Senders$"
CUSTOMERS = ("clinic-1", "clinic-2", "clinic-3")


@pytest.fixture
def estate(repo, cli, emulator):
    """Three applied customers that differ: clinic-1 with a rejected template, clinic-2
    onboarded, clinic-3 still at the Terms of Service (changes blocked)."""
    repo.write("wa-sync.yaml", ISV)
    repo.customer("clinic-1", customer_doc(1))
    repo.customer("clinic-2", customer_doc(2))
    repo.customer("clinic-3", customer_doc(3, onboarded=False))
    assert cli("apply", "--auto-approve").code == 0, "the set-up apply failed"
    contents = emulator.state()["contents"][subaccount(emulator, "clinic-1")]
    emulator.reject(contents[0]["sid"], reason="Sample values are missing for {{2}}")
    return repo


def block(out: str, customer: str) -> list[str]:
    """A customer's row of the text table, its further sender rows and its detail lines,
    each with its cells split (the columns' widths depend on the other rows)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(customer + " "))
    end = start + 1
    while end < len(lines) and lines[end].startswith(" "):
        end += 1
    return [" ".join(line.split()) for line in lines[start:end]]


def test_status_shows_the_others_in_full_and_the_customer_not_read_with_why(estate, cli, emulator):
    before = cli("status")
    assert before.code == 0, before.err
    sid = subaccount(emulator, "clinic-2")
    emulator.fail_next("GET", CONTENTS, status=403, account=sid)
    result = cli("status")
    assert result.code == 1, result.err
    for other in ("clinic-1", "clinic-3"):
        assert block(result.out, other) == block(before.out, other), other
    assert 'rejected: appointment_reminder[en]: "Sample values are missing' in result.out
    assert "blocked: " in "\n".join(block(result.out, "clinic-3"))
    shown = block(result.out, "clinic-2")
    assert shown[0] == "clinic-2 not read ? ? ?", result.out  # never "-": no senders
    why = " ".join(shown[1:])
    assert why.startswith("not read: Twilio could not be read for this customer: listing the")
    assert f"the subaccount {sid} refused its own credentials" in why  # Twilio's reason
    assert result.out.rstrip().endswith(
        "0 of the 2 customers read fully onboarded; 1 customer(s) not read from Twilio, "
        "their state unknown."
    ), result.out
    assert "Error: Twilio could not be read for 1 customer(s) (clinic-2)" in result.err


def test_status_json_keeps_the_customers_read_and_lists_the_one_not_read_apart(
    estate, cli, emulator
):
    before = cli("status", "--format", "json")
    assert before.code == 0, before.err
    whole = json.loads(before.out)
    assert whole["not_read"] == []
    sid = subaccount(emulator, "clinic-3")
    emulator.fail_next("GET", SENDERS, status=503, count=5, account=sid)  # every retry
    result = cli("status", "--format", "json")
    assert result.code == 1, result.err
    doc = json.loads(result.out)
    assert doc["customers"] == [c for c in whole["customers"] if c["id"] != "clinic-3"]
    (not_read,) = doc["not_read"]
    reason = not_read.pop("reason")
    assert not_read == {
        "id": "clinic-3",
        "name": "Clinic Number 3",
        "flow": "legacy",
        "subaccount_sid": sid,
    }
    assert reason.startswith(f"listing the senders of subaccount {sid}: ")
    assert "Twilio is unavailable, try again later" in reason
    rest = {k: v for k, v in doc.items() if k not in ("customers", "not_read")}
    assert rest == {k: v for k, v in whole.items() if k not in ("customers", "not_read")}
    assert "Twilio could not be read for 1 customer(s) (clinic-3)" in result.err


def test_with_every_customer_answering_status_is_unchanged(estate, cli):
    """No `not read` line, the usual last line, exit 0; JSON with an empty `not_read`."""
    text = cli("status")
    assert text.code == 0, text.err
    assert "not read" not in text.out
    assert text.out.rstrip().endswith("0 of 3 customers fully onboarded."), text.out
    doc = json.loads(cli("status", "--format", "json").out)
    assert ([c["id"] for c in doc["customers"]], doc["not_read"]) == (list(CUSTOMERS), [])


def test_the_reason_a_customer_was_not_read_holds_no_token(estate, cli, emulator):
    """Twilio's message is quoted as the reason: a token it quotes back is hidden."""
    sid = subaccount(emulator, "clinic-1")
    (token,) = [a["auth_token"] for a in emulator.state()["accounts"] if a["sid"] == sid]
    for fmt in ("text", "json"):
        emulator.fail_next(
            "GET", CONTENTS, status=403, account=sid, message=f"refused {sid}:{token}"
        )
        result = cli("status", "--format", fmt)
        assert result.code == 1, result.err
        assert token not in result.out + result.err
        assert f"refused {sid}:***" in result.out, result.out  # the rest of what Twilio said


def test_status_of_only_a_customer_not_read(estate, cli, emulator):
    emulator.fail_next("GET", CONTENTS, status=403, account=subaccount(emulator, "clinic-2"))
    result = cli("status", "--customer", "clinic-2")
    assert result.code == 1
    assert block(result.out, "clinic-2")[0] == "clinic-2 not read ? ? ?"
    assert result.out.rstrip().endswith(
        "\n1 customer(s) not read from Twilio, their state unknown."
    ), result.out


def test_output_stops_at_a_customer_not_read(estate, cli, emulator):
    """A ContentSid map without one customer would have a sending system miss its
    templates: `output` prints nothing and fails, naming the subaccount and why."""
    sid = subaccount(emulator, "clinic-2")
    for fmt in ("text", "json"):
        emulator.fail_next("GET", CONTENTS, status=403, account=sid)
        result = cli("output", "--format", fmt)
        assert (result.code, result.out) == (1, ""), result
        assert f"the subaccount {sid} refused its own credentials" in result.err


def test_access_request_needs_no_answer_from_its_customers_subaccount(estate, cli, emulator):
    """Its form is made of the configuration and the parent's subaccount listing: a
    subaccount that refuses its own credentials does not stop it."""
    sid = subaccount(emulator, "clinic-2")
    emulator.fail_next("GET", CONTENTS, status=403, account=sid)
    emulator.fail_next("GET", SENDERS, status=403, account=sid)
    emulator.clear_request_log()
    result = cli("access-request", "clinic-2")
    assert result.code == 0, result
    assert sid in result.out
    assert [e["path"] for e in emulator.request_log() if e["account_sid"] == sid] == []
