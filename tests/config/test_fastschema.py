"""The compiled quick check says "valid" exactly when jsonschema finds no error.

config.schema.validate trusts a True from the quick check and skips jsonschema, so a
disagreement would let an invalid file through: the two are compared on the
repository's own files, on the bench's generated estate and on many mutations of them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.estate import customer, library_template
from wa_sync.config import schema
from wa_sync.config.fastschema import compile_schema

REPO = Path(__file__).resolve().parents[2]
KIND_OF = {"customers": "customer", "templates": "template"}


def repository_docs() -> list[tuple[str, Any]]:
    docs = [("wa-sync", yaml.safe_load((REPO / "wa-sync.yaml").read_text()))]
    for folder, kind in KIND_OF.items():
        for path in sorted((REPO / folder).glob("*.yaml")):
            docs.append((kind, yaml.safe_load(path.read_text())))
    docs.append(("customer", customer(7, 3)))
    docs.append(("template", library_template(2)))
    return docs


DOCS = repository_docs()


def agree(kind: str, data: Any) -> None:
    slow = not any(True for _ in schema.validator(kind).iter_errors(data))
    quick = schema.quick_check(kind)
    assert quick is not None
    assert quick(data) is slow, (kind, data)


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_schema_compiles(kind):
    assert schema.quick_check(kind) is not None


@pytest.mark.parametrize(("kind", "data"), DOCS)
def test_agrees_on_the_repository_files(kind, data):
    agree(kind, data)


def test_an_unknown_keyword_is_never_skipped():
    files = {"x.schema.json": {"type": "object", "dependentRequired": {"a": ["b"]}}}
    assert compile_schema("x.schema.json", files) is None


# --- mutations -----------------------------------------------------------------------------

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["", "x", "UTILITY", "en", "+14155550123", "AC" + "0" * 32, "123456"]),
    st.text(max_size=8),
    st.just([]),
    st.just({}),
    st.just([{"title": "Yes", "id": "yes"}]),
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _mutate(data: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    data = copy.deepcopy(data)
    if not path:
        return value if how == "set" else data
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "set":
        parent[last] = value
    elif how == "delete":
        del parent[last]
    elif how == "add" and isinstance(parent[last], dict):
        parent[last]["unexpected_key"] = value
    elif how == "add" and isinstance(parent[last], list):
        parent[last].append(value)
    return data


REPLACEMENTS: list[Any] = [
    None,
    True,
    0,
    2,
    -1,
    1.5,
    "",
    "x",
    "UTILITY",
    "+14155550123",
    "123456",
    [],
    {},
    ["x", "x"],
    [{"title": "Yes", "id": "yes"}],
]


@pytest.mark.parametrize("index", range(len(DOCS)))
def test_agrees_on_every_single_change(index):
    """Every key path of every document: replaced by each value, deleted, and (for
    mappings and lists) given an unexpected key or item."""
    kind, doc = DOCS[index]
    for path in _paths(doc):
        agree(kind, _mutate(doc, path, "delete", None))
        agree(kind, _mutate(doc, path, "add", "x"))
        for value in REPLACEMENTS:
            agree(kind, _mutate(doc, path, "set", value))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(DOCS))),
    st.data(),
    st.sampled_from(["set", "delete", "add"]),
    VALUES,
)
def test_agrees_on_mutations(index, data, how, value):
    kind, doc = DOCS[index]
    path = data.draw(st.sampled_from(_paths(doc)))
    agree(kind, _mutate(doc, path, how, value))
