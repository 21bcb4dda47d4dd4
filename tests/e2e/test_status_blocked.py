"""`status` says which changes are blocked and by what: the onboarding step (the gate),
who must act and what they must do (SPEC §3, issue 17 item 13)."""

from __future__ import annotations

import json

from tests.e2e.helpers import customer_doc
from tests.e2e.test_embedded_signup import APPROVED_ISV, signup_doc
from tests.e2e.test_reconcile import senders_of


def test_status_lists_each_blocked_change_with_its_gate_and_actor(repo, cli, emulator):
    repo.customer("clinic-one", customer_doc(1))
    repo.customer("newbie", customer_doc(3, onboarded=False))
    assert cli("apply", "--auto-approve").code == 0

    doc = json.loads(cli("status", "--format", "json").out)
    by_id = {c["id"]: c for c in doc["customers"]}
    assert by_id["clinic-one"]["blocked"] == []
    blocked = by_id["newbie"]["blocked"]
    sender = next(b for b in blocked if b["address"].endswith("sender.whatsapp:+14155550003"))
    assert sender["step"] == 2
    assert sender["gate"] == "Terms of Service"
    assert sender["actor"] == "customer"
    assert "accept the WhatsApp Terms of Service" in sender["action"]
    templates = [b for b in blocked if "/template." in b["address"]]
    assert len(templates) == 3
    # the plan blocks exactly these
    plan = json.loads(cli("plan", "--format", "json").out)
    planned = sorted(c["address"] for c in plan["changes"] if c["action"] == "blocked")
    assert sorted(b["address"] for b in blocked) == planned

    text = cli("status").out
    assert (
        "  blocked: 1 change at step 2 (Terms of Service): customer must accept the WhatsApp"
        in text
    )
    assert "sender.whatsapp:+14155550003" in text
    assert "blocked: 3 changes at step" in text


def test_a_legacy_customer_without_a_waba_is_told_the_legacy_step(repo, cli, emulator):
    """A legacy customer has no Embedded Signup (that is the Tech Provider flow): its
    next step without a `waba_id` is the one the plan's blocked sender names."""
    doc = customer_doc(1)
    doc.pop("waba_id")
    repo.customer("no-waba", doc)
    assert cli("apply", "--auto-approve").code == 0

    (customer,) = json.loads(cli("status", "--format", "json").out)["customers"]
    (blocked,) = [b for b in customer["blocked"] if "/sender." in b["address"]]
    assert customer["flow"] == "legacy"
    assert customer["stage"]["step"] == blocked["step"] == 6
    assert customer["stage"]["next_action"] == blocked["action"]
    assert customer["stage"]["actor"] == blocked["actor"]
    assert "Embedded Signup" not in cli("status").out


def test_a_sender_left_unfinished_in_the_console_is_the_isvs_to_finish(repo, cli, emulator):
    """A DRAFT sender waits for nobody at Twilio or Meta: status called it theirs to
    move (`ACTION BY Twilio/Meta`, and in the legacy flow "wait for sender ... to come
    online"), and counted no sender needing action, in either flow."""
    repo.write("wa-sync.yaml", APPROVED_ISV)
    repo.customer("legacy-shop", customer_doc(1))
    repo.customer("signup-shop", signup_doc(2))
    assert cli("apply", "--auto-approve").code == 0
    for senders in emulator.state()["senders"].values():
        for sender in senders:
            emulator.set_sender_status(sender["sid"], "DRAFT")

    shown = json.loads(cli("status", "--format", "json").out)["customers"]
    for customer in shown:
        stage = customer["stage"]
        assert (stage["actor"], stage["waiting"]) == ("ISV", False), customer["id"]
        assert "finish the sender in the Twilio console" in stage["next_action"]
        assert [s["needs_action"] for s in customer["senders"]] == [True]
    text = cli("status").out
    assert "2 sender(s) need action" in text
    assert "Twilio/Meta" not in text


def test_a_sender_offline_for_twilios_invitation_waits_on_the_customer(repo, cli, emulator):
    """Twilio's 63020: the business has not accepted Twilio's invitation, which only the
    customer can do (in Meta Business Suite); status said the ISV must act."""
    repo.write("wa-sync.yaml", APPROVED_ISV)
    repo.customer("signup-shop", signup_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    (sender,) = senders_of(emulator, "signup-shop")
    emulator.set_sender_status(sender["sid"], "OFFLINE", ["63020"])

    (customer,) = json.loads(cli("status", "--format", "json").out)["customers"]
    assert customer["stage"]["actor"] == "customer"
    assert "has not accepted Twilio's invitation" in customer["stage"]["next_action"]
