"""A hunt for library-template expressions that end in "internal error" (issue 17,
item 10: `truncate(1)`, `truncate(5, leeway=-1)`, `is no_such_test`): generated
filters, tests and attribute accesses with generated arguments, each put in a library
template and run through `wa-sync validate`. Every outcome must be valid, or an error
naming the library file and its line; never a traceback."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.config.conftest import FIXTURES, run_cli
from wa_sync.config.sandbox import ENV, SAFE_FILTERS

TEMPLATE = "templates/appointment_reminder.yaml"
BODY_LINE = 7  # the line of localizations.en.body in the base repository's library file

# the parameter names of every filter and test, so that keyword arguments are real ones
_KEYWORDS = sorted(
    {"length", "killwords", "end", "leeway", "old", "new", "count", "chars", "precision"}
    | {"method", "default", "base", "boolean", "value", "case_sensitive", "nope"}
)
LITERALS = st.one_of(
    st.integers(-3, 12),
    st.integers(-3, 12),
    st.sampled_from([10**20, -(10**20), 0.5, -1.5, 1e308]),
    st.sampled_from(["''", "'x'", "'abc'", "'\\u202e'", "'common'", "'floor'", "'ceil'"]),
    st.sampled_from(["true", "false", "none", "[]", "[1, 'a']", "{}", "{'a': 1}"]),
).map(str)
OPERANDS = st.one_of(st.just("clinic_name"), LITERALS)
ARGUMENTS = st.tuples(
    st.lists(LITERALS, min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(_KEYWORDS), LITERALS, max_size=2),
).map(lambda a: ", ".join([*a[0], *(f"{k}={v}" for k, v in a[1].items())]))
FILTERS = st.one_of(
    st.sampled_from(sorted(SAFE_FILTERS)), st.sampled_from(["nofilter", "attr", "format", "center"])
)
TESTS = st.one_of(
    st.sampled_from(sorted(t for t in ENV.tests if t.isidentifier())),
    st.sampled_from(["no_such_test", "callable_"]),
)


def _call(name: str, arguments: str | None) -> str:
    return name if arguments is None else f"{name}({arguments})"


EXPRESSIONS = st.one_of(
    st.builds(
        lambda operand, chain: f"${{{{ {operand} | {' | '.join(chain)} }}}}",
        OPERANDS,
        st.lists(st.builds(_call, FILTERS, ARGUMENTS | st.none()), min_size=1, max_size=2),
    ),
    st.builds(
        lambda operand, test: f"${{{{ {operand} is {test} }}}}",
        OPERANDS,
        st.builds(_call, TESTS, ARGUMENTS | st.none()),
    ),
    st.builds(
        lambda operand, attribute: f"${{{{ {operand}.{attribute} }}}}",
        OPERANDS,
        st.sampled_from(["upper", "__class__", "length", "missing"]),
    ),
)


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="wa-sync-expressions-") as path:
        yield Path(path)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(expression=EXPRESSIONS)
@example(expression="${{ clinic_name | truncate(1) }}")  # the cases issue 17 found by hand
@example(expression="${{ clinic_name | truncate(5, leeway=-1) }}")
@example(expression="${{ clinic_name is no_such_test }}")
def test_any_expression_is_valid_or_an_error_at_its_line(workdir: Path, expression: str):
    root = workdir / "repo"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(FIXTURES / "bad" / "_base", root)
    library = root / TEMPLATE
    escaped = json.dumps(expression)[1:-1]  # inside the body's double quotes
    text = library.read_text(encoding="utf-8")
    library.write_text(text.replace("${{ clinic_name }} reminds", f"{escaped} reminds", 1))

    result = run_cli("validate", "--root", str(root), "--format", "json")

    assert "Traceback" not in result.output
    assert "internal error" not in result.output, expression
    assert result.code in (0, 1), result.output
    if result.code == 1:
        errors = json.loads(result.out)["errors"]
        assert errors, result.output
        assert all(e["file"] == TEMPLATE and e["line"] == BODY_LINE for e in errors), (
            expression,
            errors,
        )
