"""`verification: sms | voice` is how Meta sends a sender's one-time code, asked once, at
registration (notes/twilio-api.md 4.1, 4.3). Declared anew for a registered sender it
changes nothing: the plan says so and what to do, never silence."""

from __future__ import annotations

from tests.e2e.helpers import customer_doc, estate_writes
from tests.e2e.test_verify import PHONE, pending  # noqa: F401 (a fixture)


def _declare(verification: str):
    return lambda d: d["senders"][0].update(verification=verification)


def test_a_new_verification_method_of_a_sender_waiting_for_its_code_is_told(
    pending,  # noqa: F811
    cli,
    emulator,
):
    pending.edit("customers/shop.yaml", _declare("sms"))  # registered asking for a call
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out  # nothing Twilio would do
    text = " ".join(plan.out.split())
    assert "registered with `verification: voice`" in text
    assert "`verification: sms` changes nothing" in text
    assert f"wa-sync verify shop {PHONE} CODE" in text
    assert "delete the sender in the Twilio console and apply again" in text
    emulator.clear_request_log()
    assert cli("apply", "--auto-approve").code == 0
    assert estate_writes(emulator.request_log()) == []


def test_a_new_verification_method_of_an_online_sender_is_told(repo, cli, emulator):
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    emulator.advance_clock(3600)  # ONLINE: the number is verified
    repo.edit("customers/clinic-one.yaml", _declare("voice"))
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out
    text = " ".join(plan.out.split())
    assert "registered with `verification: sms`" in text
    assert "`verification: voice` changes nothing" in text
    repo.edit("customers/clinic-one.yaml", _declare("sms"))
    assert "verification" not in cli("plan").out
