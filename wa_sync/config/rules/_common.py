"""What the rule modules share: locating a key, walking a template's text, counting."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, NamedTuple, TypeGuard
from urllib.parse import SplitResult, urlsplit

from wa_sync.errors import Location, Problem, Severity
from wa_sync.model import EMPTY, Config, Customer, Sender, Template

ERROR = Severity.ERROR
WARNING = Severity.WARNING

# A well-formed placeholder's braces and whatever is between them.
PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
E164 = re.compile(r"^\+[1-9][0-9]{1,14}\Z")  # a sender's number, a button's

# Content types whose text is a WhatsApp template body, and the key holding it.
BODY_KEYS: Mapping[str, str] = {
    "twilio/text": "body",
    "twilio/media": "body",
    "twilio/quick-reply": "body",
    "twilio/call-to-action": "body",
    "twilio/card": "title",  # on WhatsApp all of a card's text goes in `title`
    "whatsapp/card": "body",
}
# Content types that carry buttons in `actions`.
ACTION_TYPES = (
    "twilio/quick-reply",
    "twilio/call-to-action",
    "twilio/card",
    "whatsapp/card",
    "whatsapp/authentication",
)


class Features(NamedTuple):
    """What several rules derive from one template; worked out once per lint run."""

    template: Template
    # (content type, its object) for every type that is a mapping
    type_objects: tuple[tuple[str, Mapping[str, Any]], ...]
    # (content type, relative key, text) of every WhatsApp template body present
    bodies: tuple[tuple[str, str, str], ...]
    # (content type, relative key of its actions, the actions) for each type with buttons
    actions: tuple[tuple[str, str, list[Mapping[str, Any]]], ...]
    # (content type, actions key, [(button type, action)]) for each type with buttons
    # other than whatsapp/authentication (whose button the AUTH-* rules check)
    buttons: tuple[tuple[str, str, list[tuple[str, Mapping[str, Any]]]], ...]
    # (content type, relative key, header text, the type's object) of every header_text
    headers: tuple[tuple[str, str, str, Mapping[str, Any]], ...]
    # (content type, relative key, the items) of every media list
    media: tuple[tuple[str, str, list[object]], ...]
    # (relative key, text) of every string in the types, where placeholders can appear
    texts: tuple[tuple[str, str], ...]
    # (relative key of the text, placeholder key) for every placeholder in `texts`
    usages: tuple[tuple[str, str], ...]
    # the keys of `usages`, in order, and of `samples`: what the placeholder rules
    # decide on (the keys, not where they are), so that they can remember verdicts
    keys: tuple[str, ...]
    # the sample values, {} when `variables` is not a mapping
    samples: Mapping[str, object]
    sample_keys: tuple[str, ...]


def features_of(template: Template) -> Features:
    # one pass over the content types, in order, for all of them
    objects = type_objects(template)
    bodies: list[tuple[str, str, str]] = []
    actions: list[tuple[str, str, list[Mapping[str, Any]]]] = []
    buttons: list[tuple[str, str, list[tuple[str, Mapping[str, Any]]]]] = []
    headers: list[tuple[str, str, str, Mapping[str, Any]]] = []
    media: list[tuple[str, str, list[object]]] = []
    texts: list[tuple[str, str]] = []
    for type_name, obj in objects:
        where = f"types.{type_name}"
        body_key = BODY_KEYS.get(type_name)
        if body_key:
            body = obj.get(body_key)
            if isinstance(body, str):
                bodies.append((type_name, f"{where}.{body_key}", body))
        if type_name in ACTION_TYPES and isinstance(obj.get("actions"), list | tuple):
            items = [a if is_mapping(a) else {} for a in obj["actions"]]
            actions.append((type_name, f"{where}.actions", items))
            if type_name != "whatsapp/authentication":
                typed = [(action_type(type_name, a), a) for a in items]
                buttons.append((type_name, f"{where}.actions", typed))
        header = obj.get("header_text")
        if isinstance(header, str):
            headers.append((type_name, f"{where}.header_text", header, obj))
        listed = obj.get("media")
        if isinstance(listed, list | tuple):
            media.append((type_name, f"{where}.media", list(listed)))
        _collect_strings(obj, where, texts)
    usages = [
        (rel, key) for rel, text in texts if "{{" in text for key in PLACEHOLDER.findall(text)
    ]
    samples = template.variables if is_mapping(template.variables) else EMPTY
    return Features(
        template,
        objects,
        tuple(bodies),
        tuple(actions),
        tuple(buttons),
        tuple(headers),
        tuple(media),
        tuple(texts),
        tuple(usages),
        tuple([key for _, key in usages]),
        samples,
        tuple(samples),
    )


# While `remembering()` is on: id(config) -> (config, its templates' features), so that
# the 53 rules share one walk of every template's types (the inner loop of the lint:
# 20,000 templates at 1,000 customers). The config is kept with its answer, so that its
# id stays its own. A context variable: threads linting at once each have their own.
_RUN: ContextVar[dict[int, tuple[Config, tuple[Features, ...]]] | None] = ContextVar(
    "wa_sync_lint_features", default=None
)


def features(config: Config) -> tuple[Features, ...]:
    """The features of every template of every customer, in order."""
    run = _RUN.get()
    hit = run.get(id(config)) if run is not None else None
    if hit is not None and hit[0] is config:
        return hit[1]
    seen: dict[int, Features] = {}  # a library rendering may be shared by customers
    found = []
    for customer in config.customers:
        for template in customer.templates:
            known = seen.get(id(template))
            if known is None:
                known = seen[id(template)] = features_of(template)
            found.append(known)
    answer = tuple(found)
    if run is not None:
        run[id(config)] = (config, answer)
    return answer


@contextmanager
def remembering() -> Iterator[None]:
    """Work out each template's features once in this block (one lint run)."""
    token = _RUN.set({})
    try:
        yield
    finally:
        _RUN.reset(token)


