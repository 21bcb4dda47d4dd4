"""Placeholder and sample-value rules (whatsapp-rules.md §1 "Variables")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache, lru_cache

from wa_sync.config.lint import rule
from wa_sync.config.rules._common import (
    PLACEHOLDER,
    Features,
    action_type,
    beyond,
    features,
    problem,
)
from wa_sync.errors import Problem
from wa_sync.model import Config, Template

NAMED = re.compile(r"^[a-z_]+\Z")
TW_KEY = re.compile(r"^[A-Za-z0-9_]+\Z")
TW_KEY_MAX = 16
# VAR-AUTH-LEN (B): Meta "maximum 15", Twilio "fewer than 15"
OTP_MAX_STRICTEST, OTP_MAX_LENIENT = 14, 15
SINGLE_BRACES = re.compile(r"(?<!\{)\{\s*[A-Za-z0-9_]{1,20}\s*\}(?!\})")
ADJACENT = re.compile(r"\{\{[^{}]*\}\}\s*\{\{[^{}]*\}\}")
_ALNUM = re.compile(r"[^\W_]")  # a character for which str.isalnum() is true
URL_START = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/{}?#]+/")


@cache
def _is_positional(key: str) -> bool:
    return key.isascii() and key.isdigit()


@cache
def well_formed(key: str) -> bool:
    """Keys the key-format rules accept; the other rules only look at these."""
    return bool(key) and TW_KEY.match(key) is not None and len(key) <= TW_KEY_MAX


def is_auth(t: Template) -> bool:
    return t.category == "AUTHENTICATION" or "whatsapp/authentication" in t.types


# The placeholder rules below decide on a template's keys alone (where they are only
# locates a problem), and most templates share a few key lists ("1", "2"): each rule
# remembers for a key list whether it has anything to report, and passes the template
# over when not. Bounded: a long-lived process may lint many configs.
VERDICTS = 4096


def _braces_all_placed(text: str) -> bool:
    """Whether every brace of `text` belongs to a placeholder with a key (`{{1}}`): then
    VAR-BRACES has nothing to find, and the usual text is cheaply passed over."""
    opening = text.count("{")
    if not opening:
        return "}" not in text
    keys = PLACEHOLDER.findall(text)
    return opening == text.count("}") == 2 * len(keys) and all(keys)


@rule("VAR-BRACES")
def braces(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        for rel, text in f.texts:
            if _braces_all_placed(text):
                continue
            rest = PLACEHOLDER.sub(lambda m: "" if m.group(1) else "{{}}", text)
            single = SINGLE_BRACES.search(rest)
            if "{{" in rest or "}}" in rest or "{{{" in text or "}}}" in text or single:
                yield problem(
                    t,
                    rel,
                    "VAR-BRACES",
                    "malformed placeholder: braces missing or mismatched "
                    f"({(single.group(0) if single else 'unbalanced {{ }}')!r})",
                    "write every variable as {{1}} (two braces each side, a key between)",
                )


@lru_cache(maxsize=VERDICTS)
def _malformed(keys: tuple[str, ...], sample_keys: tuple[str, ...]) -> frozenset[str]:
    """The variable and sample keys out of Twilio's key format."""
    return frozenset(key for key in keys if key and not well_formed(key)).union(
        key for key in sample_keys if not well_formed(key)
    )


@rule("VAR-TW-KEY")
def twilio_key(config: Config) -> Iterator[Problem]:
    for f in features(config):
        malformed = _malformed(f.keys, f.sample_keys)
        if not malformed:
            continue
        t = f.template
        reported: set[str] = set()
        found = [(rel, key) for rel, key in f.usages if key]
        found += [(f"variables.{key}", key) for key in f.samples]
        for rel, key in found:
            if key not in malformed or key in reported:
                continue
            reported.add(key)
            if re.search(r"\s", key):
                why = "contains whitespace"
                fix = f"write {{{{{key.strip()}}}}}" if TW_KEY.match(key.strip()) else ""
            elif len(key) > TW_KEY_MAX:
                why = f"is {len(key)} characters, over Twilio's {TW_KEY_MAX}"
                fix = ""
            else:
                why = "may only use letters, digits and underscores"
                fix = ""
            yield problem(
                t,
                rel,
                "VAR-TW-KEY",
                f"variable key {key!r} {why}",
                fix
                or f"use a number such as {{{{1}}}} or a short key of up to {TW_KEY_MAX} "
                "letters, digits and underscores",
            )


