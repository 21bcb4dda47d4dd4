"""Template rules: name, category, language, body, header, footer, emoji, authentication
templates and the per-WABA template count (whatsapp-rules.md §1 and §2)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from wa_sync.config.lint import rule
from wa_sync.config.rules._common import (
    BODY_KEYS,
    PLACEHOLDER,
    WARNING,
    count_emoji,
    customer_problem,
    features,
    placeholders,
    problem,
    templates,
    web_url,
)
from wa_sync.errors import Problem
from wa_sync.model import BusinessVerification, Config, Template

NAME_PATTERN = re.compile(r"^[a-z0-9_]+\Z")
NAME_MAX = 512
VERSION_ROOM = "_v99"  # the suffix wa-sync adds to a replaced template (SPEC §4.4)
CATEGORIES = ("AUTHENTICATION", "MARKETING", "UTILITY")
LEGACY_CATEGORIES = {
    "TRANSACTIONAL": "UTILITY",
    "OTP": "AUTHENTICATION",
    "ACCOUNT_UPDATE": "UTILITY",
    "ALERT_UPDATE": "UTILITY",
    "APPOINTMENT_UPDATE": "UTILITY",
    "AUTO_REPLY": "UTILITY",
    "ISSUE_RESOLUTION": "UTILITY",
    "PAYMENT_UPDATE": "UTILITY",
    "PERSONAL_FINANCE_UPDATE": "UTILITY",
    "RESERVATION_UPDATE": "UTILITY",
    "SHIPPING_UPDATE": "UTILITY",
    "TICKET_UPDATE": "UTILITY",
    "TRANSPORTATION_UPDATE": "UTILITY",
}
# META/templates/supported-languages (May 2026), copied from whatsapp-rules.md.
LANGUAGE_CODES = """
    af sq ar ar_EG ar_AE ar_LB ar_MA ar_QA az be_BY bn bn_IN bg ca zh_CN zh_HK zh_TW hr
    cs da prs_AF nl nl_BE en en_GB en_US en_AE en_AU en_CA en_GH en_IE en_IN en_JM en_MY
    en_NZ en_QA en_SG en_UG en_ZA et fil fi fr fr_BE fr_CA fr_CH fr_CI fr_MA ka de de_AT
    de_CH el gu ha he hi hu id ga it ja kn kk rw_RW ko ky_KG lo lv lt mk ms ml mr nb ps_AF
    fa pl pt_BR pt_PT pa ro ru sr si_LK sk sl es es_AR es_CL es_CO es_CR es_DO es_EC es_HN
    es_MX es_PA es_PE es_ES es_UY sw sv ta te th tr uk ur uz vi zu"""
LANGUAGES = frozenset(LANGUAGE_CODES.split())
BODY_MAX = 1024
# Twilio's own per-type body limits where they are lower than WhatsApp's (§2).
TYPE_BODY_MAX = {"twilio/call-to-action": 640}
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
EMOJI_MAX = 10
TEMPLATES_UNVERIFIED = 250
TEMPLATES_VERIFIED = 6000
URLISH = re.compile(r"(?i)\bhttps?://|\bwww\.")


def _suggest_language(code: str) -> str:
    fixed = code.replace("-", "_")
    if "_" in fixed:
        lang, _, region = fixed.partition("_")
        fixed = f"{lang.lower()}_{region.upper()}"
    else:
        fixed = fixed.lower()
    if fixed in LANGUAGES:
        return f"write {fixed!r}"
    close = sorted(c for c in LANGUAGES if c.split("_")[0] == fixed.split("_")[0])
    if close:
        return f"use one of {', '.join(close)}"
    return "use a code from META/templates/supported-languages, e.g. en_US, es, pt_BR"


@rule("TPL-NAME-CHARS", "TPL-NAME-LEN")
def template_name(config: Config) -> Iterator[Problem]:
    for t in templates(config):
        name = t.name if isinstance(t.name, str) else ""
        if not 1 <= len(name) <= NAME_MAX:
            yield problem(
                t,
                "name",
                "TPL-NAME-LEN",
                f"template name is {len(name)} characters; WhatsApp allows 1 to {NAME_MAX}",
                f"use a name of 1 to {NAME_MAX} characters",
            )
        elif len(name) > NAME_MAX - len(VERSION_ROOM):
            yield problem(
                t,
                "name",
                "TPL-NAME-LEN",
                f"template name is {len(name)} characters; a new version of it "
                f"({name[:8]}...{VERSION_ROOM}, SPEC §4.4) would pass WhatsApp's {NAME_MAX}",
                f"keep names to {NAME_MAX - len(VERSION_ROOM)} characters",
                WARNING,
            )
        if name and not NAME_PATTERN.match(name):
            fixed = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "my_template"
            yield problem(
                t,
                "name",
                "TPL-NAME-CHARS",
                f"template name {name!r} may only use lowercase letters, digits and "
                "underscores (Meta error 100 otherwise)",
                f"rename it, e.g. {fixed!r}",
            )


@rule("TPL-NAME-UNIQUE")
def template_unique(config: Config) -> Iterator[Problem]:
    for customer in config.customers:
        seen: dict[tuple[str, str], Template] = {}
        for t in customer.templates:
            first = seen.setdefault(t.key, t)
            if first is not t:
                yield problem(
                    t,
                    "name",
                    "TPL-NAME-UNIQUE",
                    f"template {t.name!r} in language {t.language!r} is declared twice for "
                    f"customer {customer.id!r} (first at {first.where}); a WABA holds each "
                    "(name, language) once",
                    "rename one of them or remove the duplicate",
                )


@rule("TPL-CAT-ENUM")
def template_category(config: Config) -> Iterator[Problem]:
    for t in templates(config):
        category = t.category if isinstance(t.category, str) else ""
        if category in CATEGORIES:
            continue
        normal = category.strip().upper().replace(" ", "_")
        if normal in CATEGORIES:
            fix = f"write {normal!r}"
        elif normal in LEGACY_CATEGORIES:
            fix = f"{category!r} is a category retired in 2023; use {LEGACY_CATEGORIES[normal]!r}"
        else:
            fix = "use AUTHENTICATION, MARKETING or UTILITY"
        yield problem(
            t,
            "category",
            "TPL-CAT-ENUM",
            f"category {category!r} is not one of {', '.join(CATEGORIES)}",
            fix,
        )


@rule("TPL-LANG-ONE", "TPL-LANG-ENUM")
def template_language(config: Config) -> Iterator[Problem]:
    for t in templates(config):
        language = t.language
        if not isinstance(language, str) or re.search(r"[,;\s]", language.strip()):
            yield problem(
                t,
                "language",
                "TPL-LANG-ONE",
                f"language {language!r} is not a single code; a Twilio Content holds "
                "exactly one language",
                "declare one template entry (or localization) per language",
            )
        elif language not in LANGUAGES:
            yield problem(
                t,
                "language",
                "TPL-LANG-ENUM",
                f"language {language!r} is not a WhatsApp template language "
                "(codes are case-sensitive and use '_', e.g. en_US, pt_BR)",
                _suggest_language(language),
            )


@rule("TPL-BODY-REQ")
def template_body_required(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        if t.category == "AUTHENTICATION":
            continue  # the body is preset by Meta (AUTH-BODY)
        present = [name for name, _ in f.type_objects if name in BODY_KEYS]
        if not present:
            yield problem(
                t,
                "types",
                "TPL-BODY-REQ",
                f"the template has no content type with a WhatsApp body ({', '.join(BODY_KEYS)})",
                'add e.g. types: {"twilio/text": {"body": "..."}}',
            )
            continue
        if len(f.bodies) == len(present) and all(body.strip() for _, _, body in f.bodies):
            continue  # every body there, with text
        for type_name, obj in f.type_objects:
            key = BODY_KEYS.get(type_name)
            if key is None:
                continue
            value = obj.get(key)
            if not isinstance(value, str) or not value.strip():
                yield problem(
                    t,
                    f"types.{type_name}.{key}",
                    "TPL-BODY-REQ",
                    f"{type_name} has no {key}; the body is the one required component "
                    "of a WhatsApp template",
                    f"write the message text in {key}",
                )


def _substituted(text: str, samples: Mapping[str, object]) -> str:
    return PLACEHOLDER.sub(lambda m: str(samples.get(m.group(1), m.group(0))), text)


def _longest(samples: Mapping[str, object]) -> int:
    """The length of the longest sample value as `_substituted` writes it."""
    return max(map(len, map(str, samples.values())), default=0)


@rule("TPL-BODY-LEN")
def template_body_length(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        samples = f.samples
        for type_name, rel, body in f.bodies:
            limit = TYPE_BODY_MAX.get(type_name, BODY_MAX)
            source = "Twilio's limit for this type" if limit < BODY_MAX else "WhatsApp's limit"
            if len(body) > limit:
                yield problem(
                    t,
                    rel,
                    "TPL-BODY-LEN",
                    f"{type_name} body is {len(body)} characters, over {source} of {limit}",
                    f"shorten it by {len(body) - limit} characters",
                )
                continue
            # no sample can make it too long, even the longest in every placeholder
            count = body.count("{{")
            if not count or len(body) + count * _longest(samples) <= limit:
                continue
            filled = _substituted(body, samples)
            if len(filled) > limit:
                yield problem(
                    t,
                    rel,
                    "TPL-BODY-LEN",
                    f"{type_name} body is {len(filled)} characters with the sample values "
                    f"filled in, over {source} of {limit} (Twilio error 63021)",
                    "shorten the text or the sample values",
                )


@rule("TPL-HDR-TEXT-LEN", "TPL-HDR-TEXT-VARS")
def template_header_text(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        for type_name, rel, header, obj in f.headers:
            if len(header) > HEADER_TEXT_MAX:
                yield problem(
                    t,
                    rel,
                    "TPL-HDR-TEXT-LEN",
                    f"header text is {len(header)} characters, over WhatsApp's limit of "
                    f"{HEADER_TEXT_MAX}",
                    f"shorten it to {HEADER_TEXT_MAX} characters",
                )
            count = len(placeholders(header))
            if count > 1:
                yield problem(
                    t,
                    rel,
                    "TPL-HDR-TEXT-VARS",
                    f"header text has {count} variables; WhatsApp allows at most 1",
                    "keep one variable in the header and move the others to the body",
                )
            if obj.get("media"):
                yield problem(
                    t,
                    rel,
                    "TPL-HDR-TEXT-LEN",
                    f"{type_name} has both header_text and media; a template has at most "
                    "one header",
                    "keep either header_text or media",
                )
        for type_name, rel, media in f.media:
            if len(media) > 1:
                yield problem(
                    t,
                    rel,
                    "TPL-HDR-TEXT-LEN",
                    f"{type_name} has {len(media)} media items; a WhatsApp template has at "
                    "most one header",
                    "keep one media URL",
                )


@rule("TPL-HDR-MEDIA")
def template_header_media(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        for _type_name, rel, media in f.media:
            for i, item in enumerate(media):
                where = f"{rel}[{i}]"
                parts = web_url(PLACEHOLDER.sub("x", item) if isinstance(item, str) else None)
                if parts is None:
                    yield problem(
                        t,
                        where,
                        "TPL-HDR-MEDIA",
                        f"media {item!r} is not an http(s) URL; a media header needs a "
                        "sample file WhatsApp can fetch",
                        "give the public https URL of an image, video or document",
                    )
                elif parts.path.lower().endswith(".gif"):
                    yield problem(
                        t,
                        where,
                        "TPL-HDR-MEDIA",
                        "GIF headers are only available through Meta's Marketing Messages "
                        "API; template headers are IMAGE, VIDEO or DOCUMENT",
                        "convert it to an image (JPEG/PNG) or a video (MP4)",
                    )


@rule("TPL-HDR-LOCATION")
def template_header_location(config: Config) -> Iterator[Problem]:
    for t in templates(config):
        if "twilio/location" in t.types and t.category not in ("UTILITY", "MARKETING"):
            yield problem(
                t,
                "types.twilio/location",
                "TPL-HDR-LOCATION",
                f"a location header is only allowed in UTILITY or MARKETING templates, "
                f"not {t.category}",
                "remove the location or change the category",
            )


@rule("TPL-FOOTER-LEN")
def template_footer(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        for type_name, obj in f.type_objects:
            key = {"whatsapp/card": "footer", "twilio/card": "subtitle"}.get(type_name)
            footer = obj.get(key) if key else None
            if not isinstance(footer, str):
                continue
            rel = f"types.{type_name}.{key}"
            if len(footer) > FOOTER_MAX:
                yield problem(
                    t,
                    rel,
                    "TPL-FOOTER-LEN",
                    f"footer ({type_name} {key}) is {len(footer)} characters, over WhatsApp's "
                    f"limit of {FOOTER_MAX}",
                    f"shorten it to {FOOTER_MAX} characters",
                )
            if placeholders(footer):
                yield problem(
                    t,
                    rel,
                    "TPL-FOOTER-LEN",
                    f"footer ({type_name} {key}) has a variable; a footer is static text only",
                    "move the variable to the body",
                )


@rule("TPL-EMOJI-MAX")
def template_emoji(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        found = [text for _, text in f.texts]
        if "".join(found).isascii():
            continue  # every emoji is beyond ASCII
        count = sum([count_emoji(text) for text in found])
        if count > EMOJI_MAX:
            yield problem(
                t,
                "types",
                "TPL-EMOJI-MAX",
                f"the template has {count} emoji; more than {EMOJI_MAX} is a common reason "
                "for WhatsApp to reject it",
                f"use at most {EMOJI_MAX} emoji",
            )


@rule("LC-LIMIT-COUNT")
def template_count(config: Config) -> Iterator[Problem]:
    for customer in config.customers:
        count = len(customer.templates)
        verified = customer.onboarding.business_verification is BusinessVerification.VERIFIED
        if count > TEMPLATES_VERIFIED:
            yield customer_problem(
                customer,
                "templates",
                "LC-LIMIT-COUNT",
                f"customer {customer.id!r} declares {count} templates (name and language "
                f"each count); a WABA holds at most {TEMPLATES_VERIFIED}",
                "split the templates across customers or remove unused ones",
            )
        elif count > TEMPLATES_UNVERIFIED and not verified:
            yield customer_problem(
                customer,
                "templates",
                "LC-LIMIT-COUNT",
                f"customer {customer.id!r} declares {count} templates; a WABA whose business "
                f"portfolio is not verified holds at most {TEMPLATES_UNVERIFIED}",
                "complete business verification (and get a display name approved), or "
                f"keep to {TEMPLATES_UNVERIFIED} templates",
            )
        elif count > TEMPLATES_UNVERIFIED:
            yield customer_problem(
                customer,
                "templates",
                "LC-LIMIT-COUNT",
                f"customer {customer.id!r} declares {count} templates; more than "
                f"{TEMPLATES_UNVERIFIED} needs a verified portfolio and an approved display "
                "name, which validate cannot see",
                "make sure a sender's display name is approved",
                WARNING,
            )
