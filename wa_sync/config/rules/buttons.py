"""Button rules (whatsapp-rules.md §1 "Buttons" and the per-type limits of §2)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from wa_sync.config.lint import rule
from wa_sync.config.rules._common import (
    E164,
    PLACEHOLDER,
    beyond,
    features,
    problem,
    web_url,
)
from wa_sync.errors import Problem
from wa_sync.model import Config, Template

BUTTONS_MAX = 10
QUICK_REPLIES_MAX = 10
URL_BUTTONS_MAX = 2
URL_MAX = 2000
PHONE_MAX = 20
CODE_MAX = 20
# BTN-LABEL-LEN (B): Meta and Twilio's common components say 25, some Twilio type pages 20
LABEL_MAX_STRICTEST, LABEL_MAX_LENIENT = 20, 25
PHONE_TYPES = ("PHONE_NUMBER", "VOICE_CALL")


def _buttons(
    config: Config,
) -> Iterator[tuple[Template, str, str, list[tuple[str, Mapping[str, Any]]]]]:
    """(template, content type, actions key, [(button type, action)]) for every type with
    buttons other than whatsapp/authentication (see AUTH-*)."""
    for f in features(config):
        for type_name, rel, typed in f.buttons:
            yield f.template, type_name, rel, typed


LIMITS = (
    ("BTN-QR-COUNT", ("QUICK_REPLY",), QUICK_REPLIES_MAX, "quick-reply buttons"),
    ("BTN-URL-COUNT", ("URL",), URL_BUTTONS_MAX, "URL buttons"),
    ("BTN-PHONE-COUNT", PHONE_TYPES, 1, "phone buttons (PHONE_NUMBER or VOICE_CALL)"),
    ("BTN-COPY-COUNT", ("COPY_CODE",), 1, "copy-code buttons"),
)


@lru_cache(maxsize=4096)  # most templates share a few button lists; bounded
def _over_limits(kinds: tuple[str, ...]) -> tuple[tuple[str, int, int, str], ...]:
    """(rule id, count, limit, what is counted) for each per-kind limit `kinds` passes."""
    found = []
    for rule_id, counted, limit, what in LIMITS:
        count = sum(kinds.count(kind) for kind in counted)
        if count > limit:
            found.append((rule_id, count, limit, what))
    return tuple(found)


@rule("BTN-TOTAL", "BTN-QR-COUNT", "BTN-URL-COUNT", "BTN-PHONE-COUNT", "BTN-COPY-COUNT")
def button_counts(config: Config) -> Iterator[Problem]:
    for t, type_name, rel, typed in _buttons(config):
        if len(typed) > BUTTONS_MAX:
            yield problem(
                t,
                rel,
                "BTN-TOTAL",
                f"{type_name} has {len(typed)} buttons; a WhatsApp template has at most "
                f"{BUTTONS_MAX}",
                f"keep at most {BUTTONS_MAX} buttons",
            )
        found = tuple([kind for kind, _ in typed])
        for rule_id, count, limit, what in _over_limits(found):
            yield problem(
                t,
                rel,
                rule_id,
                f"{type_name} has {count} {what}; WhatsApp allows at most {limit}",
                f"keep at most {limit}",
            )
        if "COPY_CODE" not in found:
            continue
        for i, (kind, action) in enumerate(typed):
            code = action.get("code")
            if kind == "COPY_CODE" and isinstance(code, str) and len(code) > CODE_MAX:
                yield problem(
                    t,
                    f"{rel}[{i}].code",
                    "BTN-COPY-COUNT",
                    f"copy-code value is {len(code)} characters, over WhatsApp's {CODE_MAX}",
                    f"use a code of at most {CODE_MAX} characters",
                )


@rule("BTN-QR-GROUP")
def quick_replies_grouped(config: Config) -> Iterator[Problem]:
    for t, type_name, rel, typed in _buttons(config):
        at = [i for i, (kind, _) in enumerate(typed) if kind == "QUICK_REPLY"]
        if at and at[-1] - at[0] + 1 != len(at):
            order = ", ".join(kind or "?" for kind, _ in typed)
            yield problem(
                t,
                rel,
                "BTN-QR-GROUP",
                f"{type_name} quick replies are not grouped together ({order})",
                "put all quick replies first or last, e.g. QUICK_REPLY, QUICK_REPLY, URL",
            )


@rule("BTN-URL-LEN", "BTN-URL-WAME")
def url_buttons(config: Config) -> Iterator[Problem]:
    for t, _type_name, rel, typed in _buttons(config):
        for i, (kind, action) in enumerate(typed):
            url = action.get("url")
            if kind != "URL" or not isinstance(url, str):
                continue
            where = f"{rel}[{i}].url"
            found = list(PLACEHOLDER.finditer(url))
            if len(url) > URL_MAX:
                yield problem(
                    t,
                    where,
                    "BTN-URL-LEN",
                    f"button URL is {len(url)} characters, over WhatsApp's {URL_MAX}",
                    "use a shorter URL",
                )
            if len(found) > 1:
                yield problem(
                    t,
                    where,
                    "BTN-URL-LEN",
                    f"button URL has {len(found)} variables; WhatsApp allows 1",
                    "keep one variable, at the end of the URL",
                )
            elif found and found[0].end() != len(url):
                yield problem(
                    t,
                    where,
                    "BTN-URL-LEN",
                    "the variable in a button URL must be at its end",
                    "move the variable to the end, e.g. https://example.com/orders/{{1}}",
                )
            parts = web_url(PLACEHOLDER.sub("x", url))
            host = (parts.hostname or "").lower() if parts else ""
            if not host:
                yield problem(
                    t,
                    where,
                    "BTN-URL-LEN",
                    f"button URL {url!r} is not an http(s) URL; the button opens a web page",
                    "write the whole address, e.g. https://example.com/orders/{{1}}",
                )
            if host == "wa.me" or host.endswith(".wa.me"):
                yield problem(
                    t,
                    where,
                    "BTN-URL-WAME",
                    "wa.me links in call-to-action buttons are a common reason for "
                    "WhatsApp to reject a template",
                    "link to your own website instead",
                )


@rule("BTN-PHONE-LEN")
def phone_buttons(config: Config) -> Iterator[Problem]:
    for t, _type_name, rel, typed in _buttons(config):
        for i, (kind, action) in enumerate(typed):
            phone = action.get("phone")
            if kind not in PHONE_TYPES or phone is None:
                continue
            where = f"{rel}[{i}].phone"
            text = phone if isinstance(phone, str) else str(phone)
            if PLACEHOLDER.search(text):
                message = "a button phone number cannot contain a variable"
            elif len(text) > PHONE_MAX:
                message = f"button phone number is {len(text)} characters, over {PHONE_MAX}"
            elif not E164.match(text):
                message = f"button phone number {text!r} is not in E.164 form"
            else:
                continue
            yield problem(
                t,
                where,
                "BTN-PHONE-LEN",
                message,
                "write the number as + country code and number, e.g. +14155550123",
            )


@rule("BTN-LABEL-LEN")
def button_labels(config: Config) -> Iterator[Problem]:
    for t, _type_name, rel, typed in _buttons(config):
        for i, (kind, action) in enumerate(typed):
            title = action.get("title")
            if not isinstance(title, str) or len(title) <= LABEL_MAX_STRICTEST:
                continue  # within both limits
            found = beyond(
                len(title),
                strictest=LABEL_MAX_STRICTEST,
                lenient=LABEL_MAX_LENIENT,
                what=f"{kind or 'button'} title {title!r}",
            )
            if found:
                severity, message = found
                yield problem(
                    t,
                    f"{rel}[{i}].title",
                    "BTN-LABEL-LEN",
                    f"{message}; Meta: 25, some Twilio type pages: 20",
                    f"keep button titles to {LABEL_MAX_STRICTEST} characters",
                    severity,
                )
