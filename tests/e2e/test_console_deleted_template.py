"""An approved template deleted in the Twilio console: WhatsApp blocks its name for 30
days at submission (Meta's template management docs, notes/whatsapp-rules-sources.md
1.9), and Twilio tells no one when it was deleted. The first apply learns it from
WhatsApp's refusal and records it; from then on the plan tells the name as blocked,
until when and how to proceed, instead of an apply that fails every time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import requests

from tests.e2e.helpers import customer_doc, estate_writes
from tests.e2e.test_reconcile import account_of, contents_of

CID = "clinic-one"


def _delete_in_console(emulator, name: str) -> None:
    account = account_of(emulator, CID)
    (content,) = [c for c in contents_of(emulator, CID) if c["friendly_name"] == name]
    answer = requests.delete(
        f"{emulator.url}/v1/Content/{content['sid']}",
        auth=(account["sid"], account["auth_token"]),
        timeout=10,
    )
    assert answer.status_code == 204, answer.text


def test_a_template_deleted_in_the_console_is_blocked_not_failed_again(repo, cli, emulator):
    repo.customer(CID, customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    (recall,) = [c for c in contents_of(emulator, CID) if c["friendly_name"] == "recall_offer"]
    emulator.approve(recall["sid"])
    _delete_in_console(emulator, "recall_offer")

    first = cli("apply", "--auto-approve")  # Twilio said nothing: WhatsApp refuses the name
    assert first.code != 0
    said = " ".join((first.out + first.err).split())
    assert "WhatsApp blocks the name recall_offer" in said
    assert "30 days" in said

    until = datetime.now(UTC) + timedelta(days=30)
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err  # blocked is not a change
    text = " ".join(plan.out.split())
    assert "! customer.clinic-one/template.recall_offer[en]" in plan.out
    assert f"release the name recall_offer by {until:%Y-%m-%d}" in text
    assert "declare the template under another name" in text
    doc = json.loads(cli("plan", "--format", "json").out)
    assert doc["summary"]["blocked"] == 1
    emulator.clear_request_log()
    assert cli("apply", "--auto-approve").code == 0
    assert estate_writes(emulator.request_log()) == []  # never attempted again
