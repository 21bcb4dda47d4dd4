"""JSON Schema validation (draft 2020-12), with every error rewritten in plain words.

The schemas are the repository's `schema/` files, which editors use through
yaml-language-server; `wa_sync.schemas` reads them as installed with the package.
Each error becomes a
Problem with the file, the line of the offending key, its key path, what is wrong and
how to fix it: an unknown key gets "Did you mean ...?", a number where a string is
expected gets "put it in quotes". Values that look like credentials are never shown.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, relevance
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from wa_sync.config.yamlfile import YamlDoc, join
from wa_sync.errors import Problem
from wa_sync.schemas import schema_file_text

KINDS = ("wa-sync", "customer", "template")
SECRET_SHAPE = re.compile(r"(?<![A-Za-z0-9])(?:[0-9a-fA-F]{32}|[A-Za-z0-9]{32})(?![A-Za-z0-9])")


def schema_text(kind: str) -> str:
    """The JSON text of `schema/<kind>.schema.json`, as packaged."""
    return schema_file_text(kind)


@cache
def schema(kind: str) -> Mapping[str, Any]:
    loaded: Mapping[str, Any] = json.loads(schema_text(kind))
    return loaded


@cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """A schema `pattern` read as JSON Schema (ECMA-262) reads it: `$` ends the string.
    Python's `$` also matches before a final newline, which would let "+14155550001\\n"
    or "recall_offer\\n" through every anchored pattern."""
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _pattern_keyword(
    validator: Any, pattern: str, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def validator(kind: str) -> Draft202012Validator:
    """The validator of one file kind; the customer schema refers to the template one."""
    extended = validators.extend(Draft202012Validator, {"pattern": _pattern_keyword})
    registry: Registry = Registry().with_resources(
        (f"{name}.schema.json", Resource.from_contents(schema(name), DRAFT202012)) for name in KINDS
    )
    made: Draft202012Validator = extended(schema(kind), registry=registry)
    return made


def validate(doc: YamlDoc, kind: str) -> list[Problem]:
    """Every schema problem in `doc`, most relevant first, one per key path and kind."""
    errors = sorted(validator(kind).iter_errors(doc.data), key=relevance, reverse=True)
    problems: dict[tuple[str, str], Problem] = {}
    for error in errors:
        for problem in _translate(error, doc):
            problems.setdefault((problem.key, problem.message), problem)
    return sorted(problems.values(), key=Problem.sort_key)


# --- one error in plain words -----------------------------------------------------------


def _path(error: ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path = join(path, part)
    return path


def _translate(error: ValidationError, doc: YamlDoc) -> Iterator[Problem]:
    path = _path(error)
    rule = str(error.schema.get("x-rule", "")) if isinstance(error.schema, Mapping) else ""
    if error.validator == "additionalProperties":
        yield from _unknown_keys(error, doc, path)
        return
    if error.validator in ("oneOf", "anyOf"):
        if isinstance(error.instance, Mapping):  # otherwise a type error says it all
            yield _choice(error, doc, path)
        return
    if "propertyNames" in error.schema_path and isinstance(error.instance, str):
        path = join(path, error.instance)  # a bad key: point at the key itself
    if error.validator == "type":
        message, fix = _type(error, doc.written.get(path))
    else:
        message, fix = _HANDLERS.get(str(error.validator), _generic)(error)
    yield doc.problem(path, message, fix, rule=rule)


def _unknown_keys(error: ValidationError, doc: YamlDoc, path: str) -> Iterator[Problem]:
    known = sorted(error.schema.get("properties", {}))
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    for key in instance:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        if close:
            fix = f"Did you mean {close[0]!r}?"
        elif known:
            fix = f"remove it; the keys allowed here are {', '.join(known)}"
        else:
            fix = "remove it"
        yield doc.problem(join(path, key), f"unknown key {_show(key)}", fix)


def _choice(error: ValidationError, doc: YamlDoc, path: str) -> Problem:
    message = error.schema.get("x-message") if isinstance(error.schema, Mapping) else None
    if message and isinstance(error.instance, Mapping):
        present = [k for k in ("body", "types") if k in error.instance]
        what = "has both `body:` and `types:`" if len(present) == 2 else "has no content"
        return doc.problem(path, what, message)
    deepest = max(error.context, key=relevance, default=None)
    if deepest is not None:
        return next(_translate(deepest, doc))
    return doc.problem(path, _generic(error)[0], "")


# --- messages per keyword -------------------------------------------------------------------

_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of keys to values",
    "null": "empty",
}


def _kind_of(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _type(error: ValidationError, written: str | None) -> tuple[str, str]:
    """`written`: the value's source text, when YAML read it as other than text."""
    expected = error.validator_value
    names = [expected] if isinstance(expected, str) else list(expected)
    wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
    got = _kind_of(error.instance)
    message = f"must be {wanted}, not {got}"
    scalar = isinstance(error.instance, str | int | float | bool)
    described = _describe(error)
    fix = f"write {wanted} here" + (f". {described}" if described else "")
    if "string" in names and isinstance(error.instance, int | float | bool):
        fix = f"put the value in quotes: {_quoted(written or _plain(error.instance))}"
    elif error.instance is None:
        fix = "give it a value, or remove the key"
    elif "boolean" in names and isinstance(error.instance, str):
        fix = "write true or false, without quotes"
    elif "array" in names and scalar:
        item = _quoted(error.instance) if isinstance(error.instance, str) else written
        fix = f"write it as a list: [{item or _plain(error.instance)}]" + (
            f". {described}" if described else ""
        )
    return message, fix


