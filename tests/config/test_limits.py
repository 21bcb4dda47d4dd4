"""Meta's limits checked at validate (SPEC §1.1, issue #19.4): phone numbers per business,
new customers per rolling 7 days."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.config.conftest import run_cli
from wa_sync.config.flows import read_onboarding
from wa_sync.config.limits import busiest_week
from wa_sync.config.yamlfile import parse_yaml
from wa_sync.model import Flow


def sender(n: int) -> dict:
    return {"phone_number": f"+1415555{n:04d}", "display_name": "Shop"}


def write_customer(root, cid: str, doc: dict) -> None:
    (root / "customers").mkdir(exist_ok=True)
    (root / "customers" / f"{cid}.yaml").write_text(json.dumps(doc))


def validate(root) -> tuple[int, dict]:
    result = run_cli("validate", "--root", str(root), "--format", "json")
    return result.code, json.loads(result.out)


@pytest.mark.parametrize(
    ("verification", "count", "valid"),
    [("not_started", 2, True), ("not_started", 3, False), ("pending", 3, False),
     ("verified", 20, True), ("verified", 21, False)],
)  # fmt: skip
def test_phone_numbers_per_business(tmp_path, verification, count, valid):
    doc = {
        "name": "Shop",
        "onboarding": {"flow": "embedded_signup", "business_verification": verification},
        "senders": [sender(n) for n in range(count)],
    }
    write_customer(tmp_path, "shop", doc)
    code, report = validate(tmp_path)
    assert (code == 0) is valid
    if not valid:
        (error,) = report["errors"]
        assert error["file"] == "customers/shop.yaml"
        assert error["key"] == "senders"
        assert f"{count} senders for one business: Meta allows a business" in error["message"]


def signup(day: str) -> dict:
    return {"name": "Shop", "onboarding": {"flow": "embedded_signup", "signup_date": day}}


@pytest.mark.parametrize(("verified", "warned"), [(False, True), (True, False)])
def test_more_new_customers_in_7_days_than_meta_allows_is_a_warning(tmp_path, verified, warned):
    isv = {"isv": {"tech_provider": {"status": "approved", "business_verified": verified}}}
    (tmp_path / "wa-sync.yaml").write_text(json.dumps(isv))
    for n in range(11):  # eleven signups between Nov 24 and Nov 30
        write_customer(tmp_path, f"shop-{n:02d}", signup(f"2026-11-{24 + n % 7:02d}"))
    write_customer(tmp_path, "older", signup("2026-10-01"))
    code, report = validate(tmp_path)
    assert code == 0  # history, not something a plan could change
    messages = [w["message"] for w in report["warnings"]]
    if warned:
        assert messages == [
            "11 customers signed up in the 7 days from 2026-11-24: Meta allows 10 new "
            "customers per rolling 7 days; 200 once the ISV's own business is verified, "
            "App Review and Access Verification are done (then record "
            "`isv.tech_provider.business_verified: true`)"
        ]
    else:
        assert messages == []


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ([], (0, date.min)),
        (["2026-01-01", "2026-01-07", "2026-01-08"], (2, date(2026, 1, 1))),
        (["2026-01-01", "2026-01-05", "2026-01-08", "2026-01-09"], (3, date(2026, 1, 5))),
    ],
    ids=["none", "the-eighth-day-is-outside", "a-later-window"],
)
def test_busiest_week(days, expected):
    assert busiest_week([date.fromisoformat(d) for d in days]) == expected


def test_signups_on_the_last_days_of_the_calendar_are_reported_not_a_crash(tmp_path):
    for n, day in enumerate(["9999-12-25", "9999-12-31"]):
        write_customer(tmp_path, f"shop-{n}", signup(day))
    code, report = validate(tmp_path)
    assert code == 1  # days in the future (below)
    assert [e["message"][:14] for e in report["errors"]] == ["'9999-12-25' i", "'9999-12-31' i"]
    assert busiest_week([date(9999, 12, 25), date.max]) == (2, date(9999, 12, 25))


def test_a_signup_date_in_the_future_is_an_error_at_its_line(tmp_path):
    """A typo'd year (2027 for 2026) took the signup out of its week: validate passed, and
    Meta's weekly limit and `status` counted one signup too few."""
    write_customer(tmp_path, "shop", signup("2099-11-30"))
    code, report = validate(tmp_path)
    assert code == 1
    (error,) = report["errors"]
    assert (error["file"], error["key"]) == ("customers/shop.yaml", "onboarding.signup_date")
    assert error["message"].startswith("'2099-11-30' is in the future (today is ")
    assert "leave signup_date out" in error["fix"]


def test_tomorrow_in_utc_is_today_somewhere_and_is_valid(tmp_path):
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)  # today at UTC+14 (Kiribati)
    write_customer(tmp_path, "shop", signup(tomorrow.isoformat()))
    code, report = validate(tmp_path)
    assert code == 0, report


@pytest.mark.parametrize(
    ("day", "valid"),
    [("2026-12-07", True), ("2026-12-08", True), ("2026-12-09", True), ("2026-12-10", False)],
    ids=["yesterday", "today", "tomorrow-today-in-kiribati", "the-day-after"],
)
def test_the_latest_signup_date_is_the_day_after_utcs(day, valid):
    doc = parse_yaml(json.dumps(signup(day)), "customers/shop.yaml")
    _, problems = read_onboarding(doc, Flow.EMBEDDED_SIGNUP, today=date(2026, 12, 8))
    assert (problems == []) is valid


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "0000-01-01"])
def test_a_signup_date_that_is_no_day_of_the_calendar_is_an_error(tmp_path, day):
    write_customer(tmp_path, "shop", signup(day))
    code, report = validate(tmp_path)
    assert code == 1
    (error,) = report["errors"]
    assert (error["file"], error["key"]) == ("customers/shop.yaml", "onboarding.signup_date")
    assert f"{day!r} is not a day of the calendar" in error["message"]
