"""Business-profile rules for senders (whatsapp-rules.md §4)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from wa_sync.config.lint import rule
from wa_sync.config.rules._common import WARNING, beyond, problem, senders
from wa_sync.errors import Problem
from wa_sync.model import Config, Sender

ABOUT_MAX = 139
# PRF-DESC (B): 256 in Meta's OpenAPI v23.0, 512 in other copies of Meta's reference
DESC_MAX_STRICTEST, DESC_MAX_LENIENT = 256, 512
ADDRESS_MAX = 256
EMAIL_MAX = 128
WEBSITES_MAX = 2
WEBSITE_MAX = 256
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}\Z")
MARKDOWN = re.compile(
    r"(\*[^*\s][^*]*\*|(?<!\w)_[^_\s][^_]*_(?!\w)|~[^~\s][^~]*~|```|`[^`]+`"
    r"|\[[^\]]+\]\([^)]+\)|^\s*#{1,6}\s)",
    re.MULTILINE,
)
VERTICALS = (
    "Alcohol",
    "Automotive",
    "Beauty, Spa and Salon",
    "Clothing and Apparel",
    "Education",
    "Entertainment",
    "Event Planning and Service",
    "Finance and Banking",
    "Food and Grocery",
    "Hotel and Lodging",
    "Matrimony Service",
    "Medical and Health",
    "Non-profit",
    "Online Gambling",
    "OTC Drugs",
    "Other",
    "Physical Gambling",
    "Professional Services",
    "Public Service",
    "Restaurant",
    "Shopping and Retail",
    "Travel and Transportation",
)
# Meta's enum (PRF-VERT-META) -> Twilio's name, to suggest a fix; GOVT is an assumption
# (the mapping is not documented; whatsapp-rules-sources.md §4)
META_TO_TWILIO = {
    "ALCOHOL": "Alcohol",
    "AUTO": "Automotive",
    "BEAUTY": "Beauty, Spa and Salon",
    "APPAREL": "Clothing and Apparel",
    "EDU": "Education",
    "ENTERTAIN": "Entertainment",
    "EVENT_PLAN": "Event Planning and Service",
    "FINANCE": "Finance and Banking",
    "GROCERY": "Food and Grocery",
    "HOTEL": "Hotel and Lodging",
    "HEALTH": "Medical and Health",
    "NONPROFIT": "Non-profit",
    "ONLINE_GAMBLING": "Online Gambling",
    "OTC_DRUGS": "OTC Drugs",
    "OTHER": "Other",
    "PHYSICAL_GAMBLING": "Physical Gambling",
    "PROF_SERVICES": "Professional Services",
    "GOVT": "Public Service",
    "RESTAURANT": "Restaurant",
    "RETAIL": "Shopping and Retail",
    "TRAVEL": "Travel and Transportation",
}


def _profile(sender: Sender) -> Mapping[str, Any]:
    return sender.profile if isinstance(sender.profile, Mapping) else {}


def _items(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [] if value is None else [value]


@rule("PRF-ABOUT")
def about(config: Config) -> Iterator[Problem]:
    for s in senders(config):
        if "about" not in _profile(s):
            continue
        value = _profile(s)["about"]
        text = value if isinstance(value, str) else ""
        markdown = MARKDOWN.search(text)
        if not text.strip() or len(text) > ABOUT_MAX:
            yield problem(
                s,
                "profile.about",
                "PRF-ABOUT",
                f"about is {len(text.strip())} characters; WhatsApp wants 1 to {ABOUT_MAX}",
                f"write 1 to {ABOUT_MAX} characters",
            )
        elif markdown:
            yield problem(
                s,
                "profile.about",
                "PRF-ABOUT",
                f"about uses Markdown ({markdown.group(0)!r}); WhatsApp shows it as plain text",
                "remove the formatting",
            )


@rule("PRF-DESC")
def description(config: Config) -> Iterator[Problem]:
    for s in senders(config):
        value = _profile(s).get("description")
        if not isinstance(value, str):
            continue
        found = beyond(
            len(value), strictest=DESC_MAX_STRICTEST, lenient=DESC_MAX_LENIENT, what="description"
        )
        if found:
            severity, message = found
            yield problem(
                s,
                "profile.description",
                "PRF-DESC",
                f"{message}; Meta OpenAPI v23.0: 256, other copies of Meta's reference: 512",
                f"keep it to {DESC_MAX_STRICTEST} characters",
                severity,
            )


@rule("PRF-ADDR")
def address(config: Config) -> Iterator[Problem]:
    for s in senders(config):
        value = _profile(s).get("address")
        if isinstance(value, str) and len(value) > ADDRESS_MAX:
            yield problem(
                s,
                "profile.address",
                "PRF-ADDR",
                f"address is {len(value)} characters, over WhatsApp's {ADDRESS_MAX}",
                f"shorten it to {ADDRESS_MAX} characters",
            )


@rule("PRF-EMAIL")
def emails(config: Config) -> Iterator[Problem]:
    for s in senders(config):
        for i, value in enumerate(_items(_profile(s).get("emails"))):
            text = value if isinstance(value, str) else str(value)
            if len(text) > EMAIL_MAX:
                message = f"email is {len(text)} characters, over WhatsApp's {EMAIL_MAX}"
            elif not EMAIL.match(text):
                message = f"{text!r} is not a valid email address"
            else:
                continue
            yield problem(
                s,
                f"profile.emails[{i}]",
                "PRF-EMAIL",
                message,
                "write an address such as support@example.com",
            )


@rule("PRF-WEB-COUNT", "PRF-WEB-LEN")
def websites(config: Config) -> Iterator[Problem]:
    for s in senders(config):
        sites = _items(_profile(s).get("websites"))
        if len(sites) > WEBSITES_MAX:
            yield problem(
                s,
                "profile.websites",
                "PRF-WEB-COUNT",
                f"{len(sites)} websites; WhatsApp shows at most {WEBSITES_MAX}",
                f"keep {WEBSITES_MAX}",
            )
        for i, value in enumerate(sites):
            text = value if isinstance(value, str) else str(value)
            rel = f"profile.websites[{i}]"
            if len(text) > WEBSITE_MAX:
                yield problem(
                    s,
                    rel,
                    "PRF-WEB-LEN",
                    f"website is {len(text)} characters, over WhatsApp's {WEBSITE_MAX}",
                    "use a shorter URL",
                )
            if not re.match(r"(?i)^https?://", text):
                yield problem(
                    s,
                    rel,
                    "PRF-WEB-LEN",
                    f"website {text!r} has no http:// or https:// (required according to "
                    "third-party copies of Meta's reference)",
                    f"write 'https://{text}'",
                    WARNING,
                )


@rule("PRF-VERT-TW")
def vertical(config: Config) -> Iterator[Problem]:
    for s in senders(config):
        profile = _profile(s)
        if "vertical" not in profile:
            continue
        value = profile["vertical"]
        if value in VERTICALS:
            continue
        text = value if isinstance(value, str) else str(value)
        close = META_TO_TWILIO.get(text.strip().upper()) or next(
            (v for v in VERTICALS if v.casefold() == text.strip().casefold()), None
        )
        yield problem(
            s,
            "profile.vertical",
            "PRF-VERT-TW",
            f"vertical {text!r} is not one of Twilio's profile verticals",
            f"write {close!r}" if close else "use one of: " + "; ".join(VERTICALS),
        )
