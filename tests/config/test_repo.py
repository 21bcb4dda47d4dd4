"""load_repo: the files become the model, with file:line on every entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.conftest import REPO_ROOT
from wa_sync.config import lint
from wa_sync.config.repo import load_repo
from wa_sync.config.yamlfile import YamlFileError, parse_yaml
from wa_sync.errors import ConfigInvalid, Location, Problem, Severity, UsageError
from wa_sync.model import AccessRequest, BusinessVerification, Invitation


def test_the_example_becomes_the_model():
    config, warnings = load_repo(str(REPO_ROOT))

    assert warnings == []
    assert [c.id for c in config.customers] == [
        "acme-dental",
        "bella-bistro",
        "grachten-koffie",
        "northwind-outfitters",
    ]
    assert config.isv.email == "onboarding@example-isv.com"
    assert config.settings.parallelism == 8
    acme = config.customer("acme-dental")
    assert acme is not None
    assert acme.onboarding.access_request is AccessRequest.APPROVED
    assert acme.waba_id == "104000000000001"
    assert [t.key for t in acme.templates] == [
        ("appointment_reminder", "en"),
        ("appointment_reminder", "es"),
        ("booking_confirmation", "en"),
        ("acme_recall_offer", "en"),
    ]
    bella = config.customer("bella-bistro")
    assert bella is not None
    assert bella.onboarding.access_request is AccessRequest.SUBMITTED
    new = config.customer("northwind-outfitters")
    assert new is not None
    assert new.onboarding.business_verification is BusinessVerification.NOT_STARTED
    assert new.onboarding.invitation is Invitation.NOT_SENT
    assert new.waba_id is None


def test_an_inline_body_becomes_a_twilio_text_type_with_lines():
    config, _ = load_repo(str(REPO_ROOT))
    acme = config.customer("acme-dental")
    assert acme is not None
    inline = acme.templates[-1]

    assert dict(inline.types) == {
        "twilio/text": {
            "body": "Hi {{1}}, it's time for your check-up. Book this month and get 10% off "
            "your cleaning."
        }
    }
    assert inline.library == ""
    assert inline.where == Location("customers/acme-dental.yaml", 36)
    assert inline.path == "templates[2]"
    assert inline.lines["category"] == 38
    assert inline.lines["types.twilio/text.body"] == 39
    assert inline.lines["variables.1"] == 40


def test_library_templates_are_rendered_for_the_customer():
    config, _ = load_repo(str(REPO_ROOT))
    acme = config.customer("acme-dental")
    assert acme is not None
    cta = acme.templates[2]

    body = cta.types["twilio/call-to-action"]["body"]
    actions = cta.types["twilio/call-to-action"]["actions"]
    assert "at Acme Dental is confirmed" in body
    assert actions[0]["url"] == "https://acme-dental.example/bookings/{{2}}"
    assert actions[1]["phone"] == "+14155550123"
    assert cta.library == "booking_confirmation"
    assert cta.where.file == "templates/booking_confirmation.yaml"


def test_senders_carry_their_place_in_the_file():
    config, _ = load_repo(str(REPO_ROOT))
    acme = config.customer("acme-dental")
    assert acme is not None
    (sender,) = acme.senders

    assert sender.sender_id == "whatsapp:+14155550123"
    assert sender.where == Location("customers/acme-dental.yaml", 14)
    assert sender.path == "senders[0]"
    assert sender.lines["profile.about"] == 17
    assert tuple(sender.profile["emails"]) == ("hello@acme-dental.example",)
    assert acme.lines["senders[0].display_name"] == 15


def test_only_the_requested_customers_are_loaded(base_repo: Path):
    (base_repo / "customers" / "broken.yaml").write_text("name: [\n")

    config, _ = load_repo(str(base_repo), customers=["base-clinic"])

    assert [c.id for c in config.customers] == ["base-clinic"]


def test_errors_and_warnings_come_together(base_repo: Path):
    (base_repo / "customers" / "broken.yaml").write_text("name: Broken\nwaba_id: 1\n")
    template = base_repo / "templates" / "appointment_reminder.yaml"
    template.write_text(template.read_text().replace("[clinic_name]", "[clinic_name, spare]"))

    with pytest.raises(ConfigInvalid) as caught:
        load_repo(str(base_repo))

    severities = {(p.where.file, p.severity) for p in caught.value.problems}
    assert ("customers/broken.yaml", Severity.ERROR) in severities
    assert ("templates/appointment_reminder.yaml", Severity.WARNING) in severities
    assert "customers/broken.yaml:3: waba_id" not in str(caught.value)


def test_lint_problems_are_merged_once(base_repo: Path, monkeypatch: pytest.MonkeyPatch):
    def shouting(config):
        for customer in config.customers:
            for template in customer.templates:  # rendered from one library file
                yield Problem(
                    template.where, "name", "test rule", rule="TEST-RULE", severity=Severity.WARNING
                )

    monkeypatch.setattr(lint, "RULES", [shouting])
    (base_repo / "customers" / "second.yaml").write_text(
        (base_repo / "customers" / "base-clinic.yaml").read_text().replace("0100", "0101")
    )

    _, warnings = load_repo(str(base_repo))

    assert [(str(w.where), w.rule) for w in warnings] == [
        ("templates/appointment_reminder.yaml:6", "TEST-RULE"),
        ("templates/appointment_reminder.yaml:9", "TEST-RULE"),
    ]


def test_root_must_be_a_directory(tmp_path: Path):
    with pytest.raises(UsageError, match="no such directory"):
        load_repo(str(tmp_path / "missing"))


def test_an_empty_repository_is_valid(tmp_path: Path):
    (tmp_path / "customers").mkdir()  # an estate with no customer yet (a bare directory is none)
    config, warnings = load_repo(str(tmp_path))

    assert config.customers == ()
    assert warnings == []


def test_yaml_lines_merges_and_keys():
    doc = parse_yaml(
        "base: &b {about: Hi, vertical: Other}\n"
        "profile:\n"
        "  <<: *b\n"
        "  about: Hello\n"
        "variables: {1: Maria}\n"
        "when: 2024-06-03\n",
        "f.yaml",
    )

    assert doc.data["profile"] == {"about": "Hello", "vertical": "Other"}
    assert doc.data["variables"] == {"1": "Maria"}
    assert doc.data["when"] == "2024-06-03"
    assert doc.lines["profile.about"] == 4
    assert doc.line("profile.nothing.deeper") == 2


def test_scalars_are_the_values_yamls_safe_loader_gives():
    """Strings are taken as written without PyYAML's constructor; every scalar still
    comes out as yaml.safe_load (PyYAML's own constructor) has it."""
    import yaml

    text = (
        "plain: Hello there\nquoted: '12'\ndouble: \"yes\"\nexplicit: !!str 12\n"
        "number: 12\nhex: 0x1f\nfloat: 1.5\nbool: yes\nnothing: ~\nempty:\n"
        "folded: >\n  two\n  lines\nlist: [a, '1', 2, no]\n"
    )
    data = parse_yaml(text, "f.yaml").data
    assert data == yaml.safe_load(text)
    assert [type(data[k]) for k in ("quoted", "double", "explicit", "number", "bool")] == [
        str,
        str,
        str,
        int,
        bool,
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\nb:\n\t- x\n", 3, "a tab is used for indentation"),
        ("a: 1\na: 2\n", 2, "duplicate key 'a' (first given at line 1)"),
        ("a: !!binary aGk=\n", 1, "the tag !!binary is not allowed"),
        ("a: !Custom x\n", 1, "the tag !Custom is not allowed"),
        ("? [a, b]\n: 1\n", 1, "a key must be a plain word"),
        ("a: 1\n---\nb: 2\n", 2, "holds more than one YAML document"),
    ],
)
def test_yaml_refusals_name_the_line(text: str, line: int, message: str):
    with pytest.raises(YamlFileError) as caught:
        parse_yaml(text, "f.yaml")

    assert caught.value.problem.where == Location("f.yaml", line)
    assert message in caught.value.problem.message


def test_a_business_name_has_a_length_limit(tmp_path):
    from wa_sync.config.repo import load_repo
    from wa_sync.errors import ConfigInvalid

    (tmp_path / "customers").mkdir()
    (tmp_path / "customers" / "long-name.yaml").write_text(f"name: {'x' * 300}\n")
    with pytest.raises(ConfigInvalid) as refused:
        load_repo(str(tmp_path))
    assert "customers/long-name.yaml:1" in str(refused.value)
