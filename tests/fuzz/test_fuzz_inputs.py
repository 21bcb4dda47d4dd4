"""Input fuzzing (issue 8): generated YAML documents and mutations of valid files fed
to `validate` and `plan` never produce a traceback, and every failure names the file."""

from __future__ import annotations

import io
import resource
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.helpers import REMINDER, customer_doc
from wa_sync.cli import main
from wa_sync.runtime import Runtime

VALID_CUSTOMER = yaml.safe_dump(customer_doc(1), sort_keys=False, allow_unicode=True)
VALID_TEMPLATE = yaml.safe_dump(REMINDER, sort_keys=False, allow_unicode=True)
YAML_ALPHABET = st.sampled_from(
    [
        *"abcz019 :-_{}[]!&*|>'\"#%@`,?\n\t\\+.~",
        *["\u00e9", "{{1}}", "${{", "}}", "{%", "%}", "!!python/object:os.system", "&a", "*a"],
    ]
)


def yaml_text(max_size: int) -> st.SearchStrategy[str]:
    """Strings made of YAML-significant characters and multi-character tokens."""
    return st.lists(YAML_ALPHABET, max_size=max_size).map("".join)


FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def run_cli(root: Path, *args: str) -> tuple[int, str]:
    runtime = Runtime(environ={}, stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    code = main([*args, "--root", str(root)], runtime)
    return code, runtime.stdout.getvalue() + runtime.stderr.getvalue()


def make_repo(tmp: Path, customer: str, template: str = VALID_TEMPLATE) -> Path:
    root = tmp / "repo"
    (root / "customers").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    (root / "customers" / "fuzzed.yaml").write_text(customer, encoding="utf-8")
    (root / "templates" / "appointment_reminder.yaml").write_text(template, encoding="utf-8")
    return root


def assert_clean_failure(code: int, output: str, *, file: str) -> None:
    assert "Traceback" not in output
    assert "internal error" not in output
    assert code in (0, 1)
    if code == 1 and "TWILIO_ACCOUNT_SID" not in output:  # a config error, not missing creds
        assert file in output, output


def mutate(text: str, data: st.DataObject) -> str:
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, max(0, len(lines) - 1)))
        kind = data.draw(st.sampled_from(["drop", "dup", "indent", "insert", "value"]))
        if not lines:
            break
        if kind == "drop":
            lines.pop(index)
        elif kind == "dup":
            lines.insert(index, lines[index])
        elif kind == "indent":
            lines[index] = data.draw(st.sampled_from([" ", "\t", "   "])) + lines[index]
        elif kind == "insert":
            lines.insert(index, data.draw(yaml_text(30)))
        else:
            head = lines[index].split(":", 1)[0]
            junk = data.draw(
                st.one_of(
                    yaml_text(20),
                    st.integers().map(str),
                    st.just("[]"),
                    st.just("{}"),
                )
            )
            lines[index] = f"{head}: {junk}"
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=yaml_text(200))
def test_generated_documents_never_crash_validate(tmp_path_factory, text):
    root = make_repo(tmp_path_factory.mktemp("gen"), text)
    assert_clean_failure(*run_cli(root, "validate"), file="customers/fuzzed.yaml")


@FUZZ
@given(data=st.data())
def test_mutated_customer_files_never_crash_validate_or_plan(tmp_path_factory, data):
    root = make_repo(tmp_path_factory.mktemp("mut"), mutate(VALID_CUSTOMER, data))
    for command in ("validate", "plan"):
        assert_clean_failure(*run_cli(root, command), file="customers/fuzzed.yaml")


@FUZZ
@given(data=st.data())
def test_mutated_library_templates_never_crash_validate(tmp_path_factory, data):
    root = make_repo(tmp_path_factory.mktemp("tpl"), VALID_CUSTOMER, mutate(VALID_TEMPLATE, data))
    code, output = run_cli(root, "validate")
    assert "Traceback" not in output
    assert code in (0, 1)
    if code == 1:
        assert "templates/appointment_reminder.yaml" in output or "customers/fuzzed.yaml" in output


def test_fuzzing_stays_within_bounded_memory(tmp_path):
    """A large nested document is refused or validated without exhausting memory."""
    nested = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    root = make_repo(tmp_path, nested)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    code, output = run_cli(root, "validate")
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert code == 1
    assert "customers/fuzzed.yaml" in output
    assert "Traceback" not in output
    assert grown_mib < 200
