"""A seeded corpus of configs full of policy problems, for the lint's golden test: every
rule fires many times, over well-formed and odd shapes, inline and library templates."""

from __future__ import annotations

import random
from types import MappingProxyType
from typing import Any

from wa_sync.errors import Location
from wa_sync.model import (
    BusinessVerification,
    Config,
    Customer,
    Onboarding,
    Sender,
    Template,
    freeze,
)

WORDS = [
    "Hello",
    "your",
    "appointment",
    "is",
    "on",
    "at",
    "Acme",
    "-",
    "!",
    "see you soon.",
    "{{1}}",
    "{{2}}",
    "{{3}}",
    "{{5}}",
    "{{10}}",
    "{{0}}",
    "{{01}}",
    "{{name}}",
    "{{first_name}}",
    "{{firstName}}",
    "{{ 1 }}",
    "{{a b}}",
    "{{}}",
    "{{this_key_is_far_too_long}}",
    "{{é}}",
    "{1}",
    "{ name }",
    "{{{1}}}",
    "{{1}",
    "}}",
    "{{1}}{{2}}",
    "{{1}} {{2}}",
    "🦷",
    "🦷🦷🦷🦷",
    "🇺🇸",
    "1\u20e3",
    "👨\u200d👩\u200d👧",
    "☀\ufe0f",
    "®",
    "https://wa.me/123",
    "http://example.com/{{1}}",
    "www.example.com",
    "$5",
    "#1",
    "50%",
    "\t",
    "\n",
    "     ",
    "x" * 30,
    "y" * 700,
]
URLS = [
    "https://example.com/{{1}}",
    "https://example.com/a{{1}}",
    "https://{{1}}.example.com/",
    "https://example.com/{{1}}/{{2}}",
    "https://example.com/{{1}}/x",
    "https://wa.me/14155550123",
    "https://api.wa.me/x",
    "https://example.com/" + "p" * 2000,
    "http://[bad",
    "ftp://example.com/a.gif",
    "https://example.com/a.GIF",
    "https://example.com/a.png",
    "not a url",
    "{{1}}",
    "",
]
PHONES = ["+14155550123", "+1415555012345678901", "0044 20 7946 0958", "{{1}}", "555", 14155550123]
BUTTON_TYPES = ["QUICK_REPLY", "URL", "PHONE_NUMBER", "VOICE_CALL", "COPY_CODE", "", "url", None]
TYPE_NAMES = [
    "twilio/text",
    "twilio/media",
    "twilio/quick-reply",
    "twilio/call-to-action",
    "twilio/card",
    "whatsapp/card",
    "whatsapp/authentication",
    "twilio/location",
]
NAMES = ["appointment_reminder", "Order-Update", "", "ok_name", "n" * 510, "n" * 513, "ünïcode"]
CATEGORIES = ["UTILITY", "MARKETING", "AUTHENTICATION", "utility", "TRANSACTIONAL", "OTP", "x", ""]
LANGUAGES = ["en", "en_US", "pt_BR", "en-us", "EN", "es, en", "xx", "zh_cn", "", "de"]
DISPLAY_NAMES = [
    "Acme Dental",
    "ACME DENTAL CLINIC",
    "Acme  Dental",
    " Acme Dental",
    "Acme And Dental",
    "Acme Dental 🦷",
    "Acme Dental®",
    "Acme!! Dental",
    "Acme@Dental",
    "WhatsApp Acme",
    "Acme Official",
    "acme-dental.com",
    "www.acme.com",
    "Ac",
    "",
    "Totally Unrelated",
    "A" * 80,
    "B" * 300,
    "Acme\tDental",
]
PROFILE_VALUES: dict[str, list[Any]] = {
    "about": ["Friendly dentists.", "", "   ", "*bold* text", "a" * 140, "[x](http://y)", 5],
    "description": ["Family practice.", "d" * 300, "d" * 600, None],
    "address": ["1 Main St", "a" * 300, 7],
    "emails": [["hello@acme.example"], ["bad"], ["e" * 130 + "@x.com"], "one@x.io", [3], None],
    "websites": [
        ["https://acme.example"],
        ["acme.example"],
        ["https://a", "https://b", "https://c"],
        ["h" * 300],
        "http://one.example",
    ],
    "vertical": ["Medical and Health", "HEALTH", "medical and health", "Dentistry", 3],
}


def _text(rng: random.Random, most: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, most)))


def _action(rng: random.Random) -> Any:
    if rng.random() < 0.05:
        return rng.choice(["not a mapping", 3, None])
    action: dict[str, Any] = {}
    kind = rng.choice(BUTTON_TYPES)
    if kind is not None:
        action["type"] = kind
    if rng.random() < 0.8:
        action["title"] = rng.choice(["Yes", "Book now", "t" * 22, "t" * 30, 5])
    if rng.random() < 0.5:
        action["url"] = rng.choice(URLS)
    if rng.random() < 0.4:
        action["phone"] = rng.choice(PHONES)
    if rng.random() < 0.3:
        action["code"] = rng.choice(["SAVE10", "c" * 25, 7])
    if rng.random() < 0.3:
        action["copy_code_text"] = rng.choice(["Copy code", "c" * 30, "", 3])
    return action