def _enum(error: ValidationError) -> tuple[str, str]:
    allowed = [str(v) for v in error.validator_value]
    value = error.instance
    message = f"{_show(value)} is not one of the allowed values"
    close: list[str] = []
    if isinstance(value, str):
        folded = {a.lower().replace("-", "_"): a for a in allowed}
        exact = folded.get(value.lower().replace("-", "_"))
        close = [exact] if exact else difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    hint = f"Did you mean {close[0]!r}? " if close else ""
    listing = ", ".join(allowed) if len(allowed) <= 25 else f"{len(allowed)} codes, such as en"
    return message, f"{hint}Allowed: {listing}"


def _pattern(error: ValidationError) -> tuple[str, str]:
    if isinstance(error.schema, Mapping) and error.schema.get("format") == "email":
        return f"{_show(error.instance)} is not an email address", _describe(error)
    if isinstance(error.schema, Mapping) and error.schema.get("format") == "uri":
        return f"{_show(error.instance)} is not an http:// or https:// URL", _describe(error)
    spelled = _sid_as_twilio_writes_it(error)
    if spelled is not None:
        return (
            f"{_show(error.instance)} is not written as Twilio writes SIDs: AC, then 32 "
            "hexadecimal digits in lower case",
            f"write it as {spelled} (the same SID, as Twilio shows it)",
        )
    return f"{_show(error.instance)} is not valid here", _describe(error)


def _sid_as_twilio_writes_it(error: ValidationError) -> str | None:
    """A SID copied in another case ("ac…", upper-case hex digits) as Twilio writes it,
    when the pattern is a SID's (`^AC…`) and that spelling matches it; else None."""
    value, pattern = error.instance, str(error.validator_value)
    if not isinstance(value, str) or not pattern.startswith("^AC"):
        return None
    spelled = value[:2].upper() + value[2:].lower()
    return spelled if ecma_regex(pattern).search(spelled) else None


def _required(error: ValidationError) -> tuple[str, str]:
    present = error.instance if isinstance(error.instance, Mapping) else {}
    missing = [k for k in error.validator_value if k not in present]
    key = missing[0] if missing else "?"
    described = error.schema.get("properties", {}).get(key, {}).get("description", "")
    return f"the key {key!r} is missing", f"add `{key}:`" + (f" ({described})" if described else "")


def _size(error: ValidationError) -> tuple[str, str]:
    limit = error.validator_value
    words = {
        "minLength": f"is too short (at least {limit} characters)",
        "maxLength": f"is too long (at most {limit} characters)",
        "minItems": f"needs at least {limit} item(s)",
        "maxItems": f"has too many items (at most {limit})",
        "minimum": f"must be at least {limit}",
        "maximum": f"must be at most {limit}",
        "minProperties": f"needs at least {limit} entr{'y' if limit == 1 else 'ies'}",
        "uniqueItems": "lists the same value twice",
    }
    fix = _describe(error)
    if error.validator in ("minimum", "maximum"):  # the range first: what to write
        fix = f"{_range(error.schema)} {fix}".strip()
    return words[str(error.validator)], fix


def _range(schema: Any) -> str:
    """What a number with bounds may be, as a fix: "write a number from 1 to 64."."""
    bounds = schema if isinstance(schema, Mapping) else {}
    low, high = bounds.get("minimum"), bounds.get("maximum")
    number = "a whole number" if bounds.get("type") == "integer" else "a number"
    if low is not None and high is not None:
        return f"write {number} from {_plain(low)} to {_plain(high)}."
    if low is not None:
        return f"write {number} of at least {_plain(low)}."
    return f"write {number} of at most {_plain(high)}."


def _unique(error: ValidationError) -> tuple[str, str]:
    items = error.instance if isinstance(error.instance, list) else []
    seen: list[Any] = []
    for item in items:
        if item in seen:
            return f"lists {_show(item)} twice", "remove one of them"
        seen.append(item)
    return _size(error)


def _generic(error: ValidationError) -> tuple[str, str]:
    return f"{_show(error.instance)} is not valid here ({error.validator})", _describe(error)


_HANDLERS = {
    "enum": _enum,
    "const": _enum,
    "pattern": _pattern,
    "required": _required,
    "uniqueItems": _unique,
    **dict.fromkeys(
        (
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "minimum",
            "maximum",
            "minProperties",
        ),
        _size,
    ),
}


def _describe(error: ValidationError) -> str:
    description = error.schema.get("description", "") if isinstance(error.schema, Mapping) else ""
    examples = error.schema.get("examples") if isinstance(error.schema, Mapping) else None
    example = f" For example: {json.dumps(examples[0], ensure_ascii=False)}" if examples else ""
    return f"{description}{example}".strip()


def _quoted(text: str) -> str:
    """`text` as a YAML double-quoted string (JSON's quoting is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _show(value: Any) -> str:
    """A value as it may appear in a message: short, and never a credential."""
    if isinstance(value, str):
        if SECRET_SHAPE.search(value):
            return "(a value shaped like a credential, not shown)"
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return _plain(value)
