"""A fast yes/no check against the repository's JSON Schemas, for the common case.

`jsonschema` builds a validator object for every keyword it descends into, which made
schema validation half a millisecond a customer file. Nearly every file is valid, so
`config.schema.validate` first asks this module, which compiles a schema once into
plain Python closures: True means jsonschema would find no error; False means
"ask jsonschema", which then says what is wrong in full.

Only the keywords the schemas use are compiled, each as draft 2020-12 defines it;
a schema with any other keyword is not compiled at all (`compile_schema` returns
None), so a keyword added to a schema later can never be skipped here by mistake.
tests/config checks that this check and jsonschema agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

Check = Callable[[Any], bool]

# Keywords that assert nothing (annotations, and containers read through $ref).
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)
_COMPILED = frozenset(
    {
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "oneOf",
        "anyOf",
        "allOf",
        "not",
        "if",
        "then",
        "else",
        "$ref",
    }
)


class _Unsupported(Exception):
    """A keyword or reference this compiler does not handle: use jsonschema alone."""


def compile_schema(root: str, schemas: Mapping[str, Mapping[str, Any]]) -> Check | None:
    """The check for schema file `root` ("customer.schema.json"), which may refer to
    the others in `schemas` (file name -> schema); None when it cannot be compiled."""
    try:
        return _Compiler(schemas).ref(root, "")
    except _Unsupported:
        return None


class _Compiler:
    def __init__(self, schemas: Mapping[str, Mapping[str, Any]]):
        self.schemas = schemas
        self.refs: dict[tuple[str, str], list[Check]] = {}

    def ref(self, file: str, pointer: str) -> Check:
        """The check of `file#pointer`, compiled once (references may be recursive)."""
        key = (file, pointer)
        cell = self.refs.get(key)
        if cell is None:
            cell = self.refs[key] = []
            cell.append(self.compile(_resolve(self.schemas, file, pointer), file))
        if cell:
            return cell[0]
        return lambda value: cell[0](value)  # still being compiled: look it up later

    def compile(self, schema: Any, file: str) -> Check:
        if schema is True:
            return _yes
        if schema is False:
            return _no
        if not isinstance(schema, Mapping):
            raise _Unsupported("a schema must be an object or a boolean")
        unknown = set(schema) - _COMPILED - _ANNOTATIONS
        if any(not key.startswith("x-") for key in unknown):
            raise _Unsupported(f"keywords {sorted(unknown)}")
        checks = [
            check
            for keyword in schema
            if keyword in _COMPILED and keyword not in ("then", "else")
            for check in [self.keyword(keyword, schema, file)]
            if check is not None
        ]
        if not checks:
            return _yes
        if len(checks) == 1:
            return checks[0]
        return lambda value: all(check(value) for check in checks)

    def keyword(self, keyword: str, schema: Mapping[str, Any], file: str) -> Check | None:
        value = schema[keyword]
        sub = self.compile
        if keyword == "$ref":
            target, _, pointer = str(value).partition("#")
            return self.ref(target or file, pointer)
        if keyword == "type":
            return _type(value)
        if keyword == "enum":
            options = list(value)
            return lambda v: any(_equal(v, option) for option in options)
        if keyword == "const":
            return lambda v: _equal(v, value)
        if keyword == "properties":
            props = {name: sub(s, file) for name, s in value.items()}
            return lambda v: (
                not isinstance(v, dict)
                or all(check(v[name]) for name, check in props.items() if name in v)
            )
        if keyword == "required":
            names = list(value)
            return lambda v: not isinstance(v, dict) or all(name in v for name in names)
        if keyword == "additionalProperties":
            known = frozenset(schema.get("properties", {}))
            if "patternProperties" in schema:
                raise _Unsupported("patternProperties")
            if value is False:
                return lambda v: not isinstance(v, dict) or all(key in known for key in v)
            extra = sub(value, file)
            return lambda v: (
                not isinstance(v, dict)
                or all(extra(item) for key, item in v.items() if key not in known)
            )
        if keyword == "propertyNames":
            names = sub(value, file)
            return lambda v: not isinstance(v, dict) or all(names(key) for key in v)
        if keyword == "minProperties":
            return lambda v: not isinstance(v, dict) or len(v) >= value
        if keyword == "maxProperties":
            return lambda v: not isinstance(v, dict) or len(v) <= value
        if keyword == "items":
            if "prefixItems" in schema:
                raise _Unsupported("prefixItems")
            each = sub(value, file)
            return lambda v: not isinstance(v, list) or all(each(item) for item in v)
        if keyword == "minItems":
            return lambda v: not isinstance(v, list) or len(v) >= value
        if keyword == "maxItems":
            return lambda v: not isinstance(v, list) or len(v) <= value
        if keyword == "uniqueItems":
            return _unique if value else None
        if keyword == "pattern":
            regex = re.compile(value)
            return lambda v: not isinstance(v, str) or regex.search(v) is not None
        if keyword == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= value
        if keyword == "maxLength":
            return lambda v: not isinstance(v, str) or len(v) <= value
        if keyword == "minimum":
            return lambda v: not _is_number(v) or v >= value
        if keyword == "maximum":
            return lambda v: not _is_number(v) or v <= value
        if keyword == "oneOf":
            options = [sub(s, file) for s in value]
            return lambda v: sum(1 for option in options if option(v)) == 1
        if keyword == "anyOf":
            options = [sub(s, file) for s in value]
            return lambda v: any(option(v) for option in options)
        if keyword == "allOf":
            options = [sub(s, file) for s in value]
            return lambda v: all(option(v) for option in options)
        if keyword == "not":
            negated = sub(value, file)
            return lambda v: not negated(v)
        if keyword == "if":
            condition = sub(value, file)
            then = sub(schema.get("then", True), file)
            otherwise = sub(schema.get("else", True), file)
            return lambda v: then(v) if condition(v) else otherwise(v)
        raise _Unsupported(keyword)  # pragma: no cover - _COMPILED lists only the above


def _resolve(schemas: Mapping[str, Mapping[str, Any]], file: str, pointer: str) -> Any:
    if file not in schemas:
        raise _Unsupported(f"reference to {file!r}")
    node: Any = schemas[file]
    for part in [p for p in pointer.split("/") if p]:
        part = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise _Unsupported(f"unresolvable reference {file}#{pointer}")
    return node


def _yes(value: Any) -> bool:
    return True


def _no(value: Any) -> bool:
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
}


def _type(value: Any) -> Check:
    names = [value] if isinstance(value, str) else list(value)
    if any(name not in _TYPES for name in names):
        raise _Unsupported(f"type {value!r}")
    if len(names) == 1:
        return _TYPES[names[0]]
    checks = [_TYPES[name] for name in names]
    return lambda v: any(check(v) for check in checks)


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 1 equals 1.0, containers compare deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return a is None and b is None


def _unique(value: Any) -> bool:
    if not isinstance(value, list):
        return True
    return not any(_equal(value[i], value[j]) for i in range(len(value)) for j in range(i))
