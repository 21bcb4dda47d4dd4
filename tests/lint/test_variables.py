"""Placeholder and sample rules: one failing and one passing template per rule id."""

from __future__ import annotations

import pytest

from tests.lint.helpers import config, problems, template
from wa_sync.errors import Severity

ERROR, WARNING = Severity.ERROR, Severity.WARNING
GOOD = "Hello {{1}}, your appointment at Acme Dental is on {{2}}. See you soon!"


def body(text: str, variables=None, **changes):
    samples = {"1": "Maria", "2": "June 3"} if variables is None else variables
    return config(
        templates=(template(types={"twilio/text": {"body": text}}, variables=samples, **changes),)
    )


def cta(url: str, variables=None):
    types = {
        "twilio/call-to-action": {
            "body": GOOD,
            "actions": [{"type": "URL", "title": "Open", "url": url}],
        }
    }
    samples = {"1": "Maria", "2": "June 3", "3": "abc"} if variables is None else variables
    return config(templates=(template(types=types, variables=samples),))


def media(url: str):
    types = {"twilio/media": {"body": GOOD, "media": [url]}}
    return config(templates=(template(types=types, variables={"1": "M", "2": "J", "3": "x"}),))


def otp(code: str):
    types = {
        "whatsapp/authentication": {"actions": [{"type": "COPY_CODE", "copy_code_text": "Copy"}]}
    }
    return config(
        templates=(template(category="AUTHENTICATION", types=types, variables={"1": code}),)
    )


CASES = [
    (
        "VAR-BRACES",
        body("Hello {{1}, your visit at Acme Dental is on {{2}}. See you!"),
        body(GOOD),
        ERROR,
    ),
    (
        "VAR-BRACES",
        body("Hello {1}, your visit at Acme Dental is on {{2}}. See you!"),
        body(GOOD),
        ERROR,
    ),
    (
        "VAR-BRACES",
        body("Hello {{}}, your visit at Acme Dental is on {{2}}. See you!"),
        body(GOOD),
        ERROR,
    ),
    (
        "VAR-TW-KEY",
        body("Hello {{ 1 }}, your visit at Acme Dental is on {{2}}. See you!"),
        body(GOOD),
        ERROR,
    ),
    (
        "VAR-TW-KEY",
        body(
            "Hello {{customer_first_name}}, your visit at Acme is today, bye.",
            {"customer_first_name": "M"},
        ),
        body("Hello {{first_name}}, your visit at Acme is today, bye.", {"first_name": "M"}),
        ERROR,
    ),
    ("VAR-TW-KEY", body(GOOD, {"1": "M", "2": "J", "first name": "x"}), body(GOOD), ERROR),
    (
        "VAR-POS-FORMAT",
        body("Hello {{0}}, your visit at Acme Dental is on {{1}}. See you!", {"0": "M", "1": "J"}),
        body(GOOD),
        ERROR,
    ),
    (
        "VAR-POS-FORMAT",
        body(
            "Hello {{01}}, your visit at Acme Dental is on {{2}}. See you!", {"01": "M", "2": "J"}
        ),
        body(GOOD),
        ERROR,
    ),
    (
        "VAR-NAMED-FORMAT",
        body("Hello {{firstName}}, your visit at Acme Dental is today. Bye!", {"firstName": "M"}),
        body("Hello {{first_name}}, your visit at Acme Dental is today. Bye!", {"first_name": "M"}),
        ERROR,
    ),
    (
        "VAR-NAMED-FORMAT",
        body(
            "Hello {{first_name}}, your visit at Acme Dental is on {{1}}. Bye!",
            {"first_name": "M", "1": "J"},
        ),
        body(GOOD),
        ERROR,
    ),
    (
        "VAR-SEQ",
        body("Hello {{1}}, your visit at Acme Dental is on {{3}}. See you!", {"1": "M", "3": "J"}),
        body("Hello {{2}}, your visit at Acme Dental is on {{1}}. See you!"),
        ERROR,
    ),
    (
        "VAR-EDGE",
        body("{{1}}, your appointment at Acme Dental is on {{2}}. See you soon!"),
        body(GOOD),
        ERROR,
    ),
    (
        "VAR-EDGE",
        body("Hello {{1}}, your appointment at Acme Dental is on {{2}}."),
        body("Hello {{1}}, your appointment at Acme Dental is on {{2}}. Thanks."),
        ERROR,
    ),
    (
        "VAR-ADJ",
        body("Hello {{1}} {{2}}, your appointment at Acme Dental is soon. Bye!"),
        body("Hello {{1}} and {{2}}, your appointment at Acme Dental is soon. Bye!"),
        ERROR,
    ),
    (
        "VAR-ADJ",
        body("Hello {{1}}{{2}}, your appointment at Acme Dental is soon. Bye!"),
        body(GOOD),
        ERROR,
    ),
    (
        "VAR-DENSITY",
        body("Hi {{1}}, on {{2}}, ok"),
        body("Hi {{1}}, see you on {{2}} at ten"),
        ERROR,
    ),
    ("VAR-SAMPLE", body(GOOD, {"1": "Maria"}), body(GOOD), ERROR),
    ("VAR-SAMPLE", body(GOOD, {"1": "Maria", "2": "June", "3": "extra"}), body(GOOD), WARNING),
    (
        "VAR-SAMPLE",
        cta("https://acme.example/r/{{3}}", {"1": "M", "2": "J"}),
        cta("https://acme.example/r/{{3}}"),
        ERROR,
    ),
    ("VAR-SAMPLE-WS", body(GOOD, {"1": "Maria\nJones", "2": "J"}), body(GOOD), ERROR),
    (
        "VAR-SAMPLE-WS",
        body(GOOD, {"1": "Maria     Jones", "2": "J"}),
        body(GOOD, {"1": "Maria    Jones", "2": "J"}),
        ERROR,
    ),
    ("VAR-SAMPLE-WS", body(GOOD, {"1": "", "2": "J"}), body(GOOD), ERROR),
    (
        "VAR-SPECIAL",
        body(GOOD, {"1": "Maria", "2": "$25"}),
        body(GOOD, {"1": "Maria", "2": "USD 25"}),
        ERROR,
    ),
    (
        "VAR-TW-VALUE",
        body(GOOD, {"1": "M" * 1601, "2": "J"}),
        body(GOOD, {"1": "M" * 255, "2": "J"}),
        ERROR,
    ),
    (
        "VAR-TW-VALUE",
        body(GOOD, {"1": "M" * 256, "2": "J"}),
        body(GOOD, {"1": "M" * 255, "2": "J"}),
        WARNING,
    ),
    (
        "VAR-TW-COUNT",
        body(GOOD, {"1": "M", "2": "J"} | {f"k{i}": "x" for i in range(99)}),
        body(GOOD),
        ERROR,
    ),
    (
        "VAR-URL-SLASH",
        cta("https://{{3}}.acme.example/r"),
        cta("https://acme.example/{{3}}"),
        ERROR,
    ),
    (
        "VAR-URL-SLASH",
        cta("https://acme.example/r?id={{3}}"),
        cta("https://acme.example/r/{{3}}"),
        ERROR,
    ),
    (
        "VAR-URL-SLASH",
        media("https://acme.example/x-{{3}}"),
        media("https://acme.example/{{3}}"),
        ERROR,
    ),
    ("VAR-AUTH-LEN", otp("1" * 16), otp("1" * 14), ERROR),
    ("VAR-AUTH-LEN", otp("1" * 15), otp("1" * 14), WARNING),
]


