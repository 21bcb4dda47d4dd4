"""The WhatsApp rules of authentication templates (AUTH-*, whatsapp-rules.md §2): one
whatsapp/authentication type with its copy-code button, no media, a bounded expiry."""

from __future__ import annotations

from collections.abc import Iterator

from wa_sync.config.lint import rule
from wa_sync.config.rules._common import (
    BODY_KEYS,
    count_emoji,
    features,
    is_mapping,
    problem,
    templates,
)
from wa_sync.config.rules.templates import URLISH
from wa_sync.config.yamlfile import strings
from wa_sync.errors import Problem
from wa_sync.model import Config

AUTH_EXPIRY = (1, 90)
AUTH_BUTTON_MAX = 25

AUTH_TYPE = "whatsapp/authentication"


@rule("AUTH-TYPE")
def auth_type(config: Config) -> Iterator[Problem]:
    for t in templates(config):
        obj = t.types.get(AUTH_TYPE) if is_mapping(t.types) else None
        if t.category == "AUTHENTICATION" and not is_mapping(obj):
            yield problem(
                t,
                "types",
                "AUTH-TYPE",
                f"an AUTHENTICATION template must use the {AUTH_TYPE} content type",
                f'use types: {{"{AUTH_TYPE}": {{"actions": [{{"type": "COPY_CODE", '
                '"copy_code_text": "Copy code"}]}}',
            )
            continue
        if obj is None:
            continue
        if t.category != "AUTHENTICATION":
            yield problem(
                t,
                f"types.{AUTH_TYPE}",
                "AUTH-TYPE",
                f"{AUTH_TYPE} is only for AUTHENTICATION templates, not {t.category}",
                "set category: AUTHENTICATION",
            )
        found = obj.get("actions") if is_mapping(obj) else None
        good = (
            isinstance(found, list | tuple)
            and len(found) == 1
            and is_mapping(found[0])
            and found[0].get("type") == "COPY_CODE"
            and isinstance(found[0].get("copy_code_text"), str)
            and found[0]["copy_code_text"].strip()
        )
        if not good:
            yield problem(
                t,
                f"types.{AUTH_TYPE}.actions",
                "AUTH-TYPE",
                f"{AUTH_TYPE} needs exactly one action: COPY_CODE with copy_code_text",
                'write actions: [{"type": "COPY_CODE", "copy_code_text": "Copy code"}]',
            )


@rule("AUTH-BODY")
def auth_body(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        if t.category != "AUTHENTICATION":
            continue
        for type_name, obj in f.type_objects:
            key = BODY_KEYS.get(type_name) or ("body" if type_name == AUTH_TYPE else None)
            if key and key in obj:
                yield problem(
                    t,
                    f"types.{type_name}.{key}",
                    "AUTH-BODY",
                    "authentication templates cannot have a custom body; Meta presets it "
                    '("<code> is your verification code.")',
                    f"remove {type_name}; use {AUTH_TYPE} options "
                    "(add_security_recommendation, code_expiration_minutes)",
                )


@rule("AUTH-EXPIRY")
def auth_expiry(config: Config) -> Iterator[Problem]:
    low, high = AUTH_EXPIRY
    for t in templates(config):
        obj = t.types.get(AUTH_TYPE) if is_mapping(t.types) else None
        if not is_mapping(obj) or "code_expiration_minutes" not in obj:
            continue
        value = obj["code_expiration_minutes"]
        whole = isinstance(value, int) and not isinstance(value, bool)
        if isinstance(value, float) and value.is_integer():
            whole, value = True, int(value)
        if not whole or not low <= value <= high:
            yield problem(
                t,
                f"types.{AUTH_TYPE}.code_expiration_minutes",
                "AUTH-EXPIRY",
                f"code_expiration_minutes is {value!r}; it must be a whole number of minutes "
                f"from {low} to {high}",
                f"use an integer from {low} to {high}",
            )


@rule("AUTH-NO-MEDIA")
def auth_no_media(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        if t.category != "AUTHENTICATION":
            continue
        for type_name, obj in f.type_objects:
            if obj.get("media"):
                yield problem(
                    t,
                    f"types.{type_name}.media",
                    "AUTH-NO-MEDIA",
                    "authentication templates cannot carry media",
                    "remove the media",
                )
        for rel, text in f.texts:
            if URLISH.search(text):
                yield problem(
                    t,
                    rel,
                    "AUTH-NO-MEDIA",
                    "authentication templates cannot contain URLs",
                    "remove the URL",
                )
            elif count_emoji(text):
                yield problem(
                    t,
                    rel,
                    "AUTH-NO-MEDIA",
                    "authentication templates cannot contain emoji",
                    "remove the emoji",
                )
        for rel, text in strings(t.variables, "variables"):
            if URLISH.search(text) or count_emoji(text):
                yield problem(
                    t,
                    rel,
                    "AUTH-NO-MEDIA",
                    "authentication template samples cannot contain URLs or emoji",
                    "use a plain code such as 123456",
                )


@rule("AUTH-BTN-LEN")
def auth_button(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        for type_name, rel, items in f.actions:
            if type_name != AUTH_TYPE:
                continue
            for i, action in enumerate(items):
                text = action.get("copy_code_text")
                if isinstance(text, str) and len(text) > AUTH_BUTTON_MAX:
                    yield problem(
                        t,
                        f"{rel}[{i}].copy_code_text",
                        "AUTH-BTN-LEN",
                        f"copy-code button text is {len(text)} characters, over WhatsApp's "
                        f"limit of {AUTH_BUTTON_MAX}",
                        f"shorten it to {AUTH_BUTTON_MAX} characters",
                    )
