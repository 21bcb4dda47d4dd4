"""Display-name, business-profile and phone-number rules: one failing and one passing sender
per rule id."""

from __future__ import annotations

import pytest

from tests.lint.helpers import config, problems, sender
from wa_sync.errors import Location, Severity

ERROR, WARNING = Severity.ERROR, Severity.WARNING
PROFILE = {
    "about": "Friendly dentists in Springfield.",
    "description": "Family dental practice.",
    "address": "1 Main St, Springfield",
    "emails": ["hello@acme-dental.example"],
    "websites": ["https://acme-dental.example"],
    "vertical": "Medical and Health",
}


def named(name: str, business: str = "Acme Dental Clinic"):
    return config(senders=(sender(display_name=name),), name=business)


def profile(**changes):
    return config(senders=(sender(profile=PROFILE | changes),))


CASES = [
    ("DN-LEN", named(""), named("Acme"), ERROR),
    ("DN-LEN", named("Ace", "Ace"), named("Acme"), WARNING),
    ("DN-LEN", named("Acme " + "Dental " * 11), named("Acme " + "Dental " * 9 + "Clinic"), WARNING),
    ("DN-LEN", named("Acme " + "Dental " * 40), named("Acme Dental"), ERROR),
    ("DN-CHARS", named("Acme Dental!"), named("Acme Dental"), ERROR),
    ("DN-CHARS", named("Joe's Acme Dental"), named("Joe Acme Dental"), ERROR),
    ("DN-NONALNUM-RUN", named("Acme Dental .-."), named("Acme Dental-Clinic"), ERROR),
    ("DN-SPACES", named("Acme  Dental"), named("Acme Dental"), ERROR),
    ("DN-SPACES", named(" Acme Dental"), named("Acme Dental"), ERROR),
    ("DN-CAPS", named("ACME DENTAL"), named("ACME Dental"), WARNING),
    ("DN-CAPS", named("Acme Dental And Clinic"), named("Acme Dental and Clinic"), WARNING),
    ("DN-EMOJI", named("Acme Dental 🦷"), named("Acme Dental"), ERROR),
    ("DN-EMOJI", named("Acme Dental®"), named("Acme Dental"), ERROR),
    ("DN-WHATSAPP", named("Acme Dental Whats App"), named("Acme Dental Chat"), ERROR),
    ("DN-WHATSAPP", named("Acme WhatsApp"), named("Acme Dental"), ERROR),
    ("DN-META", named("Acme Dental Official"), named("Acme Dental"), WARNING),
    ("DN-URL", named("Acme-dental.com"), named("Acme Dental"), WARNING),
    ("DN-URL", named("www.acme Dental"), named("Acme Dental"), WARNING),
    ("DN-BRAND", named("Smile Studio"), named("Smile Studio by Acme"), WARNING),
    ("PRF-ABOUT", profile(about=""), profile(about="Hi"), ERROR),
    ("PRF-ABOUT", profile(about="a" * 140), profile(about="a" * 139), ERROR),
    (
        "PRF-ABOUT",
        profile(about="We are *the best* dentists"),
        profile(about="We are the best dentists"),
        ERROR,
    ),
    ("PRF-DESC", profile(description="d" * 513), profile(description="d" * 256), ERROR),
    ("PRF-DESC", profile(description="d" * 300), profile(description="d" * 256), WARNING),
    ("PRF-ADDR", profile(address="a" * 257), profile(address="a" * 256), ERROR),
    ("PRF-EMAIL", profile(emails=["hello@"]), profile(emails=["hello@acme.example"]), ERROR),
    (
        "PRF-EMAIL",
        profile(emails=["h" * 120 + "@acme.example"]),
        profile(emails=["h" * 110 + "@acme.example"]),
        ERROR,
    ),
    (
        "PRF-WEB-COUNT",
        profile(websites=["https://a.example", "https://b.example", "https://c.example"]),
        profile(websites=["https://a.example", "https://b.example"]),
        ERROR,
    ),
    (
        "PRF-WEB-LEN",
        profile(websites=["https://a.example/" + "p" * 240]),
        profile(websites=["https://a.example/" + "p" * 238]),
        ERROR,
    ),
    (
        "PRF-WEB-LEN",
        profile(websites=["acme.example"]),
        profile(websites=["http://acme.example"]),
        WARNING,
    ),
    ("PRF-VERT-TW", profile(vertical="HEALTH"), profile(vertical="Medical and Health"), ERROR),
    ("PRF-VERT-TW", profile(vertical="Dentistry"), profile(vertical="Other"), ERROR),
    (
        "SND-PHONE-E164",
        config(senders=(sender(phone_number="whatsapp:+14155550123"),)),
        config(senders=(sender(phone_number="+14155550123"),)),
        ERROR,
    ),
    (
        "SND-PHONE-E164",
        config(senders=(sender(phone_number="0044 20 7946 0958"),)),
        config(senders=(sender(phone_number="+442079460958"),)),
        ERROR,
    ),
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
        ("DN-LEN", named("Ace", "Ace"), "4", "1"),
        ("DN-LEN", named(""), "4", "1"),
        ("DN-LEN", named("Acme " + "Dental " * 11), "75", "255"),
        ("DN-LEN", named("Acme " + "Dental " * 40), "75", "255"),
        ("PRF-DESC", profile(description="d" * 300), "256", "512"),
        ("PRF-DESC", profile(description="d" * 600), "256", "512"),
    ],
)
def test_confidence_b_messages_name_both_documented_values(rule_id, bad, strictest, lenient):
    (found,) = problems(bad, rule_id)
    assert f"of {strictest}" in found.message or f"documented: {strictest}" in found.message
    assert f"of {lenient}" in found.message


def test_a_sender_problem_points_at_the_display_name_line():
    (found,) = problems(named("Acme Dental!"), "DN-CHARS")
    assert found.where == Location("customers/acme-dental.yaml", 5)
    assert found.key == "senders[0].display_name"


def test_a_profile_problem_without_its_own_line_uses_the_entry_line():
    (found,) = problems(profile(address="a" * 300), "PRF-ADDR")
    assert found.where == Location("customers/acme-dental.yaml", 3)
    assert found.key == "senders[0].profile.address"


def test_a_meta_vertical_code_gets_the_twilio_name_as_the_fix():
    (found,) = problems(profile(vertical="RETAIL"), "PRF-VERT-TW")
    assert "Shopping and Retail" in found.fix


@pytest.mark.parametrize(
    "name", ["Acme Dental", "Acme Dental Clinic", "IBM Dental", "Acme Dental-Clinic", "Acme & Co"]
)
def test_ordinary_display_names_raise_no_errors(name):
    errors = [p for p in problems(named(name)) if p.is_error and p.rule != "DN-CHARS"]
    assert errors == []
