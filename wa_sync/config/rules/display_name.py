"""Display-name rules for senders (whatsapp-rules.md §3)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from wa_sync.config.lint import rule
from wa_sync.config.rules._common import ERROR, WARNING, below, beyond, is_emoji, problem
from wa_sync.errors import Problem, Severity
from wa_sync.model import Config, Sender

# DN-LEN (B): English FAQ "not three or fewer" (>= 4), Meta API 2-75, Twilio 63124 1-255
MIN_STRICTEST, MIN_LENIENT = 4, 1
MAX_STRICTEST, MAX_LENIENT = 75, 255
FORBIDDEN = set("~!@#$%^&*()_+:;\"'{}[]<>,/?\\|")
SYMBOLS = set("®™©℠")
WHATSAPP = re.compile(r"(?i)wh?ats?\W*ap{1,2}")
META_WORDS = re.compile(r"(?i)\b(official|verified|facebook|messenger|instagram|meta)\b")
URLISH = re.compile(r"(?i)(https?://|\bwww\.|\.[a-z]{2,}(?=/|\s|$))")
CONJUNCTIONS = frozenset({"and", "or", "but", "nor", "yet"})
ACRONYM_MAX = 4  # DN-CAPS heuristic: an all-caps word longer than this is not an acronym
BRANDING = "formatting exceptions need the business to be branded this way externally"


def _senders(config: Config) -> Iterator[tuple[Sender, str]]:
    for customer in config.customers:
        for sender in customer.senders:
            name = sender.display_name if isinstance(sender.display_name, str) else ""
            yield sender, name


def _dn(
    sender: Sender, rule_id: str, message: str, fix: str, severity: Severity = ERROR
) -> Problem:
    return problem(sender, "display_name", rule_id, message, fix, severity)


@rule("DN-LEN")
def length(config: Config) -> Iterator[Problem]:
    for sender, name in _senders(config):
        found = below(
            len(name), strictest=MIN_STRICTEST, lenient=MIN_LENIENT, what="display name"
        ) or beyond(len(name), strictest=MAX_STRICTEST, lenient=MAX_LENIENT, what="display name")
        if found:
            severity, message = found
            yield _dn(
                sender,
                "DN-LEN",
                f"{message}; WhatsApp FAQ: more than 3, Meta API: 2 to 75, Twilio: 1 to 255",
                f"use {MIN_STRICTEST} to {MAX_STRICTEST} characters",
                severity,
            )


@rule("DN-CHARS")
def forbidden_characters(config: Config) -> Iterator[Problem]:
    for sender, name in _senders(config):
        bad = sorted({c for c in name if c in FORBIDDEN})
        if bad:
            yield _dn(
                sender,
                "DN-CHARS",
                f"display name {name!r} contains {' '.join(bad)}; WhatsApp does not allow "
                "~!@#$%^&*()_+:;\"'{}[]\\|<>,/? in display names",
                f"remove them ({BRANDING})",
            )


@rule("DN-NONALNUM-RUN")
def consecutive_symbols(config: Config) -> Iterator[Problem]:
    for sender, name in _senders(config):
        run = re.search(r"(?:[^\w\s]|_){2,}", name)
        if run:
            yield _dn(
                sender,
                "DN-NONALNUM-RUN",
                f"display name {name!r} has consecutive non-alphanumeric characters "
                f"{run.group(0)!r}",
                "keep at most one punctuation mark in a row",
            )


@rule("DN-SPACES")
def spacing(config: Config) -> Iterator[Problem]:
    for sender, name in _senders(config):
        if re.search(r"\s{2,}|[^\S ]", name) or name != name.strip():
            yield _dn(
                sender,
                "DN-SPACES",
                f"display name {name!r} has extra spaces; WhatsApp wants single spaces "
                "between words",
                f"write {' '.join(name.split())!r}",
            )


@rule("DN-CAPS")
def capitalisation(config: Config) -> Iterator[Problem]:
    for sender, name in _senders(config):
        words = re.findall(r"[^\W\d_]+", name)
        shouting = [w for w in words if len(w) > ACRONYM_MAX and w.isupper()]
        conjunctions = [w for w in words[1:] if w.lower() in CONJUNCTIONS and w[0].isupper()]
        if shouting:
            yield _dn(
                sender,
                "DN-CAPS",
                f"display name {name!r} writes {', '.join(shouting)} in capitals; only "
                "acronyms may be all caps (a heuristic: is it an acronym?)",
                f"capitalise only the first letter, e.g. {shouting[0].capitalize()!r} ({BRANDING})",
                WARNING,
            )
        if conjunctions:
            yield _dn(
                sender,
                "DN-CAPS",
                f"display name {name!r} capitalises the conjunction {', '.join(conjunctions)}",
                f"write {conjunctions[0].lower()!r}",
                WARNING,
            )


@rule("DN-EMOJI")
def emoji(config: Config) -> Iterator[Problem]:
    for sender, name in _senders(config):
        bad = sorted(
            {c for c in name if c in SYMBOLS or is_emoji(c) or unicodedata.category(c) == "So"}
        )
        if bad:
            yield _dn(
                sender,
                "DN-EMOJI",
                f"display name {name!r} contains emoji or symbols ({' '.join(bad)})",
                "remove them",
            )


@rule("DN-WHATSAPP")
def whatsapp(config: Config) -> Iterator[Problem]:
    for sender, name in _senders(config):
        match = WHATSAPP.search(name)
        if match:
            yield _dn(
                sender,
                "DN-WHATSAPP",
                f"display name {name!r} contains {match.group(0)!r}; no variation of "
                '"WhatsApp" is allowed',
                "remove it",
            )


@rule("DN-META")
def meta_words(config: Config) -> Iterator[Problem]:
    for sender, name in _senders(config):
        match = META_WORDS.search(name)
        if match and not WHATSAPP.search(name):
            yield _dn(
                sender,
                "DN-META",
                f"display name {name!r} contains {match.group(0)!r}; names must not look "
                "verified or name a Meta product (third-party copies of Meta's guideline)",
                "remove the word",
                WARNING,
            )


@rule("DN-URL")
def url(config: Config) -> Iterator[Problem]:
    for sender, name in _senders(config):
        if URLISH.search(name):
            yield _dn(
                sender,
                "DN-URL",
                f"display name {name!r} looks like a URL (third-party copies of Meta's "
                "guideline forbid URL formatting)",
                "use the business name without the domain",
                WARNING,
            )


STOP = frozenset({"the", "and", "for", "inc", "ltd", "llc", "gmbh", "by", "of", "co"})


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[^\W_]+", text.casefold()) if len(w) >= 3} - STOP


@rule("DN-BRAND")
def brand(config: Config) -> Iterator[Problem]:
    for customer in config.customers:
        business = _words(customer.name or "")
        if not business:
            continue
        for sender in customer.senders:
            name = sender.display_name if isinstance(sender.display_name, str) else ""
            if name and not _words(name) & business:
                yield _dn(
                    sender,
                    "DN-BRAND",
                    f"display name {name!r} shares no word with the business name "
                    f"{customer.name!r}; Meta wants a clear relation to the business",
                    f"use the business name, or 'Product by {customer.name}'",
                    WARNING,
                )
