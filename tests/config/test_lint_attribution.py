"""A problem of a library template's rendering is located where it is fixed: at the
`with:` line of each customer whose values cause it (a long business name, a value
holding a placeholder, a number where the text needs text), naming the library's line it
shows in; a fault of the library itself, one that every rendering has, is reported once
at the library's line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench.estate import write_estate
from tests.config.conftest import run_cli

LIBRARY = "templates/bench_notice_0.yaml"


def estate(tmp_path: Path, customers: int) -> Path:
    root = tmp_path / "estate"
    write_estate(root, customers=customers, templates=1)
    return root


def give_business(root: Path, n: int, value: str) -> None:
    """Customer n's `with: {business: value}` (value as YAML: a quoted text, a number)."""
    path = root / "customers" / f"bench-{n:05d}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"business: .*", f"business: {value}", text, count=1), "utf-8")


def edit_library(root: Path, old: str, new: str) -> None:
    path = root / LIBRARY
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def errors(root: Path, *scope: str) -> list[dict]:
    result = run_cli("validate", "--root", str(root), "--format", "json", *scope)
    assert result.code == 1, result.output
    return json.loads(result.out)["errors"]


def with_line(root: Path, n: int) -> int:
    lines = (root / "customers" / f"bench-{n:05d}.yaml").read_text("utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip() == "with:")


def test_a_rule_broken_by_one_customers_values_is_reported_at_its_with_line(tmp_path):
    """It was reported at the library's line with the library's fix ("shorten it"), and
    only a note at the end named the customer."""
    root = estate(tmp_path, customers=4)
    give_business(root, 2, "'" + "Y" * 990 + "'")

    found = errors(root)

    assert len(found) == 2  # the en and es bodies of that one rendering
    for error in found:
        assert (error["file"], error["line"]) == ("customers/bench-00002.yaml", with_line(root, 2))
        assert error["key"] == "templates[0].with"
        assert error["rule"] == "TPL-BODY-LEN"
        assert error["message"].startswith("customer 'bench-00002', template 'bench_notice_0' [")
        assert f"with these `with:` values, the text at {LIBRARY}:" in error["message"]
        assert "over WhatsApp's limit of 1024" in error["message"]
        assert error["fix"].startswith("change these values (other customers' values render")
        assert (
            f"or {LIBRARY} so that it suits them too; for the rendered text: shorten"
            in (error["fix"])
        )


def test_a_value_holding_a_placeholder_is_reported_at_its_with_line(tmp_path):
    """`{{3}}` in a business name made the library's text lack a sample: the fix said to
    add one to the library's variables."""
    root = estate(tmp_path, customers=3)
    give_business(root, 1, "'Shop {{3}}'")

    found = errors(root)

    assert {(e["file"], e["rule"]) for e in found} == {("customers/bench-00001.yaml", "VAR-SAMPLE")}


def test_customers_sharing_a_rendering_each_have_it_at_their_own_with_line(tmp_path):
    root = estate(tmp_path, customers=6)
    for n in (1, 2, 3, 4, 5):
        give_business(root, n, "'" + "Z" * 990 + "'")  # one rendering, shared by five

    found = errors(root)

    assert sorted({e["file"] for e in found}) == [
        f"customers/bench-0000{n}.yaml" for n in range(1, 6)
    ]
    assert len(found) == 10  # en and es, for each of the five


def test_a_fault_of_the_library_itself_is_reported_once_as_it_is(tmp_path):
    root = estate(tmp_path, customers=5)
    edit_library(root, "title: Ver\n", "title: Ver los detalles del pedido completo\n")

    (error,) = errors(root)

    assert error["file"] == LIBRARY
    assert "title 'Ver los detalles del pedido completo'" in error["message"]
    assert "with:" not in error["message"]


def test_a_number_where_the_text_needs_text_is_reported_at_its_with_line(tmp_path):
    """`business: 42` and a text that truncates it: the library's line was blamed, with
    a fix about its filters, even with one customer."""
    root = estate(tmp_path, customers=1)
    edit_library(root, "${{ business }}", "${{ business | truncate(30) }}")
    give_business(root, 1, "42")

    (error,) = errors(root)

    assert error["file"] == "customers/bench-00001.yaml"
    assert (error["key"], error["line"]) == ("templates[0].with.business", with_line(root, 1) + 1)
    assert "gives business as a number or true/false, not text" in error["message"]
    assert f"the text at {LIBRARY}:" in error["message"]
    assert "object of type 'int' has no len()" in error["message"]
    assert error["fix"].startswith('write it as text, in quotes (business: "42")')


def test_values_that_the_library_cannot_render_where_others_render_are_the_customers(tmp_path):
    root = estate(tmp_path, customers=3)
    edit_library(root, "${{ business }}", "${{ business * 200 }}")  # under the sandbox's bound
    give_business(root, 3, "'" + "W" * 999 + "'")  # x200: past it

    found = errors(root)

    sandbox = [e for e in found if "refused by the template sandbox" in e["message"]]
    (error,) = sandbox
    assert (error["file"], error["key"]) == ("customers/bench-00003.yaml", "templates[0].with")
    assert error["fix"].startswith("change these values (other customers' values render)")


def test_a_text_that_no_values_render_is_the_librarys_and_reported_once(tmp_path):
    root = estate(tmp_path, customers=3)
    edit_library(root, "${{ business }}", "${{ business | truncate(1) }}")

    (error,) = errors(root)

    assert error["file"] == LIBRARY
    assert error["key"].startswith("localizations.")
    assert "a filter's argument is wrong" in error["message"]
    assert "(rendering it for customer 'bench-00001'" in error["message"]
    assert error["fix"].startswith("check the ${{ ... }} and {% ... %} of this text")


def test_a_rule_every_rendering_breaks_is_the_librarys_though_the_figures_differ(tmp_path):
    """A text too long for every customer's name, by as much as each name: every
    customer's values were blamed, since no two messages were the same."""
    root = estate(tmp_path, customers=3)
    edit_library(root, "${{ business }}", "${{ business * 70 }}")
    give_business(root, 2, "'Bench Business Two'")  # a body longer than the others'

    found = errors(root)

    (error,) = found  # the en body's (edit_library changes that one), once
    assert (error["file"], error["rule"]) == (LIBRARY, "TPL-BODY-LEN")


def test_a_scoped_load_judges_whose_fault_it_is_on_every_customers_rendering(tmp_path):
    """`--customer` (and `plan --changed-since`, which reads only the customer files a
    pull request changed) loaded only that customer: its rendering was the only one, so
    a problem its own `with:` values caused was the library's, at the library's line
    with the library's fix."""
    root = estate(tmp_path, customers=4)
    give_business(root, 2, "'" + "Y" * 990 + "'")

    scoped = errors(root, "--customer", "bench-00002")

    assert scoped == errors(root)
    assert {e["file"] for e in scoped} == {"customers/bench-00002.yaml"}
    assert errors(root, "--customer", "bench-00002", "--customer", "bench-00001") == scoped


def test_a_scoped_load_keeps_a_fault_of_the_library_itself_at_its_line(tmp_path):
    root = estate(tmp_path, customers=3)
    edit_library(root, "title: Ver\n", "title: Ver los detalles del pedido completo\n")

    (error,) = errors(root, "--customer", "bench-00002")

    assert error["file"] == LIBRARY
    assert "title 'Ver los detalles del pedido completo'" in error["message"]


def test_a_scoped_load_puts_values_others_render_with_at_their_with_line(tmp_path):
    root = estate(tmp_path, customers=3)
    edit_library(root, "${{ business }}", "${{ business * 200 }}")
    give_business(root, 3, "'" + "W" * 999 + "'")

    scoped = errors(root, "--customer", "bench-00003")

    assert scoped == errors(root)
    assert [(e["file"], e["key"]) for e in scoped if "sandbox" in e["message"]] == [
        ("customers/bench-00003.yaml", "templates[0].with")
    ]


def test_every_problem_of_the_library_at_one_place_is_reported(tmp_path):
    """Two variables without a sample in one text of the library: the same rule at the
    same place, reported once as the library's (#132), lost the second."""
    root = estate(tmp_path, customers=3)
    edit_library(root, "    variables:\n      '1': Maria\n      '2': A-1001\n", "")

    found = errors(root)

    assert sorted(e["message"][:14] for e in found) == ["variable {{1}}", "variable {{2}}"]
    assert {(e["file"], e["rule"]) for e in found} == {(LIBRARY, "VAR-SAMPLE")}


def test_a_customers_problem_beside_the_librarys_own_of_that_rule_is_the_customers(tmp_path):
    """The library's en text lacks the sample of {{1}} (every rendering's problem) and
    one customer's business name holds {{3}}: in en the same rule at the same place, so
    that customer's problem there was taken for the library's, and lost."""
    root = estate(tmp_path, customers=3)
    edit_library(root, "      '1': Maria\n", "")
    give_business(root, 2, "'Shop {{3}}'")

    found = errors(root)

    told = sorted((e["file"], e["rule"], "{{3}}" in e["message"]) for e in found)
    assert told == [
        ("customers/bench-00002.yaml", "VAR-SAMPLE", True),  # in en, beside {{1}}'s
        ("customers/bench-00002.yaml", "VAR-SAMPLE", True),  # in es
        (LIBRARY, "VAR-SAMPLE", False),  # en's {{1}}
    ]