def _line(lines: Mapping[str, int], rel: str, default: int | None) -> int | None:
    """The line of `rel`, or of its nearest ancestor key that has one."""
    key = rel
    while key:
        if key in lines:
            return lines[key]
        cut = max(key.rfind("."), key.rfind("["))
        key = key[:cut] if cut > 0 else ""
    return default


def location(entry: Template | Sender, rel: str) -> Location:
    return Location(entry.where.file, _line(entry.lines, rel, entry.where.line))


def key_path(entry: Template | Sender, rel: str) -> str:
    if not rel:
        return entry.path
    return f"{entry.path}.{rel}" if entry.path else rel


def problem(
    entry: Template | Sender,
    rel: str,
    rule_id: str,
    message: str,
    fix: str,
    severity: Severity = ERROR,
) -> Problem:
    """A Problem at key `rel` (relative to the entry, in the model's terms)."""
    found = Problem(
        where=location(entry, rel),
        key=key_path(entry, rel),
        message=message,
        fix=fix,
        rule=rule_id,
        severity=severity,
    )
    origins = _ORIGINS.get()
    if origins is not None and type(entry) is Template and entry.library:
        origins[id(found)] = (found, entry)
    return found


# While `attributing()` is on: id(problem) -> (problem, the library-rendered template it
# is about), so that the lint can tell which customers' renderings have it.
_ORIGINS: ContextVar[dict[int, tuple[Problem, Template]] | None] = ContextVar(
    "wa_sync_lint_origins", default=None
)


@contextmanager
def attributing() -> Iterator[dict[int, tuple[Problem, Template]]]:
    """Note the template of every problem found in a library-rendered template."""
    origins: dict[int, tuple[Problem, Template]] = {}
    token = _ORIGINS.set(origins)
    try:
        yield origins
    finally:
        _ORIGINS.reset(token)


def customer_problem(
    customer: Customer, rel: str, rule_id: str, message: str, fix: str, severity: Severity = ERROR
) -> Problem:
    return Problem(
        where=Location(customer.where.file, _line(customer.lines, rel, customer.where.line)),
        key=rel,
        message=message,
        fix=fix,
        rule=rule_id,
        severity=severity,
    )


def templates(config: Config) -> Iterator[Template]:
    """Every template of every customer, for the rules that need nothing derived."""
    for customer in config.customers:
        yield from customer.templates


def senders(config: Config) -> Iterator[Sender]:
    for customer in config.customers:
        yield from customer.senders


def type_objects(template: Template) -> tuple[tuple[str, Mapping[str, Any]], ...]:
    """(content type, its object) for every type that is a mapping."""
    if not is_mapping(template.types):
        return ()
    return tuple((str(name), value) for name, value in template.types.items() if is_mapping(value))