@lru_cache(maxsize=VERDICTS)
def _zero_led(keys: tuple[str, ...]) -> frozenset[str]:
    """The positional keys with a leading zero (int(key) == 0 only when it is all
    zeros, which starts with one)."""
    return frozenset(key for key in keys if key.startswith("0") and _is_positional(key))


@rule("VAR-POS-FORMAT")
def positional_format(config: Config) -> Iterator[Problem]:
    for f in features(config):
        zero_led = _zero_led(f.keys)
        if not zero_led:
            continue
        t = f.template
        for rel, key in f.usages:
            if key in zero_led:
                yield problem(
                    t,
                    rel,
                    "VAR-POS-FORMAT",
                    f"positional variable {{{{{key}}}}} is not a number from 1 without "
                    "leading zeros",
                    f"number variables {{{{1}}}}, {{{{2}}}}, ... (here {{{{{int(key) or 1}}}}})",
                )


@lru_cache(maxsize=VERDICTS)
def _named_amiss(keys: tuple[str, ...]) -> tuple[frozenset[str], bool]:
    """The named keys out of WhatsApp's format, and whether named and positional keys
    are mixed."""
    used = [key for key in keys if well_formed(key)]
    named = [key for key in used if not _is_positional(key)]
    return frozenset(k for k in named if not NAMED.match(k)), bool(named) and named != used


@rule("VAR-NAMED-FORMAT")
def named_format(config: Config) -> Iterator[Problem]:
    for f in features(config):
        misnamed, mixed = _named_amiss(f.keys)
        if not (misnamed or mixed):
            continue
        t = f.template
        for rel, key in f.usages:
            if key in misnamed:
                suggestion = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()
                suggestion = re.sub(r"[^a-z_]", "", suggestion) or "name"
                yield problem(
                    t,
                    rel,
                    "VAR-NAMED-FORMAT",
                    f"named variable {{{{{key}}}}}: WhatsApp named parameters use only "
                    "lowercase letters and underscores",
                    f"rename it to {{{{{suggestion}}}}} (and its sample)",
                )
        if mixed:
            rel = next(rel for rel, key in f.usages if well_formed(key) and _is_positional(key))
            yield problem(
                t,
                rel,
                "VAR-NAMED-FORMAT",
                "the template mixes positional ({{1}}) and named variables; WhatsApp takes "
                "one parameter format per template",
                "use either numbers or names throughout",
            )


@lru_cache(maxsize=VERDICTS)
def _missing_numbers(keys: tuple[str, ...]) -> tuple[int, ...]:
    """The numbers below the highest positional key that no key has (a gap in 1..n)."""
    numbers = {int(k) for k in keys if _is_positional(k) and int(k) > 0}
    return tuple(sorted(set(range(1, max(numbers, default=0) + 1)) - numbers))


@rule("VAR-SEQ")
def sequence(config: Config) -> Iterator[Problem]:
    for f in features(config):
        missing = _missing_numbers(f.keys)
        if not missing:
            continue
        highest = max(int(k) for k in f.keys if _is_positional(k))
        shown = ", ".join(f"{{{{{n}}}}}" for n in missing)
        # point at the text that holds the highest number: the gap shows there
        rel = next(
            (r for r, k in f.usages if _is_positional(k) and int(k) == highest),
            "types",
        )
        yield problem(
            f.template,
            rel,
            "VAR-SEQ",
            f"variables are numbered up to {{{{{highest}}}}} but {shown} "
            "never appear; WhatsApp needs 1..n without gaps",
            "renumber the variables so they run 1, 2, 3, ... (any order in the text)",
        )


def _trailing_punctuation(text: str) -> str:
    end = len(text)
    while end and text[end - 1] != "}":
        char = text[end - 1]
        if not (char.isspace() or unicodedata.category(char).startswith("P")):
            break
        end -= 1
    return text[:end]


