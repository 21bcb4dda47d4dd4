"""Model objects for the pure plan tests: a declared customer and live state."""

from __future__ import annotations

import zlib
from typing import Any

from wa_sync.model import (
    AccessRequest,
    ApprovalStatus,
    BusinessVerification,
    Customer,
    Invitation,
    LiveAccount,
    LiveContent,
    LiveCustomer,
    LiveEstate,
    LiveSender,
    Onboarding,
    Sender,
    Template,
    freeze,
)

ONBOARDED = Onboarding(
    terms_accepted=True,
    business_verification=BusinessVerification.VERIFIED,
    access_request=AccessRequest.APPROVED,
    invitation=Invitation.APPROVED,
)
PROFILE = {"about": "Family dentistry", "websites": ["https://acme.example"]}


def sid(prefix: str, n: int) -> str:
    return f"{prefix}{n:032x}"


def template(
    name: str = "reminder",
    language: str = "en",
    body: str = "Hi {{1}}, see you.",
    category: str = "UTILITY",
) -> Template:
    return Template(
        name=name,
        language=language,
        category=category,
        types=freeze({"twilio/text": {"body": body}}),
        variables=freeze({"1": "Maria"}),
    )


def sender(about: str = "Family dentistry") -> Sender:
    return Sender(
        phone_number="+14155550100",
        display_name="Acme Dental",
        profile=freeze({**PROFILE, "about": about}),
    )


def customer(
    *,
    onboarding: Onboarding = ONBOARDED,
    templates: tuple[Template, ...] | None = None,
    senders: tuple[Sender, ...] | None = None,
    **kw: Any,
) -> Customer:
    return Customer(
        id="acme",
        name="Acme Dental",
        waba_id=kw.pop("waba_id", "104000000000001"),
        onboarding=onboarding,
        senders=(sender(),) if senders is None else senders,
        templates=(template(),) if templates is None else templates,
        **kw,
    )


def live_content(
    t: Template,
    n: int,
    *,
    friendly_name: str | None = None,
    status: ApprovalStatus = ApprovalStatus.APPROVED,
    body: str | None = None,
    reason: str = "",
) -> LiveContent:
    types = t.types if body is None else freeze({"twilio/text": {"body": body}})
    return LiveContent(
        sid=sid("HX", n),
        friendly_name=friendly_name or t.name,
        language=t.language,
        types=types,
        variables=t.variables,
        approval_status=status,
        approval_name=friendly_name or t.name,
        approval_category=t.category if status.locked else "",
        rejection_reason=reason,
    )


def live_sender(s: Sender, *, status: str = "ONLINE", about: str | None = None) -> LiveSender:
    profile = s.profile if about is None else freeze({**s.profile, "about": about})
    return LiveSender(
        sid=sid("XE", 1),
        sender_id=s.sender_id,
        status=status,
        display_name=s.display_name,
        profile=profile,
        waba_id="104000000000001",
    )


def live(
    c: Customer,
    *,
    senders: tuple[LiveSender, ...] | None = None,
    contents: tuple[LiveContent, ...] | None = None,
    account: bool = True,
) -> LiveCustomer:
    return LiveCustomer(
        customer_id=c.id,
        account=LiveAccount(sid=_account_sid(c), friendly_name=c.friendly_name)
        if account
        else None,
        senders=tuple(live_sender(s) for s in c.senders) if senders is None else senders,
        contents=tuple(live_content(t, i + 1) for i, t in enumerate(c.templates))
        if contents is None
        else contents,
    )


def _account_sid(c: Customer) -> str:
    """One SID per customer, as Twilio gives (acme's is AC...07)."""
    return sid("AC", 7 if c.id == "acme" else zlib.crc32(c.id.encode()))


def estate(*customers_live: LiveCustomer) -> LiveEstate:
    """The live estate of these customers' states, under one parent."""
    return LiveEstate(
        parent_sid=sid("AC", 1),
        accounts=tuple(lc.account for lc in customers_live if lc.account),
        customers={lc.customer_id: lc for lc in customers_live},
    )
