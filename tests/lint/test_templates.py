"""Template, authentication-template and template-count rules: one failing and one passing
configuration per rule id."""

from __future__ import annotations

import pytest

from tests.lint.helpers import config, problems, template
from wa_sync.errors import Location, Severity
from wa_sync.model import BusinessVerification, Onboarding

ERROR, WARNING = Severity.ERROR, Severity.WARNING


def text(body: str, **changes):
    return template(types={"twilio/text": {"body": body}}, **changes)


def card(**fields):
    obj = {"body": "Your order from Acme Dental has shipped, track it online."} | fields
    return template(types={"whatsapp/card": obj}, variables={})


def auth(obj=None, **changes):
    obj = (
        {"actions": [{"type": "COPY_CODE", "copy_code_text": "Copy code"}]} if obj is None else obj
    )
    fields = {"category": "AUTHENTICATION", "types": {"whatsapp/authentication": obj}}
    fields |= {"variables": {"1": "123456"}} | changes
    return template(**fields)


def many(n: int):
    return tuple(template(name=f"t{i}") for i in range(n))


LONG_BODY = "Hello {{1}}, see you on {{2}}. " + "word " * 250
CASES = [
    # rule id, failing config, passing config, severity of the failure
    (
        "TPL-NAME-CHARS",
        config(templates=(template(name="Appointment-Reminder"),)),
        config(templates=(template(name="appointment_reminder_2"),)),
        ERROR,
    ),
    (
        "TPL-NAME-LEN",
        config(templates=(template(name="a" * 513),)),
        config(templates=(template(name="a" * 508),)),
        ERROR,
    ),
    (
        "TPL-NAME-LEN",
        config(templates=(template(name="a" * 509),)),
        config(templates=(template(name="a" * 508),)),
        WARNING,
    ),
    (
        "TPL-NAME-UNIQUE",
        config(templates=(template(), template())),
        config(templates=(template(), template(language="es"))),
        ERROR,
    ),
    (
        "TPL-CAT-ENUM",
        config(templates=(template(category="TRANSACTIONAL"),)),
        config(templates=(template(category="MARKETING"),)),
        ERROR,
    ),
    (
        "TPL-LANG-ENUM",
        config(templates=(template(language="en-US"),)),
        config(templates=(template(language="en_US"),)),
        ERROR,
    ),
    (
        "TPL-LANG-ENUM",
        config(templates=(template(language="pt"),)),
        config(templates=(template(language="pt_BR"),)),
        ERROR,
    ),
    (
        "TPL-LANG-ONE",
        config(templates=(template(language="en, es"),)),
        config(templates=(template(language="es"),)),
        ERROR,
    ),
    (
        "TPL-BODY-REQ",
        config(templates=(text(" ", variables={}),)),
        config(templates=(text("Your Acme Dental appointment is confirmed.", variables={}),)),
        ERROR,
    ),
    (
        "TPL-BODY-REQ",
        config(templates=(template(types={"twilio/list-picker": {}}),)),
        config(),
        ERROR,
    ),
    (
        "TPL-BODY-LEN",
        config(templates=(text("Hi {{1}}, bye." + "x" * 1020, variables={"1": "M"}),)),
        config(templates=(text("Hi {{1}}, bye." + "x" * 1000, variables={"1": "M"}),)),
        ERROR,
    ),
    (
        "TPL-BODY-LEN",
        config(templates=(text("Hi {{1}}, bye." + "x" * 1000, variables={"1": "M" * 30}),)),
        config(templates=(text("Hi {{1}}, bye." + "x" * 1000, variables={"1": "M"}),)),
        ERROR,
    ),
    (
        "TPL-BODY-LEN",
        config(
            templates=(
                template(
                    types={
                        "twilio/call-to-action": {
                            "body": "x" * 641,
                            "actions": [
                                {"type": "URL", "title": "Open", "url": "https://acme.example"}
                            ],
                        }
                    },
                    variables={},
                ),
            )
        ),
        config(
            templates=(
                template(
                    types={
                        "twilio/call-to-action": {
                            "body": "x" * 640,
                            "actions": [
                                {"type": "URL", "title": "Open", "url": "https://acme.example"}
                            ],
                        }
                    },
                    variables={},
                ),
            )
        ),
        ERROR,
    ),
    (
        "TPL-HDR-TEXT-LEN",
        config(templates=(card(header_text="h" * 61, actions=[]),)),
        config(templates=(card(header_text="h" * 60, actions=[]),)),
        ERROR,
    ),
    (
        "TPL-HDR-TEXT-LEN",
        config(templates=(card(header_text="Hi", media=["https://a.example/x.png"]),)),
        config(templates=(card(media=["https://a.example/x.png"]),)),
        ERROR,
    ),
    (
        "TPL-HDR-TEXT-VARS",
        config(
            templates=(
                template(
                    types={
                        "whatsapp/card": {
                            "header_text": "{{1}} and {{2}}",
                            "body": "Your order from Acme Dental has shipped today.",
                        }
                    }
                ),
            )
        ),
        config(
            templates=(
                template(
                    types={
                        "whatsapp/card": {
                            "header_text": "Hi {{1}}",
                            "body": "Your order {{2}} from Acme Dental has shipped today.",
                        }
                    }
                ),
            )
        ),
        ERROR,
    ),
    (
        "TPL-HDR-MEDIA",
        config(
            templates=(
                template(
                    types={
                        "twilio/media": {
                            "body": "Your Acme Dental x-ray, as promised.",
                            "media": ["https://a.example/x.gif"],
                        }
                    },
                    variables={},
                ),
            )
        ),
        config(
            templates=(
                template(
                    types={
                        "twilio/media": {
                            "body": "Your Acme Dental x-ray, as promised.",
                            "media": ["https://a.example/x.jpg"],
                        }
                    },
                    variables={},
                ),
            )
        ),
        ERROR,
    ),
    (
        "TPL-HDR-MEDIA",
        config(
            templates=(
                template(
                    types={
                        "twilio/media": {
                            "body": "Your Acme Dental x-ray, as promised.",
                            "media": ["x.jpg"],
                        }
                    },
                    variables={},
                ),
            )
        ),
        config(),
        ERROR,
    ),
    (
        "TPL-HDR-LOCATION",
        config(
            templates=(
                auth(),
                template(
                    name="loc",
                    category="AUTHENTICATION",
                    types={
                        "twilio/location": {"latitude": 1, "longitude": 2},
                        "whatsapp/authentication": {
                            "actions": [{"type": "COPY_CODE", "copy_code_text": "Copy"}]
                        },
                    },
                ),
            )
        ),
        config(
            templates=(
                template(
                    types={
                        "twilio/location": {"latitude": 1, "longitude": 2},
                        "twilio/text": {"body": "Visit Acme Dental here, {{1}} and {{2}} welcome."},
                    }
                ),
            )
        ),
        ERROR,
    ),
    (
        "TPL-FOOTER-LEN",
        config(templates=(card(footer="f" * 61),)),
        config(templates=(card(footer="f" * 60),)),
        ERROR,
    ),
    (
        "TPL-FOOTER-LEN",
        config(
            templates=(
                template(
                    types={
                        "whatsapp/card": {
                            "body": "Your Acme Dental order has shipped, thank you.",
                            "footer": "Ref {{1}}",
                        }
                    }
                ),
            )
        ),
        config(templates=(card(footer="Acme Dental"),)),
        ERROR,
    ),
    (
        "TPL-FOOTER-LEN",
        config(
            templates=(
                template(
                    types={
                        "twilio/card": {
                            "title": "Your Acme Dental order has shipped, thank you.",
                            "subtitle": "s" * 61,
                        }
                    },
                    variables={},
                ),
            )
        ),
        config(
            templates=(
                template(
                    types={
                        "twilio/card": {
                            "title": "Your Acme Dental order has shipped, thank you.",
                            "subtitle": "s" * 60,
                        }
                    },
                    variables={},
                ),
            )
        ),
        ERROR,
    ),
    (
        "TPL-EMOJI-MAX",
        config(templates=(text("Hi {{1}} " + "🦷" * 11 + " on {{2}} ok."),)),
        config(templates=(text("Hi {{1}} " + "🦷" * 10 + " on {{2}} ok."),)),
        ERROR,
    ),
    (
        "AUTH-TYPE",
        config(templates=(template(category="AUTHENTICATION", types={}),)),
        config(templates=(auth(),)),
        ERROR,
    ),
    (
        "AUTH-TYPE",
        config(templates=(auth(category="UTILITY"),)),
        config(templates=(auth(),)),
        ERROR,
    ),
    (
        "AUTH-TYPE",
        config(templates=(auth({"actions": [{"type": "URL", "title": "x"}]}),)),
        config(templates=(auth(),)),
        ERROR,
    ),
    (
        "AUTH-BODY",
        config(
            templates=(
                auth(
                    {
                        "body": "Your code is {{1}}",
                        "actions": [{"type": "COPY_CODE", "copy_code_text": "Copy"}],
                    }
                ),
            )
        ),
        config(templates=(auth(),)),
        ERROR,
    ),
    (
        "AUTH-BODY",
        config(
            templates=(
                template(
                    category="AUTHENTICATION",
                    types={
                        "twilio/text": {"body": "Code {{1}}"},
                        "whatsapp/authentication": {
                            "actions": [{"type": "COPY_CODE", "copy_code_text": "C"}]
                        },
                    },
                    variables={"1": "123456"},
                ),
            )
        ),
        config(templates=(auth(),)),
        ERROR,
    ),
    (
        "AUTH-EXPIRY",
        config(
            templates=(
                auth(
                    {
                        "code_expiration_minutes": 91,
                        "actions": [{"type": "COPY_CODE", "copy_code_text": "Copy"}],
                    }
                ),
            )
        ),
        config(
            templates=(
                auth(
                    {
                        "code_expiration_minutes": 90,
                        "actions": [{"type": "COPY_CODE", "copy_code_text": "Copy"}],
                    }
                ),
            )
        ),
        ERROR,
    ),
    (
        "AUTH-EXPIRY",
        config(
            templates=(
                auth(
                    {
                        "code_expiration_minutes": 2.5,
                        "actions": [{"type": "COPY_CODE", "copy_code_text": "Copy"}],
                    }
                ),
            )
        ),
        config(
            templates=(
                auth(
                    {
                        "code_expiration_minutes": 1,
                        "actions": [{"type": "COPY_CODE", "copy_code_text": "Copy"}],
                    }
                ),
            )
        ),
        ERROR,
    ),
    (
        "AUTH-NO-MEDIA",
        config(
            templates=(auth({"actions": [{"type": "COPY_CODE", "copy_code_text": "Copy 🔑"}]}),)
        ),
        config(templates=(auth(),)),
        ERROR,
    ),
    (
        "AUTH-NO-MEDIA",
        config(templates=(auth(variables={"1": "https://x.example"}),)),
        config(templates=(auth(),)),
        ERROR,
    ),
    (
        "AUTH-BTN-LEN",
        config(templates=(auth({"actions": [{"type": "COPY_CODE", "copy_code_text": "c" * 26}]}),)),
        config(templates=(auth({"actions": [{"type": "COPY_CODE", "copy_code_text": "c" * 25}]}),)),
        ERROR,
    ),
    ("LC-LIMIT-COUNT", config(templates=many(251)), config(templates=many(250)), ERROR),
    (
        "LC-LIMIT-COUNT",
        config(
            templates=many(251),
            onboarding=Onboarding(business_verification=BusinessVerification.VERIFIED),
        ),
        config(templates=many(250)),
        WARNING,
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
        assert p.where.file == "customers/acme-dental.yaml"
    assert problems(good, rule_id) == []


def test_a_template_problem_points_at_the_line_of_its_key():
    t = template(name="Bad Name")
    (found,) = problems(config(templates=(t,)), "TPL-NAME-CHARS")
    assert found.where == Location("customers/acme-dental.yaml", 11)
    assert found.key == "templates[0].name"


def test_a_key_without_a_line_falls_back_to_its_parent_then_the_entry():
    t = text("Hi {{1}}, see you on {{2}}." + "x" * 1024, lines={"types.twilio/text": 13})
    (found,) = problems(config(templates=(t,)), "TPL-BODY-LEN")
    assert found.where.line == 13
    assert found.key == "templates[0].types.twilio/text.body"
    t = text("Hi {{1}}, see you on {{2}}." + "x" * 1024, lines={})
    (found,) = problems(config(templates=(t,)), "TPL-BODY-LEN")
    assert found.where.line == 10


def test_a_legacy_category_gets_its_current_name_as_the_fix():
    (found,) = problems(config(templates=(template(category="TRANSACTIONAL"),)), "TPL-CAT-ENUM")
    assert "UTILITY" in found.fix


def test_a_language_with_a_dash_gets_the_underscore_form_as_the_fix():
    (found,) = problems(config(templates=(template(language="pt-br"),)), "TPL-LANG-ENUM")
    assert "pt_BR" in found.fix
