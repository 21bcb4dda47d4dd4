"""Where an embedded_signup customer stands in the Tech Provider flow (SPEC §1.1):
the ISV's approval, the subaccount, Embedded Signup, the sender, its one-time code,
the sender online, the templates. Pure functions of the model."""

from __future__ import annotations

from wa_sync.model import Customer, Flow, Isv, LiveCustomer
from wa_sync.plan.change import Actor, Gate
from wa_sync.plan.gates import signup_sender_gate
from wa_sync.stage import ONBOARDED, Stage, sender_stage, subaccount_stage, templates_stage

FLOW = Flow.EMBEDDED_SIGNUP


def signup_stage(customer: Customer, live: LiveCustomer, isv: Isv) -> Stage:
    """The first step of SPEC §1.1 that is not done, with who must act next."""
    gate = signup_sender_gate(customer, isv)  # step 0 or 2, as the plan blocks on it
    stage = (
        (_from_gate(gate) if gate is not None and gate.step == 0 else None)
        or subaccount_stage(customer, live, FLOW)
        or (_from_gate(gate) if gate is not None else None)
        or _sender(customer, live)
        or templates_stage(customer, live, step=6, flow=FLOW)
    )
    return stage or Stage(ONBOARDED, "nothing: every template is approved", None, flow=FLOW)


def _from_gate(gate: Gate) -> Stage:
    """The stage of a step that blocks the sender, in the plan's own words."""
    return Stage(gate.step, gate.action, gate.actor, waiting=gate.actor is Actor.META, flow=FLOW)


def _sender(customer: Customer, live: LiveCustomer) -> Stage | None:
    if not customer.senders:
        return Stage(3, "declare a sender in the customer file", Actor.ISV, flow=FLOW)
    declared = {s.sender_id for s in customer.senders}
    registered = [s for s in live.senders if s.sender_id in declared]
    if len(registered) < len(declared):
        return Stage(3, "run `wa-sync apply` to register the sender", Actor.ISV, flow=FLOW)
    return sender_stage(customer.id, registered, step=5, code_step=4, flow=FLOW)
