"""`plan` loads and validates the whole configuration before it opens the gateway: bad
input is an error naming the file and line, and Twilio is not asked anything (issue 17,
items 10 and 11)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import cli, emulator, env, repo  # noqa: F401 (fixtures)
from tests.e2e.helpers import REMINDER, customer_doc

BODY = REMINDER["localizations"]["en"]["body"]


def with_body(body: str) -> dict:
    localizations = {**REMINDER["localizations"], "en": {**REMINDER["localizations"]["en"]}}
    localizations["en"]["body"] = body
    return {**REMINDER, "localizations": localizations}


CASES = {
    "truncate shorter than its end": (
        with_body(BODY.replace("${{ clinic_name }}", "${{ clinic_name | truncate(1) }}")),
        "templates/appointment_reminder.yaml:7",
        "a filter's argument is wrong (expected length >= 3, got 1)",
    ),
    "truncate with a negative leeway": (
        with_body(
            BODY.replace("${{ clinic_name }}", "${{ clinic_name | truncate(5, leeway=-1) }}")
        ),
        "templates/appointment_reminder.yaml:7",
        "expected leeway >= 0",
    ),
    "a test that does not exist": (
        with_body(BODY.replace("${{ clinic_name }}", "${{ clinic_name is no_such_test }}")),
        "templates/appointment_reminder.yaml:7",
        "there is no test named 'no_such_test'",
    ),
    "a right-to-left override in the body": (
        with_body(BODY.replace("Reply", "Reply \u202e")),
        "templates/appointment_reminder.yaml:7",
        "U+202E (RIGHT-TO-LEFT OVERRIDE)",
    ),
}


@pytest.mark.parametrize(("library", "where", "message"), CASES.values(), ids=CASES.keys())
def test_a_bad_library_template_is_reported_before_any_request(
    repo,  # noqa: F811
    cli,  # noqa: F811
    emulator,  # noqa: F811
    library,
    where,
    message,
):
    repo.write("templates/appointment_reminder.yaml", library)
    repo.customer("clinic-1", customer_doc(1))
    emulator.clear_request_log()

    result = cli("plan")

    assert result.code == 1
    assert where in result.err
    assert message in result.err
    assert "internal error" not in result.err + result.out
    assert emulator.request_log() == []


def test_an_escape_in_a_display_name_is_reported_before_any_request(repo, cli, emulator):  # noqa: F811
    doc = customer_doc(1)
    doc["senders"][0]["display_name"] = "Clinic \x1b[2J One"
    repo.customer("clinic-1", doc)
    emulator.clear_request_log()

    result = cli("plan")

    assert result.code == 1
    assert "customers/clinic-1.yaml:" in result.err
    assert "senders[0].display_name: holds the character U+001B (ESCAPE)" in result.err
    assert "\x1b" not in result.err + result.out  # the message shows it, never prints it
    assert emulator.request_log() == []


def test_an_invalid_isv_email_is_reported(repo, cli):  # noqa: F811
    repo.write("wa-sync.yaml", {"isv": {"name": "Example Ltd", "email": "not-an-email"}})
    repo.customer("clinic-1", customer_doc(1))
    result = cli("validate")
    assert result.code == 1
    assert "wa-sync.yaml:3: isv.email: 'not-an-email' is not an email address" in result.out
