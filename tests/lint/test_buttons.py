"""Button rules: one failing and one passing template per rule id."""

from __future__ import annotations

import pytest

from tests.lint.helpers import config, problems, template
from wa_sync.errors import Severity

ERROR, WARNING = Severity.ERROR, Severity.WARNING
BODY = "Your Acme Dental appointment is confirmed, tap a button below to manage it."


def buttons(*actions, kind="twilio/card", variables=None):
    key = "title" if kind == "twilio/card" else "body"
    types = {kind: {key: BODY, "actions": list(actions)}}
    return config(templates=(template(types=types, variables=variables or {}),))


def qr(title="Yes", id_="yes"):
    return {"type": "QUICK_REPLY", "title": title, "id": id_}


def url(address="https://acme-dental.example/visit", title="Open"):
    return {"type": "URL", "title": title, "url": address}


def phone(number="+14155550123", title="Call us"):
    return {"type": "PHONE_NUMBER", "title": title, "phone": number}


def copy(code="SAVE10"):
    return {"type": "COPY_CODE", "title": "Copy", "code": code}


CASES = [
    (
        "BTN-TOTAL",
        buttons(*[qr(id_=str(i)) for i in range(9)], url(), url()),
        buttons(*[qr(id_=str(i)) for i in range(8)], url(), url()),
        ERROR,
    ),
    (
        "BTN-QR-COUNT",
        buttons(*[qr(id_=str(i)) for i in range(11)], kind="twilio/quick-reply"),
        buttons(*[qr(id_=str(i)) for i in range(10)], kind="twilio/quick-reply"),
        ERROR,
    ),
    ("BTN-QR-GROUP", buttons(qr(), url(), qr(id_="no")), buttons(qr(), qr(id_="no"), url()), ERROR),
    (
        "BTN-QR-GROUP",
        buttons(url(), qr(), phone(), qr(id_="no")),
        buttons(url(), phone(), qr(), qr(id_="no")),
        ERROR,
    ),
    (
        "BTN-URL-COUNT",
        buttons(url(), url(), url(), kind="twilio/call-to-action"),
        buttons(url(), url(), kind="twilio/call-to-action"),
        ERROR,
    ),
    (
        "BTN-URL-LEN",
        buttons(url("https://acme.example/" + "a" * 2000)),
        buttons(url("https://acme.example/" + "a" * 1979)),
        ERROR,
    ),
    (
        "BTN-URL-LEN",
        buttons(url("https://acme.example/{{1}}/{{2}}"), variables={"1": "a", "2": "b"}),
        buttons(url("https://acme.example/a/{{1}}"), variables={"1": "a"}),
        ERROR,
    ),
    (
        "BTN-URL-LEN",
        buttons(url("https://acme.example/{{1}}/visit"), variables={"1": "a"}),
        buttons(url("https://acme.example/visit/{{1}}"), variables={"1": "a"}),
        ERROR,
    ),
    ("BTN-URL-WAME", buttons(url("https://wa.me/14155550123")), buttons(url()), ERROR),
    (
        "BTN-PHONE-COUNT",
        buttons(phone(), {"type": "VOICE_CALL", "title": "Call"}),
        buttons(phone()),
        ERROR,
    ),
    ("BTN-PHONE-LEN", buttons(phone("+1 415 555 0123")), buttons(phone()), ERROR),
    ("BTN-PHONE-LEN", buttons(phone("+1415555012345678901")), buttons(phone()), ERROR),
    (
        "BTN-PHONE-LEN",
        buttons(phone("+1{{1}}"), variables={"1": "4155550123"}),
        buttons(phone()),
        ERROR,
    ),
    ("BTN-COPY-COUNT", buttons(copy(), copy("B")), buttons(copy()), ERROR),
    ("BTN-COPY-COUNT", buttons(copy("C" * 21)), buttons(copy("C" * 20)), ERROR),
    ("BTN-LABEL-LEN", buttons(qr("t" * 26)), buttons(qr("t" * 20)), ERROR),
    ("BTN-LABEL-LEN", buttons(qr("t" * 21)), buttons(qr("t" * 20)), WARNING),
    (
        "BTN-LABEL-LEN",
        buttons(url(title="t" * 25), kind="whatsapp/card"),
        buttons(url(title="t" * 20), kind="whatsapp/card"),
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
    assert problems(good, rule_id) == []


@pytest.mark.parametrize("length", [21, 26])
def test_a_button_title_message_names_both_documented_limits(length):
    (found,) = problems(buttons(qr("t" * length)), "BTN-LABEL-LEN")
    assert "20" in found.message
    assert "25" in found.message


def test_a_button_problem_names_the_key_of_the_button():
    (found,) = problems(buttons(qr(), url(title="t" * 30)), "BTN-LABEL-LEN")
    assert found.key == "templates[0].types.twilio/card.actions[1].title"


def test_quick_reply_actions_need_no_type():
    cfg = buttons(*[{"title": "Yes", "id": str(i)} for i in range(11)], kind="twilio/quick-reply")
    assert problems(cfg, "BTN-QR-COUNT")


def test_clean_buttons_pass_every_rule():
    assert problems(buttons(qr(), qr(id_="no"), url(), phone(), copy())) == []
