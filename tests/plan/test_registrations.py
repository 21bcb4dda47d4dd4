"""A number registers once (plan/registrations.py), with what a scoped plan read out of
its scope (`Elsewhere`): its holders and the customers it could not read."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.plan.factories import customer, estate, live, live_sender, sender
from wa_sync.model import Config, LiveCustomer
from wa_sync.plan.build import PlanBuilder
from wa_sync.plan.change import Action, Phase
from wa_sync.plan.registrations import Elsewhere, one_registration_per_number

NUMBER = "whatsapp:+14155550100"  # factories.sender()'s
MOVED = replace(customer(), id="bravo")  # declares NUMBER, registered nowhere yet
HOLDER = LiveCustomer(customer_id="acme", senders=(live_sender(sender()),))
OTHER = LiveCustomer(
    customer_id="acme", senders=(replace(live_sender(sender()), sender_id="whatsapp:+1999"),)
)


def bravo_changes():
    """bravo's plan with its subaccount and no sender yet: NUMBER is to register."""
    builder = PlanBuilder(Config(root=".", customers=(MOVED,)), customers=["bravo"])
    current = live(MOVED, senders=())
    plan = builder.finish(estate(current))
    return [c for c in plan.changes if c.customer == "bravo"]


@pytest.mark.parametrize(
    ("elsewhere", "registered", "said"),
    [
        (None, True, ""),
        (Elsewhere(customers={"acme": OTHER}), True, ""),
        (
            Elsewhere(customers={"acme": HOLDER}),
            False,
            f"{NUMBER} is registered in customer acme's subaccount (XE",
        ),
        (
            Elsewhere(unread={"acme": "listing the senders of subaccount AC1: 403"}),
            False,
            "customer acme (out of this plan's scope; listing the senders of subaccount AC1: "
            f"403) was not read from Twilio, so {NUMBER} may be registered there",
        ),
        (
            Elsewhere(customers={"acme": OTHER}, unread={"zulu": "503"}),
            False,
            "customer zulu (out of this plan's scope; 503) was not read from Twilio",
        ),
        (
            Elsewhere(unmanaged={"AC9 ('By Hand')": HOLDER.senders}),
            False,
            f"{NUMBER} is registered in subaccount AC9 ('By Hand'), which no customer file "
            "manages (XE",
        ),
        (
            Elsewhere(unread_unmanaged={"AC9 ('By Hand')": "503"}),
            False,
            "subaccount AC9 ('By Hand') (which no customer file manages; 503) was not read",
        ),
    ],
    ids=[
        "nothing-read",
        "holds-another-number",
        "holds-it",
        "not-answering",
        "one-not-answering",
        "unmanaged-holds-it",
        "unmanaged-not-answering",
    ],
)
def test_the_senders_out_of_scope_hold_a_registration_back(elsewhere, registered, said):
    changes = bravo_changes()
    assert any(c.phase is Phase.SENDER and c.action is Action.CREATE for c in changes)
    kept, notes = one_registration_per_number(changes, {}, (), elsewhere)
    creates = [c for c in kept if c.phase is Phase.SENDER and c.action is Action.CREATE]
    assert bool(creates) is registered
    if said:
        (note,) = notes
        assert (note.customer, note.address) == ("bravo", f"customer.bravo/sender.{NUMBER}")
        assert said in note.message
        assert "Meta blocks it for 72 hours after 10 registrations" in note.message
    else:
        assert notes == []