@pytest.mark.parametrize(
    ("rule_id", "bad", "good", "severity"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_rule_fails_the_bad_example_and_passes_the_good_one(rule_id, bad, good, severity):
    found = problems(bad, rule_id)
    assert found, f"{rule_id} not reported"
    assert {p.severity for p in found} == {severity}
    for p in found:
        assert f"[{rule_id}]" in str(p)
        assert p.fix
    assert problems(good, rule_id) == []


@pytest.mark.parametrize(
    ("rule_id", "bad", "strictest", "lenient"),
    [
        ("VAR-TW-VALUE", body(GOOD, {"1": "M" * 300, "2": "J"}), 255, 1600),
        ("VAR-TW-VALUE", body(GOOD, {"1": "M" * 1700, "2": "J"}), 255, 1600),
        ("VAR-AUTH-LEN", otp("1" * 15), 14, 15),
        ("VAR-AUTH-LEN", otp("1" * 20), 14, 15),
    ],
)
def test_confidence_b_messages_name_both_documented_values(rule_id, bad, strictest, lenient):
    (found,) = problems(bad, rule_id)
    assert str(strictest) in found.message
    assert str(lenient) in found.message


def test_a_sample_problem_points_at_the_sample_line():
    cfg = body(GOOD, {"1": "Maria\tJ", "2": "J"}, lines={"variables.1": 16})
    (found,) = problems(cfg, "VAR-SAMPLE-WS")
    assert found.key == "templates[0].variables.1"
    assert found.where.line == 16


def test_the_clean_template_has_no_variable_problems():
    assert problems(body(GOOD)) == []
