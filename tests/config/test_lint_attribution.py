"""A lint problem in a library template says whose rendering has it, when only some
customers' `with:` values cause it; a fault of the library itself is reported once."""

from __future__ import annotations

import re
from pathlib import Path

from bench.estate import write_estate
from tests.config.conftest import run_cli


def estate(tmp_path: Path, customers: int) -> Path:
    root = tmp_path / "estate"
    write_estate(root, customers=customers, templates=1)
    return root


def give_business(root: Path, n: int, name: str) -> None:
    path = root / "customers" / f"bench-{n:05d}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"business: .*", f"business: '{name}'", text, count=1), encoding="utf-8")


def errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error: ")]


def test_a_problem_caused_by_one_customers_params_names_that_customer(tmp_path):
    root = estate(tmp_path, customers=4)
    give_business(root, 2, "Y" * 990)

    result = run_cli("validate", "--root", str(root))

    assert result.code == 1
    found = errors(result.output)
    assert len(found) == 2  # the en and es bodies of that one rendering
    for line in found:
        assert line.startswith("error: templates/bench_notice_0.yaml:")
        assert "over WhatsApp's limit of 1024" in line
        assert line.endswith(
            "(as rendered with the `with:` values of customer bench-00002 "
            "(customers/bench-00002.yaml))"
        )


def test_customers_sharing_a_rendering_are_named_together(tmp_path):
    root = estate(tmp_path, customers=6)
    for n in (1, 2, 3, 4, 5):
        give_business(root, n, "Z" * 990)  # one rendering, shared by five customers

    result = run_cli("validate", "--root", str(root))

    found = errors(result.output)
    assert len(found) == 2
    assert all(
        line.endswith(
            "customers bench-00001 (customers/bench-00001.yaml), bench-00002 "
            "(customers/bench-00002.yaml), bench-00003 (customers/bench-00003.yaml) "
            "and 2 more)"
        )
        for line in found
    )


def test_a_fault_of_the_library_itself_is_reported_once_as_it_is(tmp_path):
    root = estate(tmp_path, customers=5)
    library = root / "templates" / "bench_notice_0.yaml"
    text = library.read_text(encoding="utf-8")
    library.write_text(
        text.replace("title: Ver\n", "title: Ver los detalles del pedido completo\n"),
        encoding="utf-8",
    )

    result = run_cli("validate", "--root", str(root))

    (line,) = errors(result.output)
    assert line.startswith("error: templates/bench_notice_0.yaml:")
    assert "title 'Ver los detalles del pedido completo'" in line
    assert "rendered with" not in line
