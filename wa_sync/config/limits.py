"""Meta's limits that a configuration can break before anything is attempted (SPEC §1.1;
notes/tech-provider.md "Limits that a plan should know"):

- phone numbers per business portfolio: 2 until the business is verified, then 20 (an
  error: Meta refuses the third registration);
- new customers onboarded through Embedded Signup per rolling 7 days: 10, or 200 once the
  ISV's own business is verified (a warning: the signups are history, not a change).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from wa_sync.errors import Location, Problem, Severity
from wa_sync.model import BusinessVerification, Config, Customer, Flow

NUMBERS_UNVERIFIED, NUMBERS_VERIFIED = 2, 20
SIGNUPS_UNVERIFIED, SIGNUPS_VERIFIED = 10, 200
WINDOW = timedelta(days=7)


def limit_problems(config: Config) -> list[Problem]:
    problems = [p for c in config.customers for p in _numbers(c)]
    return problems + list(_signups(config))


def numbers_limit(customer: Customer) -> int:
    verified = customer.onboarding.business_verification is BusinessVerification.VERIFIED
    return NUMBERS_VERIFIED if verified else NUMBERS_UNVERIFIED


def _numbers(customer: Customer) -> Iterator[Problem]:
    limit = numbers_limit(customer)
    count = len(customer.senders)
    if count <= limit:
        return
    if limit == NUMBERS_UNVERIFIED:
        fix = (
            "complete Meta's business verification for the customer's business portfolio "
            "(then record `onboarding.business_verification: verified`), or declare at most "
            f"{limit} senders until then"
        )
        why = "until its business is verified"
    else:
        fix = f"declare at most {limit} senders; another business portfolio needs its own customer"
        why = "even once verified"
    yield Problem(
        Location(customer.where.file, customer.lines.get("senders")),
        "senders",
        f"{count} senders for one business: Meta allows a business {limit} phone numbers {why}",
        fix,
    )


def signup_limit(config: Config) -> int:
    verified = config.isv.tech_provider.business_verified
    return SIGNUPS_VERIFIED if verified else SIGNUPS_UNVERIFIED


def signup_dates(config: Config) -> list[tuple[date, Customer]]:
    """The embedded_signup customers with a readable `signup_date`, oldest first."""
    found = []
    for customer in config.customers:
        text = customer.onboarding.signup_date
        if customer.onboarding.flow is Flow.EMBEDDED_SIGNUP and text:
            try:
                found.append((date.fromisoformat(text), customer))
            except ValueError:
                continue  # 2026-02-30: an error of its own (config/flows.py)
    return sorted(found, key=lambda pair: (pair[0], pair[1].id))


def busiest_week(dates: Sequence[date]) -> tuple[int, date]:
    """The most signups in any 7 days, and the first day of those 7 days (`dates`
    sorted)."""
    best, start, end = 0, date.min, 0
    for i, first in enumerate(dates):  # dates are sorted: one pass with two ends
        while end < len(dates) and dates[end] - first < WINDOW:  # (no overflow at date.max)
            end += 1
        if end - i > best:
            best, start = end - i, first
    return best, start


def recent_signups(config: Config, today: date) -> int:
    """Embedded Signups in the 7 days up to `today`, as Meta counts them."""
    return sum(1 for day, _ in signup_dates(config) if today - WINDOW < day <= today)


def _signups(config: Config) -> Iterator[Problem]:
    dated = signup_dates(config)
    limit = signup_limit(config)
    count, start = busiest_week([day for day, _ in dated])
    if count <= limit:
        return
    last = next(c for day, c in reversed(dated) if day - start < WINDOW)
    verified = "" if config.isv.tech_provider.business_verified else (
        "; 200 once the ISV's own business is verified, App Review and Access Verification "
        "are done (then record `isv.tech_provider.business_verified: true`)"
    )  # fmt: skip
    yield Problem(
        Location(last.where.file, last.lines.get("onboarding.signup_date")),
        "onboarding.signup_date",
        f"{count} customers signed up in the 7 days from {start.isoformat()}: Meta allows "
        f"{limit} new customers per rolling 7 days{verified}",
        "check the signup dates; Meta refuses the Embedded Signups past the limit, so "
        "those customers have to sign up again once the week has passed",
        severity=Severity.WARNING,
    )
