"""A customer's onboarding stage: the first step not done and who must act next, in
either flow (SPEC §1, §1.1); the templates' step, which both flows end with."""

from __future__ import annotations

from dataclasses import dataclass

from wa_sync.health import (
    INVITATION_NOT_ACCEPTED,
    ONLINE,
    PENDING_VERIFICATION,
    needs_action,
    next_step,
    offline_reasons,
)
from wa_sync.model import ApprovalStatus, Customer, Flow, LiveAccount, LiveCustomer, LiveSender
from wa_sync.plan.change import SIGNUP_STEPS, STEPS, Actor

ONBOARDED = 9  # every step done (past the last step of either flow)


@dataclass(frozen=True, slots=True)
class Stage:
    step: int  # the first step not done (1-8, or 0-6 in §1.1); ONBOARDED when all are
    next_action: str
    actor: Actor | None  # who must act; None when onboarded
    waiting: bool = False  # the ball is with Twilio or Meta
    flow: Flow = Flow.LEGACY

    @property
    def steps(self) -> dict[int, str]:
        return SIGNUP_STEPS if self.flow is Flow.EMBEDDED_SIGNUP else STEPS

    @property
    def name(self) -> str:
        return self.steps.get(self.step, "onboarded")

    @property
    def last_step(self) -> int:
        return max(self.steps)


def sender_stage(
    customer_id: str, registered: list[LiveSender], *, step: int, code_step: int, flow: Flow
) -> Stage | None:
    """The first registered sender not ONLINE, in either flow: its one-time code
    (`code_step`), else what it needs (`step`), from a person when one must act (OFFLINE,
    left unfinished in the console), else from Twilio and Meta."""
    for sender in registered:
        if sender.status == PENDING_VERIFICATION:
            return Stage(code_step, next_step(customer_id, sender), Actor.CUSTOMER, flow=flow)
    for sender in registered:
        if sender.status == ONLINE:
            continue
        action = f"{sender.phone_number}: {next_step(customer_id, sender)}"
        if needs_action(sender):
            return Stage(step, action, _who_acts(sender), flow=flow)
        return Stage(step, action, Actor.META, waiting=True, flow=flow)
    return None


def _who_acts(sender: LiveSender) -> Actor:
    """The customer when Twilio's only reason is one the customer alone can fix (its
    business has not accepted Twilio's invitation), else the ISV."""
    codes = {reason.code for reason in offline_reasons(sender)}
    return Actor.CUSTOMER if codes == {INVITATION_NOT_ACCEPTED} else Actor.ISV


def templates_stage(
    customer: Customer, live: LiveCustomer, step: int = 8, flow: Flow = Flow.LEGACY
) -> Stage | None:
    """The templates' step: created, submitted, reviewed (legacy step 8, §1.1 step 6)."""
    statuses = [c.approval_status for c in live.contents]
    if len(live.contents) < len({t.key for t in customer.templates}) or (
        ApprovalStatus.UNSUBMITTED in statuses
    ):
        return Stage(
            step, "run `wa-sync apply` to create and submit the templates", Actor.ISV, flow=flow
        )
    if ApprovalStatus.REJECTED in statuses:
        return Stage(step, "change the rejected templates and apply again", Actor.ISV, flow=flow)
    if any(s.in_review for s in statuses):
        return Stage(
            step, "wait for WhatsApp to review the templates", Actor.META, waiting=True, flow=flow
        )
    return None


def subaccount_stage(customer: Customer, live: LiveCustomer, flow: Flow) -> Stage | None:
    """Step 1 of either flow: a subaccount that Twilio lets wa-sync work in."""
    account = live.account
    if account is None:
        return Stage(1, "run `wa-sync apply` to create the subaccount", Actor.ISV, flow=flow)
    if account.status == "active":
        return None
    action = f"subaccount {account.sid} is {account.status}, and " + inactive_fix(
        account, f"customers/{customer.id}.yaml"
    )
    return Stage(1, action, Actor.ISV, flow=flow)


def inactive_fix(account: LiveAccount, cfile: str) -> str:
    """What to do about a closed or suspended subaccount, whose credentials Twilio refuses."""
    if account.status == "closed":
        return (
            f"a closed subaccount cannot be reopened: remove account_sid from {cfile}, then "
            "run `wa-sync apply`, which creates a new one"
        )
    return (
        f"reactivate subaccount {account.sid} (Twilio Console, or the Accounts API with "
        "Status=active), then check again"
    )
