"""Onboarding gates (SPEC §1): which manual step blocks a change, and who must act.

Pure functions of the declared customer. A prerequisite that the same plan
creates (the sender a submission needs) does not block: apply orders the two.
"""

from __future__ import annotations

from wa_sync.model import AccessRequest, Customer, Invitation
from wa_sync.plan.change import STEPS, Actor, Gate


def _gate(step: int, actor: Actor, action: str) -> Gate:
    return Gate(step=step, name=STEPS[step], actor=actor, action=action)


def sender_gate(customer: Customer) -> Gate | None:
    """What stops a sender being registered or changed (steps 2, 5 and 6)."""
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
        return _gate(
            6,
            Actor.CUSTOMER,
            action="finish WhatsApp Business Account set-up so that its ID can be "
            "recorded as `waba_id`",
        )
    return None


def submit_gate(customer: Customer, *, sender_ready: bool) -> Gate | None:
    """What stops templates being submitted for approval (steps 6 and 7).

    `sender_ready`: a sender is online in Twilio or is registered by this plan."""
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