def _type_object(rng: random.Random, type_name: str) -> Any:
    if rng.random() < 0.04:
        return rng.choice(["a string", [1, 2], None])
    obj: dict[str, Any] = {}
    for key in ("body", "title"):
        if rng.random() < 0.7:
            obj[key] = _text(rng) if rng.random() < 0.9 else rng.choice([3, None, ""])
    if rng.random() < 0.5:
        obj["actions"] = [_action(rng) for _ in range(rng.randint(0, 12))]
        if rng.random() < 0.05:
            obj["actions"] = [{"title": f"Reply {i}"} for i in range(11)]
        if rng.random() < 0.05:
            obj["actions"] = "not a list"
    if rng.random() < 0.3:
        obj["media"] = [rng.choice([*URLS, 5]) for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.3:
        obj["header_text"] = _text(rng, 6)
    if rng.random() < 0.3:
        obj[rng.choice(["footer", "subtitle"])] = _text(rng, 8)
    if type_name == "whatsapp/authentication" and rng.random() < 0.6:
        obj["code_expiration_minutes"] = rng.choice([10, 0, 91, 5.0, 5.5, True, "10"])
    if rng.random() < 0.1:
        obj["nested"] = {"deep": [_text(rng, 3), {"x": _text(rng, 3)}]}
    return obj


def _variables(rng: random.Random) -> dict[str, Any]:
    keys = ["1", "2", "3", "10", "name", "first_name", "firstName", "a b", "", "k" * 20]
    values = ["Maria", "", "  ", "a\tb", "$25", "#1 50%", "v" * 300, "v" * 1700, 12, "🦷", "123456"]
    values += ["https://x.example", "1234567890123456"]
    if rng.random() < 0.02:
        return {str(i): "Maria" for i in range(1, 102)}
    return {rng.choice(keys): rng.choice(values) for _ in range(rng.randint(0, 5))}


def _lines(rng: random.Random, template_types: dict[str, Any]) -> dict[str, int]:
    keys = ["name", "category", "language", "types", "variables", "variables.1"]
    for type_name, obj in template_types.items():
        keys.append(f"types.{type_name}")
        if isinstance(obj, dict):
            keys += [f"types.{type_name}.{k}" for k in obj]
    return {k: rng.randint(1, 400) for k in keys if rng.random() < 0.5}


def template(rng: random.Random, file: str, index: int, library: str = "") -> Template:
    names = rng.sample(TYPE_NAMES, rng.randint(0, 3))
    types = {name: _type_object(rng, name) for name in names}
    return Template(
        name=rng.choice(NAMES) if rng.random() < 0.3 else f"template_{index % 7}",
        language="en" if library or rng.random() < 0.7 else rng.choice(LANGUAGES),
        category=rng.choice(CATEGORIES),
        types=freeze(types),
        variables=freeze(_variables(rng)),
        library=library,
        where=Location(file, rng.randint(1, 300)),
        path=f"templates[{index}]" if not library else "localizations.en",
        lines=freeze(_lines(rng, types)),
    )


def _clean(file: str, index: int) -> Template:
    return Template(
        name=f"clean_{index}",
        language="en",
        category="UTILITY",
        types=freeze({"twilio/text": {"body": "Hello {{1}}, see you on Monday at the clinic."}}),
        variables=freeze({"1": "Maria"}),
        where=Location(file, 10 + index),
    )


def sender(rng: random.Random, file: str, index: int) -> Sender:
    profile = {k: rng.choice(v) for k, v in PROFILE_VALUES.items() if rng.random() < 0.6}
    return Sender(
        phone_number=rng.choice([*PHONES[:5], "whatsapp:+14155550123", "+1 415 555"]),
        display_name=rng.choice(DISPLAY_NAMES),
        profile=freeze(profile),
        where=Location(file, rng.randint(1, 50)),
        path=f"senders[{index}]",
        lines=freeze(
            {k: rng.randint(1, 60) for k in ("display_name", "phone_number", "profile.about")}
        ),
    )


def configs(seed: int = 7, count: int = 12) -> list[Config]:
    """`count` configs of a few customers each; library templates are shared between the
    customers of a config (the same objects), as rendering from one library would give."""
    rng = random.Random(seed)
    found = []
    for n in range(count):
        library = [
            template(rng, f"templates/lib_{i}.yaml", i, library=f"lib_{i}") for i in range(3)
        ]
        customers = []
        for c in range(rng.randint(1, 5)):
            file = f"customers/c{n}-{c}.yaml"
            own = [template(rng, file, i) for i in range(rng.randint(0, 8))]
            # a library template as most customers render it, or as one renders it
            # differently (its own `with:` values)
            shared = [
                t if rng.random() < 0.7 else template(rng, t.where.file, i, library=t.library)
                for i, t in enumerate(library)
                if rng.random() < 0.7
            ]
            if n == 0 and c == 0:  # over the unverified WABA's template count
                own += [_clean(file, i) for i in range(260)]
            customers.append(
                Customer(
                    id=f"c{n}-{c}",
                    name=rng.choice(["Acme Dental Clinic", "The Co", "", "Springfield Smiles"]),
                    templates=tuple(own + shared + own[:1]),
                    senders=tuple(sender(rng, file, i) for i in range(rng.randint(0, 3))),
                    where=Location(file, 1),
                    lines=freeze({"templates": 4}),
                    uses=MappingProxyType(
                        {
                            (t.library, t.language): f"templates[{len(own) + k}]"
                            for k, t in enumerate(shared)
                        }
                    ),
                    onboarding=Onboarding(
                        business_verification=rng.choice(list(BusinessVerification))
                    ),
                )
            )
        found.append(Config(root=".", customers=tuple(customers)))
    return found
