"""A customer file's onboarding keys, read for its flow (SPEC §1, §1.1, §2.2).

Each flow has its own manual steps: a key that belongs to the other flow is an error
that names the flow, because it would record a step this customer never goes through
(a typo'd flow, or a file copied from a customer of the other flow).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from wa_sync.config.yamlfile import YamlDoc
from wa_sync.errors import Problem
from wa_sync.model import (
    AccessRequest,
    BusinessVerification,
    Flow,
    Invitation,
    Onboarding,
    Signup,
)

# key path in the customer file -> the only flow it belongs to
FLOW_KEYS: Mapping[str, Flow] = {
    "customer_account_sid": Flow.LEGACY,
    "onboarding.terms_accepted": Flow.LEGACY,
    "onboarding.access_request": Flow.LEGACY,
    "onboarding.invitation": Flow.LEGACY,
    "onboarding.signup": Flow.EMBEDDED_SIGNUP,
    "onboarding.signup_date": Flow.EMBEDDED_SIGNUP,
}

WHAT = {
    Flow.LEGACY: "Twilio's ISV flow (Terms of Service, access request, invitation)",
    Flow.EMBEDDED_SIGNUP: "the Tech Provider flow (Meta's Embedded Signup)",
}


def read_onboarding(
    doc: YamlDoc, default: Flow, today: date | None = None
) -> tuple[Onboarding, list[Problem]]:
    """The customer's onboarding record and the keys in it that its flow has no use for.
    `today`: UTC's date (default: the clock), for a signup_date in the future."""
    data: Mapping[str, Any] = doc.data.get("onboarding", {})
    flow = Flow(data["flow"]) if "flow" in data else default
    onboarding = Onboarding(
        flow=flow,
        signup=Signup(data.get("signup", "not_started")),
        signup_date=data.get("signup_date"),
        terms_accepted=data.get("terms_accepted", False),
        business_verification=BusinessVerification(
            data.get("business_verification", "not_started")
        ),
        access_request=AccessRequest(data.get("access_request", "not_submitted")),
        invitation=Invitation(data.get("invitation", "not_sent")),
    )
    problems = _other_flow_keys(doc, flow, given="flow" in data)
    if flow is Flow.EMBEDDED_SIGNUP and onboarding.signup_date:
        problems += _signup_date(doc, onboarding.signup_date, today or datetime.now(UTC).date())
    return onboarding, problems


def _signup_date(doc: YamlDoc, text: str, today: date) -> list[Problem]:
    """The schema's pattern lets 2026-02-30 through: Meta's weekly count needs a real day,
    and one that has come. A day in the future is a typo (2027 for 2026) that would
    take the signup out of its week, and so out of the count of Meta's limit (limits.py)
    and of `status`. The latest day anywhere is UTC's next: UTC+14 (Kiribati) is a day
    ahead, so a signup recorded there today is no typo."""
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:  # "day is out of range for month", "year 0 is out of range"
        return [
            doc.problem(
                "onboarding.signup_date",
                f"{text!r} is not a day of the calendar ({exc})",
                "write the day the customer completed Embedded Signup as YYYY-MM-DD, "
                'for example "2026-11-30"',
            )
        ]
    if day > today + timedelta(days=1):
        return [
            doc.problem(
                "onboarding.signup_date",
                f"{text!r} is in the future (today is {today.isoformat()} in UTC): "
                "signup_date is the day the customer completed Embedded Signup",
                "write the day they completed it, as YYYY-MM-DD; until they have, leave "
                "signup_date out",
            )
        ]
    return []


def _other_flow_keys(doc: YamlDoc, flow: Flow, *, given: bool) -> list[Problem]:
    source = "onboarding.flow" if given else "settings.onboarding_flow in wa-sync.yaml"
    problems = []
    for path, owner in FLOW_KEYS.items():
        parent, _, key = path.rpartition(".")
        section = doc.data.get(parent, {}) if parent else doc.data
        if owner is flow or key not in section:
            continue
        problems.append(
            doc.problem(
                path,
                f"{path} belongs to the {owner.value} onboarding flow, {WHAT[owner]}, but this "
                f"customer is onboarded with the {flow.value} flow ({source})",
                f"remove {path}, or set `onboarding.flow: {owner.value}` if this customer "
                f"is onboarded with {WHAT[owner]}",
            )
        )
    return problems
