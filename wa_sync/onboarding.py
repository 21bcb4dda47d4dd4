"""Where each customer stands in Twilio's ISV onboarding (SPEC §1; an embedded_signup
customer's steps are in wa_sync.signup), and the access-request form check (SPEC §4.7).
Pure functions of the model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wa_sync.health import INVITATION_NOT_ACCEPTED, offline_reasons
from wa_sync.model import (
    AccessRequest,
    BusinessVerification,
    Customer,
    Flow,
    Invitation,
    Isv,
    LiveAccount,
    LiveCustomer,
    LiveSender,
)
from wa_sync.plan.change import Actor
from wa_sync.plan.gates import WABA_SETUP
from wa_sync.signup import signup_stage
from wa_sync.stage import (
    ONBOARDED,
    Stage,
    inactive_fix,
    sender_stage,
    subaccount_stage,
    templates_stage,
)

NO_ISV = Isv()


def onboarding_stage(customer: Customer, live: LiveCustomer, isv: Isv = NO_ISV) -> Stage:
    """The first onboarding step that is not done, with who must act next."""
    if customer.onboarding.flow is Flow.EMBEDDED_SIGNUP:
        return signup_stage(customer, live, isv)
    if (stage := subaccount_stage(customer, live, Flow.LEGACY)) is not None:
        return stage
    for check in (_manual_steps, _access, _sender, _invitation, templates_stage):
        stage = check(customer, live)
        if stage is not None:
            return stage
    return Stage(ONBOARDED, "nothing: every template is approved", None)


def _manual_steps(customer: Customer, live: LiveCustomer) -> Stage | None:
    ob = customer.onboarding
    if not ob.terms_accepted:
        return Stage(
            2,
            "accept the WhatsApp Terms of Service in their own Twilio project, then record "
            "`onboarding.terms_accepted: true`",
            Actor.CUSTOMER,
        )
    approved = ob.access_request is AccessRequest.APPROVED  # the form was the ID's use
    if not customer.facebook_business_manager_id and not approved:
        return Stage(
            3,
            "give their Facebook Business Manager ID (facebook_business_manager_id)",
            Actor.CUSTOMER,
        )
    verification = ob.business_verification
    if verification is BusinessVerification.PENDING:
        return Stage(
            4,
            "wait for Facebook Business Verification (can take over a week)",
            Actor.META,
            waiting=True,
        )
    if verification is BusinessVerification.REJECTED:
        return Stage(4, "fix and resubmit Facebook Business Verification", Actor.CUSTOMER)
    if verification is not BusinessVerification.VERIFIED:
        return Stage(
            4, "complete Facebook Business Verification in Business Manager", Actor.CUSTOMER
        )
    return None


def _access(customer: Customer, live: LiveCustomer) -> Stage | None:
    access = customer.onboarding.access_request
    if access is AccessRequest.NOT_SUBMITTED:
        return Stage(
            5, f"submit the access request (see `wa-sync access-request {customer.id}`)", Actor.ISV
        )
    if access is AccessRequest.SUBMITTED:
        return Stage(
            5,
            "screen the access request (the ISV then records "
            "`onboarding.access_request: approved`)",
            Actor.META,
            waiting=True,
        )
    if access is AccessRequest.DENIED:
        return Stage(5, "fix the access request and resubmit it", Actor.ISV)
    return None


def _sender(customer: Customer, live: LiveCustomer) -> Stage | None:
    if not customer.waba_id:
        return Stage(6, WABA_SETUP, Actor.CUSTOMER)  # the plan's blocked sender says the same
    if not customer.senders:
        return Stage(6, "declare a sender in the customer file", Actor.ISV)
    live_ids = {s.sender_id: s for s in live.senders}
    missing = [s for s in customer.senders if s.sender_id not in live_ids]
    if missing:
        return Stage(6, "run `wa-sync apply` to register the sender", Actor.ISV)
    declared = {s.sender_id for s in customer.senders}
    registered = [
        s for s in live.senders if s.sender_id in declared and not _awaits_invitation(customer, s)
    ]
    return sender_stage(customer.id, registered, step=6, code_step=6, flow=Flow.LEGACY)


def _awaits_invitation(customer: Customer, sender: LiveSender) -> bool:
    """Twilio says the sender is OFFLINE because the business has not accepted Twilio's
    invitation (63020), which is step 7, not yet recorded as done."""
    return customer.onboarding.invitation is not Invitation.APPROVED and any(
        r.code == INVITATION_NOT_ACCEPTED for r in offline_reasons(sender)
    )


def _invitation(customer: Customer, live: LiveCustomer) -> Stage | None:
    if customer.onboarding.invitation is not Invitation.APPROVED:
        return Stage(
            7,
            "approve Twilio's invitation in Business Manager, then record "
            "`onboarding.invitation: approved`",
            Actor.CUSTOMER,
        )
    return None


# --- the access-request form (SPEC §4.7) -----------------------------------------


@dataclass(frozen=True, slots=True)
class FormField:
    label: str
    value: str
    source: str  # where the value comes from, so a person can fix it


@dataclass(frozen=True, slots=True)
class FormProblem:
    field: str
    message: str
    fix: str
    rule: str  # a stable id per mistake, e.g. AR-ISV-BM-ID


def access_request_form(
    isv: Isv, customer: Customer, account: LiveAccount | None
) -> tuple[FormField, ...]:
    return (
        FormField("Email", isv.email, "wa-sync.yaml: isv.email"),
        FormField(
            "Facebook Business Manager ID",
            customer.facebook_business_manager_id or "",
            f"customers/{customer.id}.yaml: facebook_business_manager_id",
        ),
        FormField(
            "Twilio Account SID",
            customer.customer_account_sid or "",
            f"customers/{customer.id}.yaml: customer_account_sid",
        ),
        FormField(
            "Alternate Account SID",
            account.sid if account else "",
            f"the subaccount wa-sync:{customer.id}",
        ),
    )


def check_access_request(
    isv: Isv,
    customer: Customer,
    account: LiveAccount | None,
    *,
    parent_sid: str,
    subaccount_sids: Sequence[str],
) -> list[FormProblem]:
    """The mistakes the seed document warns about, each with its fix (SPEC §4.7).
    `subaccount_sids` are the parent's other subaccounts (not this customer's)."""
    cfile = f"customers/{customer.id}.yaml"
    problems = []
    if not isv.email:
        problems.append(
            FormProblem(
                "Email",
                "the ISV's email is missing",
                "set isv.email in wa-sync.yaml",
                "AR-NO-EMAIL",
            )
        )
    problems += _check_bm_id(isv, customer, cfile)
    problems += _check_account_sid(customer, account, parent_sid, subaccount_sids, cfile)
    if account is None:
        problems.append(
            FormProblem(
                "Alternate Account SID",
                "the customer's subaccount does not exist yet, so there is no SID to give",
                "run `wa-sync apply` first; it creates the subaccount",
                "AR-NO-SUBACCOUNT",
            )
        )
    elif account.status != "active":
        problems.append(_inactive_subaccount(account, cfile))
    if not customer.onboarding.terms_accepted:
        problems.append(
            FormProblem(
                "Terms of Service",
                "the customer has not accepted the WhatsApp Terms of Service, which the "
                "access request requires",
                "the customer accepts them in their own Twilio project; then set "
                f"onboarding.terms_accepted: true in {cfile}",
                "AR-NO-TERMS",
            )
        )
    return problems


def _inactive_subaccount(account: LiveAccount, cfile: str) -> FormProblem:
    """A closed or suspended subaccount: Twilio refuses its credentials."""
    return FormProblem(
        "Alternate Account SID",
        f"the subaccount {account.sid} is {account.status}: Twilio refuses its credentials, "
        "so WhatsApp cannot be set up in it",
        inactive_fix(account, cfile),
        "AR-SUBACCOUNT-NOT-ACTIVE",
    )


def _check_bm_id(isv: Isv, customer: Customer, cfile: str) -> list[FormProblem]:
    label = "Facebook Business Manager ID"
    bm = customer.facebook_business_manager_id
    if not bm:
        return [
            FormProblem(
                label,
                "the customer's Business Manager ID is missing",
                "ask the customer for the ID of their own Business Manager (Meta Business "
                f"Suite > Business settings > Business info) and set "
                f"facebook_business_manager_id in {cfile}",
                "AR-NO-BM-ID",
            )
        ]
    if isv.facebook_business_manager_id and bm == isv.facebook_business_manager_id:
        return [
            FormProblem(
                label,
                f"{bm} is the ISV's own Business Manager ID (isv.facebook_business_manager_id "
                "in wa-sync.yaml), not the customer's: the sender would be registered to the "
                "ISV's business",
                f"set facebook_business_manager_id in {cfile} to the CUSTOMER's Business "
                "Manager ID",
                "AR-ISV-BM-ID",
            )
        ]
    return []


def _check_account_sid(
    customer: Customer,
    account: LiveAccount | None,
    parent_sid: str,
    subaccount_sids: Sequence[str],
    cfile: str,
) -> list[FormProblem]:
    sid = customer.customer_account_sid
    label = "Twilio Account SID"
    own_project = (
        f"set customer_account_sid in {cfile} to the SID of the customer's own Twilio "
        "project, where they accepted the Terms of Service"
    )
    if not sid:
        return [
            FormProblem(
                label,
                "the customer's own Twilio Account SID is missing",
                f"ask the customer for it and set customer_account_sid in {cfile}",
                "AR-NO-CUSTOMER-SID",
            )
        ]
    if account is not None and sid == account.sid:
        return [
            FormProblem(
                label,
                f"{sid} is the ISV's subaccount for this customer, not the customer's own "
                "project; it belongs in Alternate Account SID",
                own_project,
                "AR-SUBACCOUNT-AS-CUSTOMER-SID",
            )
        ]
    if sid == parent_sid:
        return [
            FormProblem(
                label,
                f"{sid} is the ISV's own parent account, not the customer's",
                own_project,
                "AR-PARENT-AS-CUSTOMER-SID",
            )
        ]
    if sid in subaccount_sids:
        return [
            FormProblem(
                label,
                f"{sid} is another of the ISV's subaccounts, not the customer's own project",
                own_project,
                "AR-OTHER-SUBACCOUNT-AS-CUSTOMER-SID",
            )
        ]
    return []
