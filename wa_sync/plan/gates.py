"""Onboarding gates (SPEC §1, §1.1): which manual step blocks a change, and who must act.

Pure functions of the declared customer (and the ISV, whose Tech Provider approval
gates every embedded_signup customer). A prerequisite that the same plan creates
(the sender a submission needs) does not block: apply orders the two.
"""

from __future__ import annotations

from wa_sync.model import (
    AccessRequest,
    Customer,
    Flow,
    Invitation,
    Isv,
    Signup,
    TechProviderStatus,
)
from wa_sync.plan.change import SIGNUP_STEPS, STEPS, Actor, Gate

NO_ISV = Isv()
# a legacy customer without `waba_id` (there is no Embedded Signup in that flow)
WABA_SETUP = "finish WhatsApp Business Account set-up so that its ID can be recorded as `waba_id`"


def _gate(step: int, actor: Actor, action: str) -> Gate:
    return Gate(step=step, name=STEPS[step], actor=actor, action=action)


def _signup_gate(step: int, actor: Actor, action: str) -> Gate:
    return Gate(step=step, name=SIGNUP_STEPS[step], actor=actor, action=action)


def sender_gate(customer: Customer, isv: Isv = NO_ISV) -> Gate | None:
    """What stops a sender being registered or changed: steps 2, 5 and 6 of the legacy
    flow, steps 0 and 2 of the embedded_signup flow."""
    if customer.onboarding.flow is Flow.EMBEDDED_SIGNUP:
        return signup_sender_gate(customer, isv)
    ob = customer.onboarding
    if not ob.terms_accepted:
        return _gate(
            2,
            Actor.CUSTOMER,
            action="accept the WhatsApp Terms of Service in their own Twilio project "
            "(then record `onboarding.terms_accepted: true`)",
        )
    if ob.access_request is AccessRequest.NOT_SUBMITTED:
        return _gate(
            5,
            Actor.ISV,
            action=f"submit the access request (`wa-sync access-request {customer.id}` "
            "prints the form), then record `onboarding.access_request: submitted`",
        )
    if ob.access_request is AccessRequest.SUBMITTED:
        return _gate(
            5,
            Actor.META,
            action="approve the submitted access request "
            "(then record `onboarding.access_request: approved`)",
        )
    if ob.access_request is AccessRequest.DENIED:
        return _gate(
            5,
            Actor.ISV,
            action="correct the denied access request and submit it again",
        )
    if not customer.waba_id:
        return _gate(6, Actor.CUSTOMER, action=WABA_SETUP)
    return None


def signup_sender_gate(customer: Customer, isv: Isv) -> Gate | None:
    """SPEC §1.1: the ISV is an approved Tech Provider (step 0), the customer finished
    Embedded Signup and its WABA ID is recorded (step 2)."""
    status = isv.tech_provider.status
    if status is not TechProviderStatus.APPROVED:
        return _signup_gate(
            0,
            Actor.ISV if status is TechProviderStatus.NOT_APPLIED else Actor.META,
            action="apply to Twilio's WhatsApp Tech Provider Program (then record "
            "`isv.tech_provider.status: pending` in wa-sync.yaml)"
            if status is TechProviderStatus.NOT_APPLIED
            else "approve the ISV as a Tech Provider (then record "
            "`isv.tech_provider.status: approved` in wa-sync.yaml)",
        )
    if customer.onboarding.signup is not Signup.COMPLETED:
        return _signup_gate(
            2,
            Actor.CUSTOMER,
            action="complete Meta's Embedded Signup in the ISV's application (then record "
            "`onboarding.signup: completed` and the `waba_id` it returned)",
        )
    if not customer.waba_id:
        return _signup_gate(
            2,
            Actor.ISV,
            action="record as `waba_id` the WhatsApp Business Account ID that Embedded "
            "Signup returned",
        )
    return None


def submit_gate(customer: Customer, *, sender_ready: bool, isv: Isv = NO_ISV) -> Gate | None:
    """What stops templates being submitted for approval (legacy steps 6 and 7; in the
    embedded_signup flow, only a sender: there is no invitation).

    `sender_ready`: a sender exists in Twilio (any status) or is registered by this plan."""
    if customer.onboarding.flow is Flow.EMBEDDED_SIGNUP:
        if sender_ready:
            return None
        return signup_sender_gate(customer, isv) or _signup_gate(
            3, Actor.ISV, action="declare a WhatsApp sender for this customer"
        )
    if customer.onboarding.invitation is not Invitation.APPROVED:
        pending = customer.onboarding.invitation is Invitation.PENDING
        return _gate(
            7,
            Actor.CUSTOMER,
            action="approve Twilio's invitation in Facebook Business Manager "
            "(then record `onboarding.invitation: approved`)"
            if pending
            else "receive and approve Twilio's invitation in Facebook Business Manager "
            "(then record `onboarding.invitation: approved`)",
        )
    if not sender_ready:
        blocker = sender_gate(customer)
        if blocker is not None:
            return blocker
        return _gate(
            6,
            Actor.ISV,
            action="declare a WhatsApp sender for this customer",
        )
    return None


def held_registration_gate(customer: Customer) -> Gate:
    """What stops templates being submitted while the customer's only sender waits: its
    registration is held back because the number may be registered elsewhere (a number
    registers once, plan/registrations.py), and Twilio submits templates for a sender."""
    step = 3 if customer.onboarding.flow is Flow.EMBEDDED_SIGNUP else 6
    steps = SIGNUP_STEPS if customer.onboarding.flow is Flow.EMBEDDED_SIGNUP else STEPS
    return Gate(
        step=step,
        name=steps[step],
        actor=Actor.ISV,
        action="register its sender first, which this plan holds back (see the warning "
        "on the sender)",
    )
