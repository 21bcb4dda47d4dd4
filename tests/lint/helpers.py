"""Model builders for lint tests: a clean customer that passes every rule, changed per case."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from wa_sync.config.lint import lint_config
from wa_sync.errors import Location, Problem
from wa_sync.model import Config, Customer, Onboarding, Sender, Template, freeze

FILE = "customers/acme-dental.yaml"


def template(**changes: Any) -> Template:
    fields: dict[str, Any] = {
        "name": "appointment_reminder",
        "language": "en",
        "category": "UTILITY",
        "types": {
            "twilio/text": {
                "body": "Hello {{1}}, your appointment at Acme Dental is on {{2}}. See you soon!"
            }
        },
        "variables": {"1": "Maria", "2": "June 3 at 10:00"},
        "where": Location(FILE, 10),
        "path": "templates[0]",
        "lines": {"name": 11, "category": 12, "types.twilio/text.body": 14, "variables.1": 16},
    }
    fields.update(changes)
    for key in ("types", "variables", "lines"):
        fields[key] = freeze(fields[key])
    return Template(**fields)


def sender(**changes: Any) -> Sender:
    fields: dict[str, Any] = {
        "phone_number": "+14155550123",
        "display_name": "Acme Dental",
        "profile": {
            "about": "Friendly dentists in Springfield.",
            "description": "Family dental practice.",
            "address": "1 Main St, Springfield",
            "emails": ["hello@acme-dental.example"],
            "websites": ["https://acme-dental.example"],
            "vertical": "Medical and Health",
        },
        "where": Location(FILE, 3),
        "path": "senders[0]",
        "lines": {"display_name": 5, "phone_number": 4, "profile.about": 7},
    }
    fields.update(changes)
    for key in ("profile", "lines"):
        fields[key] = freeze(fields[key])
    return Sender(**fields)


def config(
    *,
    templates: tuple[Template, ...] | None = None,
    senders: tuple[Sender, ...] | None = None,
    **customer: Any,
) -> Config:
    fields: dict[str, Any] = {
        "id": "acme-dental",
        "name": "Acme Dental Clinic",
        "templates": (template(),) if templates is None else templates,
        "senders": (sender(),) if senders is None else senders,
        "where": Location(FILE, 1),
        "onboarding": Onboarding(),
    }
    fields.update(customer)
    return Config(root=".", customers=(Customer(**fields),))


def problems(cfg: Config, rule_id: str | None = None) -> list[Problem]:
    found = lint_config(cfg)
    return [p for p in found if rule_id is None or p.rule == rule_id]


__all__ = ["config", "problems", "replace", "sender", "template"]
