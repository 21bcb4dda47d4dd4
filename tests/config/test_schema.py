"""The JSON Schemas: packaged copies match schema/, every property is described, and the
fast pre-check agrees with jsonschema on valid and invalid documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tests.config.conftest import FIXTURES, REPO_ROOT, run_cli
from wa_sync.config import schema
from wa_sync.config.yamlfile import YamlDoc, YamlFileError, parse_yaml

KINDS = schema.KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_the_validator_reads_the_repository_schema(kind: str):
    """wa_sync/schema links to schema/ and is installed as package data (one home)."""
    assert schema.schema_text(kind) == (REPO_ROOT / "schema" / f"{kind}.schema.json").read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_draft_2020_12(kind: str):
    Draft202012Validator.check_schema(schema.schema(kind))


def _properties(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            yield from _properties(sub, f"{path}[{index}]")


def _objects(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield path, node
        for key, sub in node.items():
            yield from _objects(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            yield from _objects(sub, f"{path}[{index}]")


def _resolve(ref: str, kind: str) -> Any:
    """The subschema a `$ref` of `kind`'s schema points at."""
    file, _, pointer = ref.partition("#")
    node: Any = schema.schema(file.removesuffix(".schema.json") if file else kind)
    for part in filter(None, pointer.split("/")):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_has_a_description(kind: str):
    def described(sub: dict[str, Any]) -> bool:
        if "description" in sub:
            return True
        ref = sub.get("$ref", "")
        return "description" in (_resolve(ref, kind) if ref else {})

    missing = [path for path, sub in _properties(schema.schema(kind), kind) if not described(sub)]
    assert missing == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_object_refuses_unknown_keys(kind: str):
    open_objects = [
        path
        for path, node in _objects(schema.schema(kind), kind)
        if not path.endswith("/if")  # a condition, not a description of data
        and node.get("additionalProperties") is not False
        and not isinstance(node.get("additionalProperties"), dict)
    ]
    assert open_objects == []


def _documents() -> Iterator[tuple[str, str, Any]]:
    roots = [REPO_ROOT, FIXTURES / "bad" / "_base"]
    roots += sorted((FIXTURES / "bad").glob("*/repo"))
    for root in roots:
        for path in sorted(root.rglob("*.yaml")):
            if not path.is_file():
                continue
            kind = {"customers": "customer", "templates": "template"}.get(
                path.parent.name, "wa-sync"
            )
            try:
                doc = parse_yaml(path.read_text(encoding="utf-8"), path.name)
            except (YamlFileError, UnicodeDecodeError):
                continue
            yield f"{root.name}/{path.name}", kind, doc.data


DOCUMENTS = list(_documents())


@pytest.mark.parametrize(("name", "kind", "data"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_a_fixture_has_problems_exactly_when_it_is_invalid(name: str, kind: str, data: Any):
    problems = schema.validate(YamlDoc(name, data), kind)
    assert bool(problems) == (not schema.validator(kind).is_valid(data))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-2, 2) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


def _mutations(document: Any) -> st.SearchStrategy[Any]:
    """A valid document with one value somewhere replaced by generated JSON."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(document, ())

    def replace(path: tuple[Any, ...], value: Any) -> Any:
        copy = json.loads(json.dumps(document))
        if not path:
            return value
        node = copy
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        return copy

    return st.builds(replace, st.sampled_from(paths), JSON)


EXAMPLES = {
    "customer": parse_yaml(
        (REPO_ROOT / "customers" / "acme-dental.yaml").read_text(), "acme-dental.yaml"
    ).data,
    "template": parse_yaml(
        (REPO_ROOT / "templates" / "booking_confirmation.yaml").read_text(), "b.yaml"
    ).data,
    "wa-sync": parse_yaml((REPO_ROOT / "wa-sync.yaml").read_text(), "wa-sync.yaml").data,
}


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=150, deadline=None, derandomize=True)
@given(data=st.data())
def test_every_schema_error_of_a_mutated_document_is_told_in_plain_words(
    kind: str, data: st.DataObject
):
    document = data.draw(_mutations(EXAMPLES[kind]))
    problems = schema.validate(YamlDoc(f"{kind}.yaml", document), kind)
    assert bool(problems) == (not schema.validator(kind).is_valid(document))
    for problem in problems:
        assert problem.message
        assert problem.where.file == f"{kind}.yaml"
        assert "Validator" not in problem.message
        assert "Traceback" not in problem.message


def test_unknown_key_suggests_the_nearest_known_key():
    doc = parse_yaml(
        "name: x\nsenders:\n  - phone_number: '+14155550100'\n    dispaly_name: A\n", "c"
    )
    problems = schema.validate(doc, "customer")

    unknown = next(p for p in problems if p.key == "senders[0].dispaly_name")
    assert unknown.where.line == 4
    assert unknown.fix == "Did you mean 'display_name'?"


def test_language_key_of_a_localization_is_checked_where_it_is_written():
    doc = parse_yaml(
        "name: x\ncategory: UTILITY\nlocalizations:\n  en: {body: a}\n  en-GB: {body: b}\n", "t"
    )
    (problem,) = schema.validate(doc, "template")

    assert (problem.key, problem.where.line, problem.rule) == (
        "localizations.en-GB",
        5,
        "TPL-LANG-ENUM",
    )
    assert "Did you mean 'en_GB'?" in problem.fix


def test_schemas_are_found_through_the_package(tmp_path: Path):
    """The validator reads schemas from the installed package, never from --root."""
    assert json.loads(schema.schema_text("customer"))["title"].startswith("wa-sync customer")


@pytest.mark.parametrize(
    ("file", "text", "fix"),
    [
        ("wa-sync.yaml", "settings: 1\n", "write a mapping of keys to values here"),
        ("wa-sync.yaml", "isv: [Example Ltd]\n", "write a mapping of keys to values here"),
        (
            "customers/shop.yaml",
            "name: Shop\nsenders:\n  - phone_number: '+14155550100'\n    display_name: Shop\n"
            "    profile:\n      emails: hello@shop.example\n",
            'write it as a list: ["hello@shop.example"]',
        ),
        ("customers/shop.yaml", "name: Shop\ntemplates: 5\n", "write it as a list: [5]"),
    ],
    ids=["settings-a-number", "isv-a-list", "emails-not-a-list", "templates-a-number"],
)
def test_a_value_of_the_wrong_kind_gets_a_fix_that_says_what_to_write(file, text, fix, tmp_path):
    (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / file).write_text(text)
    result = run_cli("validate", "--root", str(tmp_path), "--format", "json")
    assert result.code == 1
    fixes = [e["fix"] for e in json.loads(result.out)["errors"]]
    assert any(f.startswith(fix) for f in fixes), fixes


def test_a_value_listed_twice_is_named_with_the_fix(tmp_path):
    (tmp_path / "customers").mkdir()
    (tmp_path / "customers" / "shop.yaml").write_text(
        "name: Shop\nsenders:\n  - phone_number: '+14155550100'\n    display_name: Shop\n"
        "    ignore: [profile.about, profile.vertical, profile.about]\n"
    )
    result = run_cli("validate", "--root", str(tmp_path), "--format", "json")
    (error,) = json.loads(result.out)["errors"]
    assert (error["key"], error["line"]) == ("senders[0].ignore", 5)
    assert error["message"] == "lists 'profile.about' twice"
    assert error["fix"] == "remove one of them"
