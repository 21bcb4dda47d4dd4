"""Where an embedded_signup customer stands in the Tech Provider flow (SPEC §1.1):
the ISV's approval, the subaccount, Embedded Signup, the sender, its one-time code,
the sender online, the templates. Pure functions of the model."""

from __future__ import annotations

from wa_sync.health import ONLINE, PENDING_VERIFICATION, needs_action, next_step
from wa_sync.model import Customer, Flow, Isv, LiveCustomer, Signup, TechProviderStatus
from wa_sync.plan.change import Actor
from wa_sync.stage import ONBOARDED, Stage, templates_stage

FLOW = Flow.EMBEDDED_SIGNUP


def signup_stage(customer: Customer, live: LiveCustomer, isv: Isv) -> Stage:
    """The first step of SPEC §1.1 that is not done, with who must act next."""
    stage = (
        _tech_provider(isv)
        or _subaccount(live)
        or _signup(customer)
        or _sender(customer, live)
        or templates_stage(customer, live, step=6, flow=FLOW)
    )
    return stage or Stage(ONBOARDED, "nothing: every template is approved", None, flow=FLOW)


def _tech_provider(isv: Isv) -> Stage | None:
    status = isv.tech_provider.status
    if status is TechProviderStatus.APPROVED:
        return None
    if status is TechProviderStatus.PENDING:
        return Stage(
            0,
            "approve the ISV as a Tech Provider (then record `isv.tech_provider.status: "
            "approved` in wa-sync.yaml)",
            Actor.META,
            waiting=True,
            flow=FLOW,
        )
    return Stage(
        0,
        "apply to Twilio's WhatsApp Tech Provider Program (then record "
        "`isv.tech_provider.status: pending` in wa-sync.yaml)",
        Actor.ISV,
        flow=FLOW,
    )


def _subaccount(live: LiveCustomer) -> Stage | None:
    if live.account is None:
        return Stage(1, "run `wa-sync apply` to create the subaccount", Actor.ISV, flow=FLOW)
    return None


def _signup(customer: Customer) -> Stage | None:
    if customer.onboarding.signup is not Signup.COMPLETED:
        return Stage(
            2,
            "complete Meta's Embedded Signup in the ISV's application (then the ISV records "
            "`onboarding.signup: completed` and the `waba_id` it returned)",
            Actor.CUSTOMER,
            flow=FLOW,
        )
    if not customer.waba_id:
        return Stage(
            2,
            "record as `waba_id` the WhatsApp Business Account ID Embedded Signup returned",
            Actor.ISV,
            flow=FLOW,
        )
    return None


def _sender(customer: Customer, live: LiveCustomer) -> Stage | None:
    if not customer.senders:
        return Stage(3, "declare a sender in the customer file", Actor.ISV, flow=FLOW)
    declared = {s.sender_id for s in customer.senders}
    registered = [s for s in live.senders if s.sender_id in declared]
    if len(registered) < len(declared):
        return Stage(3, "run `wa-sync apply` to register the sender", Actor.ISV, flow=FLOW)
    for sender in registered:
        if sender.status == PENDING_VERIFICATION:
            return Stage(4, next_step(customer.id, sender), Actor.CUSTOMER, flow=FLOW)
    for sender in registered:
        if sender.status == ONLINE:
            continue
        action = f"{sender.phone_number}: {next_step(customer.id, sender)}"
        if needs_action(sender):  # OFFLINE: whatever its reasons name
            return Stage(5, action, Actor.ISV, flow=FLOW)
        return Stage(5, action, Actor.META, waiting=True, flow=FLOW)
    return None
