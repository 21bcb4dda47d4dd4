"""A customer's `waba_id` against the WhatsApp Business Account its senders are
registered with in Twilio: a difference is shown, and never carried out unseen."""

from __future__ import annotations

import json

from tests.e2e.helpers import customer_doc


def test_a_changed_waba_id_is_shown_and_no_update_moves_a_sender(repo, cli, emulator):
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    (account,) = emulator.state()["accounts"]
    (sender,) = emulator.state()["senders"][account["sid"]]
    registered = sender["configuration"]["waba_id"]

    # a typo in waba_id, with nothing else changed: the plan says so (in every format)
    repo.edit("customers/clinic-one.yaml", lambda d: d.update(waba_id="104000000009999"))
    text = cli("plan")
    assert text.code == 0, text.err
    assert registered in text.out
    assert "104000000009999" in text.out
    assert "waba_id" in text.out
    notes = json.loads(cli("plan", "--format", "json").out)["notes"]
    assert any(registered in n["message"] and "104000000009999" in n["message"] for n in notes)
    assert registered in cli("plan", "--format", "markdown").out

    # with a profile change too, apply updates the profile, not the sender's WABA
    repo.edit(
        "customers/clinic-one.yaml", lambda d: d["senders"][0]["profile"].update(about="New words")
    )
    assert cli("apply", "--auto-approve").code == 0
    (sender,) = emulator.state()["senders"][account["sid"]]
    assert sender["profile"]["about"] == "New words"
    assert sender["configuration"]["waba_id"] == registered