def test_a_registration_while_subaccounts_are_suspended_goes_ahead_with_a_warning():
    """Their senders cannot be read, and a suspension lasts: held back, the number would
    wait for ever; registered in silence, a refusal by Twilio would come unannounced."""
    suspended = ["AC7 (customer zulu)", "AC8 ('By Hand')"]
    kept, (note,) = one_registration_per_number(bravo_changes(), {}, (), None, suspended)
    assert [c for c in kept if c.phase is Phase.SENDER and c.action is Action.CREATE]
    assert note.kind.value == "warning"
    assert note.message.startswith(
        f"{NUMBER} may be registered in suspended subaccount AC7 (customer zulu), "
        "AC8 ('By Hand'), whose senders Twilio does not show"
    )
    # a holder that was read holds it back as before, without the warning
    kept, (held,) = one_registration_per_number(
        bravo_changes(), {}, (), Elsewhere(customers={"acme": HOLDER}), suspended
    )
    assert not [c for c in kept if c.phase is Phase.SENDER and c.action is Action.CREATE]
    assert "suspended" not in held.message


def test_a_customer_in_scope_not_read_is_named_without_its_reason():
    """Its own unread note says why; the held-back one only names it."""
    _, (note,) = one_registration_per_number(
        bravo_changes(), {}, ["acme"], Elsewhere(unread={"zulu": "503"})
    )
    assert "customer acme, zulu (out of this plan's scope; 503) was not read" in note.message


def scoped(declared):
    """A builder of bravo alone, in an estate of acme and bravo, read."""
    config = Config(root=".", customers=(customer(), declared))
    builder = PlanBuilder(config, customers=["bravo"], estate=["acme", "bravo"])
    return builder, estate(live(customer()), live(declared, senders=()))


def test_only_a_scoped_plan_that_registers_a_number_reads_out_of_its_scope():
    builder, current = scoped(MOVED)
    assert builder.outside(current) == ("acme",)
    builder, current = scoped(replace(MOVED, senders=()))
    assert builder.outside(current) is None
    whole = PlanBuilder(
        Config(root=".", customers=(customer(), MOVED)), customers=["acme", "bravo"]
    )
    assert whole.outside(current) == ()


def test_the_consulted_holder_holds_back_and_is_not_planned():
    builder, current = scoped(MOVED)
    builder.consult(Elsewhere(customers={"acme": live(customer())}))
    plan = builder.finish(current)
    assert {c.customer for c in plan.changes} | {n.customer for n in plan.notes} == {"bravo"}
    assert f"customer.bravo/sender.{NUMBER}" in {n.address for n in plan.notes}
    assert f"customer.bravo/sender.{NUMBER}" not in {c.address for c in plan.changes}
    assert plan.customers == ("bravo",)


def whole_plan(bravo_live):
    """The plan of acme (holding NUMBER) and bravo (declaring it), with bravo's state."""
    config = Config(root=".", customers=(customer(), MOVED))
    builder = PlanBuilder(config, customers=["acme", "bravo"])
    return builder.finish(estate(live(customer()), bravo_live))


def bravo_submits(plan):
    return [c for c in plan.changes if c.customer == "bravo" and c.phase is Phase.APPROVAL]


def test_the_templates_of_a_customer_whose_only_registration_is_held_back_wait_for_it():
    (submit,) = bravo_submits(whole_plan(live(MOVED, senders=(), contents=())))
    assert submit.action is Action.BLOCKED
    assert (submit.blocked_by.step, submit.blocked_by.name) == (6, "WhatsApp sender")
    assert "which this plan holds back" in submit.reason
    assert submit.reason.startswith("would submit reminder for WhatsApp approval")


def test_the_templates_of_a_customer_with_a_sender_in_twilio_are_still_submitted():
    other = replace(live_sender(sender()), sender_id="whatsapp:+1999")
    (submit,) = bravo_submits(whole_plan(live(MOVED, senders=(other,), contents=())))
    assert submit.action is Action.SUBMIT


def test_the_templates_of_a_customer_registering_another_number_are_still_submitted():
    second = replace(sender(), phone_number="+14155550199")
    declared = replace(MOVED, senders=(*MOVED.senders, second))
    config = Config(root=".", customers=(customer(), declared))
    plan = PlanBuilder(config, customers=["acme", "bravo"]).finish(
        estate(live(customer()), live(declared, senders=(), contents=()))
    )
    (submit,) = bravo_submits(plan)
    assert submit.action is Action.SUBMIT
