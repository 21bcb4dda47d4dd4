"""A sender's status in the plan as in `status` (health.py, one list): Twilio at work on
it (ONLINE:UPDATING after an update, say) is waiting; a DRAFT needs a person."""

from __future__ import annotations

import json

import pytest

from tests.e2e.helpers import customer_doc


@pytest.mark.parametrize(("status", "kind"), [("ONLINE:UPDATING", "waiting"), ("DRAFT", "warning")])
def test_the_plan_tells_a_sender_s_status_as_status_does(repo, cli, emulator, status, kind):
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    (account,) = emulator.state()["accounts"]
    (sender,) = emulator.state()["senders"][account["sid"]]
    emulator.set_sender_status(sender["sid"], status)

    notes = json.loads(cli("plan", "--format", "json").out)["notes"]
    (note,) = [n for n in notes if n["address"].endswith("sender.whatsapp:+14155550001")]
    assert note["kind"] == kind