@rule("VAR-EDGE")
def edge(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        for type_name, rel, body in f.bodies:
            if "{{" not in body:
                continue  # no placeholder, at either edge
            first = body[:1]
            if (first == "{" or first.isspace()) and PLACEHOLDER.match(body.lstrip()):
                yield problem(
                    t,
                    rel,
                    "VAR-EDGE",
                    f"{type_name} body starts with a variable; WhatsApp rejects bodies that "
                    "start or end with one",
                    "begin the body with fixed text, e.g. 'Hello {{1}}, ...'",
                )
            if _ALNUM.search(body, body.rfind("}}") + 2):
                continue  # a letter or digit after the last "}}": it ends with fixed text
            end = _trailing_punctuation(body)
            found = list(PLACEHOLDER.finditer(end)) if end.endswith("}}") else []
            if found and found[-1].end() == len(end):
                yield problem(
                    t,
                    rel,
                    "VAR-EDGE",
                    f"{type_name} body ends with a variable (only punctuation after it "
                    "counts as the end)",
                    "end the body with fixed text, e.g. '... on {{2}}. See you soon!'",
                )


@rule("VAR-ADJ")
def adjacent(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        fields = [(rel, body) for _, rel, body in f.bodies]
        fields += [(rel, header) for _, rel, header, _ in f.headers]
        for rel, text in fields:
            match = ADJACENT.search(text)
            if match:
                yield problem(
                    t,
                    rel,
                    "VAR-ADJ",
                    f"variables {match.group(0)!r} are next to each other (only whitespace "
                    "between them)",
                    "put fixed words between the variables, e.g. '{{1}} and {{2}}'",
                )


def _unplaced(token: str) -> str:
    """A word without its placeholders."""
    return PLACEHOLDER.sub("", token) if "{" in token else token


def _fixed_words(body: str, enough: int) -> int:
    """The words of `body` with a letter or digit outside placeholders, counted up to
    `enough` (the rest cannot change the verdict)."""
    words = 0
    for token in body.split():
        # a token of letters and digits only is a word, without the regular expression
        if token.isalnum() or _ALNUM.search(_unplaced(token)):
            words += 1
            if words == enough:
                break
    return words


@rule("VAR-DENSITY")
def density(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        for type_name, rel, body in f.bodies:
            count = len(PLACEHOLDER.findall(body)) if "{{" in body else 0
            if not count:
                continue
            words = _fixed_words(body, 2 * count + 1)
            if words < 2 * count + 1:
                yield problem(
                    t,
                    rel,
                    "VAR-DENSITY",
                    f"{type_name} body has {count} variables and {words} fixed words; "
                    f"WhatsApp wants at least {2 * count + 1} (2 per variable, plus 1)",
                    "add fixed text or use fewer variables",
                )


def _url_fields(f: Features) -> Iterator[tuple[str, str]]:
    for type_name, rel, items in f.actions:
        for i, action in enumerate(items):
            url = action.get("url")
            if action_type(type_name, action) == "URL" and isinstance(url, str):
                yield f"{rel}[{i}].url", url
    for _type_name, rel, media in f.media:
        for i, item in enumerate(media):
            if isinstance(item, str):
                yield f"{rel}[{i}]", item


@rule("VAR-URL-SLASH")
def url_variables(config: Config) -> Iterator[Problem]:
    for f in features(config):
        # a URL field's key ends in ".url" or has ".media[": without a placeholder in
        # one, there is nothing to check
        if not any(rel.endswith(".url") or ".media[" in rel for rel, _ in f.usages):
            continue
        t = f.template
        for rel, url in _url_fields(f):
            for match in PLACEHOLDER.finditer(url):
                prefix = url[: match.start()]
                if not URL_START.match(prefix):
                    yield problem(
                        t,
                        rel,
                        "VAR-URL-SLASH",
                        f"URL {url!r} has a variable in the scheme or domain; the part up to "
                        "the domain must be static",
                        "write the full https://domain/ yourself and put the variable after it",
                    )
                    break
                if not prefix.endswith("/"):
                    yield problem(
                        t,
                        rel,
                        "VAR-URL-SLASH",
                        f"in URL {url!r} the variable {match.group(0)} does not follow a '/'",
                        "put the variable right after a slash, e.g. https://example.com/{{1}}",
                    )
                    break


@rule("VAR-AUTH-LEN")
def otp_length(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        if not is_auth(t):
            continue
        for key, value in f.samples.items():
            text = value if isinstance(value, str) else str(value)
            found = beyond(
                len(text),
                strictest=OTP_MAX_STRICTEST,
                lenient=OTP_MAX_LENIENT,
                what=f"one-time code sample {key!r}",
            )
            if found:
                severity, message = found
                yield problem(
                    t,
                    f"variables.{key}",
                    "VAR-AUTH-LEN",
                    f"{message}; Meta: at most 15, Twilio: fewer than 15",
                    f"use a code of at most {OTP_MAX_STRICTEST} characters",
                    severity,
                )