def action_type(type_name: str, action: Mapping[str, Any]) -> str:
    """An action's button type; quick-reply actions may leave it out."""
    kind = action.get("type")
    if isinstance(kind, str) and kind:
        return kind.upper()
    return "QUICK_REPLY" if type_name == "twilio/quick-reply" else ""


def _collect_strings(value: Any, rel: str, found: list[tuple[str, str]]) -> None:
    # A string child is taken in the loop, without a call: most values are strings.
    if isinstance(value, str):
        found.append((rel, value))
    elif is_mapping(value):
        for k, v in value.items():
            if type(v) is str:
                found.append((f"{rel}.{k}", v))
            else:
                _collect_strings(v, f"{rel}.{k}", found)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            if type(v) is str:
                found.append((f"{rel}[{i}]", v))
            else:
                _collect_strings(v, f"{rel}[{i}]", found)


def is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """isinstance(value, Mapping), quicker for the model's own mappings (`freeze`)."""
    kind = type(value)
    return kind is MappingProxyType or kind is dict or isinstance(value, Mapping)


def placeholders(text: str) -> list[str]:
    """The keys of the well-formed placeholders in `text`, in order, as written."""
    return PLACEHOLDER.findall(text)


def is_emoji(char: str) -> bool:
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2B00 <= code <= 0x2BFF
        or 0x2190 <= code <= 0x21FF
        or 0x2300 <= code <= 0x23FF
        or 0x1F1E6 <= code <= 0x1F1FF
        or (unicodedata.category(char) == "So" and code > 0x2000)
    )


# Every character count_emoji can count is at or above U+2000 (emoji, symbols, keycap
# and regional indicators): text without one has no emoji.
_MAYBE_EMOJI = re.compile("[\u2000-\U0010ffff]")


def count_emoji(text: str) -> int:
    """Emoji in `text`: a ZWJ sequence, a keycap or a flag counts once."""
    if text.isascii() or _MAYBE_EMOJI.search(text) is None:
        return 0
    count = 0
    previous = ""
    pending_flag = False
    for char in text:
        code = ord(char)
        if 0x1F1E6 <= code <= 0x1F1FF:  # regional indicators pair into one flag
            if pending_flag:
                pending_flag = False
            else:
                pending_flag = True
                count += 1
        elif is_emoji(char) and previous != "\u200d":
            pending_flag = False
            count += 1
        elif code == 0x20E3:  # keycap: "1" + U+20E3
            count += 1
        else:
            pending_flag = False
        if code not in (0xFE0F, 0xFE0E):
            previous = char
    return count


def beyond(
    value: int,
    *,
    strictest: int,
    lenient: int,
    what: str,
    unit: str = "characters",
) -> tuple[Severity, str] | None:
    """For a confidence-B upper limit: past the most lenient documented value is an
    error, past only the strictest a warning. Both values are named."""
    if value > lenient:
        return ERROR, (
            f"{what} is {value} {unit}, over the most lenient documented limit of {lenient} "
            f"(strictest documented: {strictest})"
        )
    if value > strictest:
        return WARNING, (
            f"{what} is {value} {unit}, within the most lenient documented limit of {lenient} "
            f"but over the strictest documented limit of {strictest}"
        )
    return None


def below(
    value: int,
    *,
    strictest: int,
    lenient: int,
    what: str,
    unit: str = "characters",
) -> tuple[Severity, str] | None:
    """The same as `beyond` for a confidence-B lower limit."""
    if value < lenient:
        return ERROR, (
            f"{what} is {value} {unit}, under the most lenient documented minimum of "
            f"{lenient} (strictest documented: {strictest})"
        )
    if value < strictest:
        return WARNING, (
            f"{what} is {value} {unit}, within the most lenient documented minimum of "
            f"{lenient} but under the strictest documented minimum of {strictest}"
        )
    return None


def split_url(value: object) -> SplitResult | None:
    """The parts of a URL, or None when `value` is not a string or not parseable."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value)
        _ = parts.hostname, parts.port  # both raise ValueError on a malformed netloc
    except ValueError:
        return None
    return parts


def web_url(value: object) -> SplitResult | None:
    """The parts of an http(s) URL, or None when `value` is none (split_url)."""
    parts = split_url(value)
    return parts if parts is not None and parts.scheme.lower() in ("http", "https") else None
