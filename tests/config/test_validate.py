"""`wa-sync validate` end to end, in-process: the example configuration, the three
output formats, --strict, --customer, and the bounds on hostile files."""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

import pytest

from tests.config.conftest import REPO_ROOT, run_cli

SECRET = "0123456789abcdef0123456789abcdef"


def test_the_example_configuration_validates():
    result = run_cli("validate", "--root", str(REPO_ROOT))

    assert result.code == 0, result.output
    assert result.out.startswith("Valid: 4 customers")


def test_the_example_has_a_schema_line_in_every_file():
    for path in [REPO_ROOT / "wa-sync.yaml", *REPO_ROOT.glob("customers/*.yaml")]:
        kind = "wa-sync" if path.name == "wa-sync.yaml" else "customer"
        prefix = "" if kind == "wa-sync" else "../"
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={prefix}schema/{kind}.schema.json"
    for path in REPO_ROOT.glob("templates/*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schema/template.schema.json"


def test_json_format_of_a_valid_repository():
    result = run_cli("validate", "--root", str(REPO_ROOT), "--format", "json")

    assert result.code == 0
    assert json.loads(result.out) == {"valid": True, "errors": [], "warnings": []}


def test_json_format_lists_each_problem_with_its_fields(base_repo: Path):
    (base_repo / "customers" / "base-clinic.yaml").write_text(
        "name: Base\nwaba_id: 104000000000001\nonboarding: {access_request: aproved}\n"
    )
    result = run_cli("validate", "--root", str(base_repo), "--format", "json")

    document = json.loads(result.out)
    assert result.code == 1
    assert document["valid"] is False
    assert document["errors"][0] == {
        "file": "customers/base-clinic.yaml",
        "line": 2,
        "key": "waba_id",
        "rule": "",
        "message": "must be text, not a number",
        "fix": 'put the value in quotes: "104000000000001"',
    }
    assert document["errors"][1]["key"] == "onboarding.access_request"
    assert document["errors"][1]["line"] == 3


def test_github_format_annotates_each_problem_relative_to_the_root(base_repo: Path):
    (base_repo / "customers" / "base-clinic.yaml").write_text("name: Base\nwaba_id: 5\nfoo: 1\n")
    result = run_cli("validate", "--root", str(base_repo), "--format", "github")

    lines = result.out.splitlines()
    assert result.code == 1
    assert lines[0] == (
        "::error file=customers/base-clinic.yaml,line=2::waba_id: must be text, not a number "
        'Fix: put the value in quotes: "5"'
    )
    assert lines[1].startswith("::error file=customers/base-clinic.yaml,line=3::foo: unknown key")
    assert str(base_repo) not in result.out


def test_warnings_print_but_fail_only_with_strict(base_repo: Path):
    template = base_repo / "templates" / "appointment_reminder.yaml"
    template.write_text(
        template.read_text().replace("params: [clinic_name]", "params: [clinic_name, unused]")
    )
    (base_repo / "customers" / "base-clinic.yaml").write_text(
        (base_repo / "customers" / "base-clinic.yaml")
        .read_text()
        .replace("{clinic_name: Base Clinic}", "{clinic_name: Base Clinic, unused: x}")
    )

    relaxed = run_cli("validate", "--root", str(base_repo))
    strict = run_cli("validate", "--root", str(base_repo), "--strict")
    github = run_cli("validate", "--root", str(base_repo), "--strict", "--format", "github")

    assert relaxed.code == 0, relaxed.output
    assert "warning: templates/appointment_reminder.yaml:4: params: the param 'unused'" in (
        relaxed.out
    )
    assert strict.code == 1
    assert "--strict fails on warnings" in strict.out
    assert github.code == 1
    assert "::warning file=templates/appointment_reminder.yaml,line=4::" in github.out


def test_customer_limits_the_files_loaded(base_repo: Path):
    (base_repo / "customers" / "broken.yaml").write_text("name: [\n")

    only = run_cli("validate", "--root", str(base_repo), "--customer", "base-clinic")
    everything = run_cli("validate", "--root", str(base_repo))

    assert only.code == 0, only.output
    assert everything.code == 1
    assert "customers/broken.yaml:" in everything.out


def test_unknown_customer_is_a_usage_error_with_a_hint(base_repo: Path):
    result = run_cli("validate", "--root", str(base_repo), "--customer", "base-clinc")

    assert result.code == 1
    assert "Did you mean 'base-clinic'?" in result.err


def test_missing_root_is_a_usage_error(tmp_path: Path):
    result = run_cli("validate", "--root", str(tmp_path / "nowhere"))

    assert result.code == 1
    assert "no such directory" in result.err
    assert "Traceback" not in result.output


@pytest.mark.parametrize("output", ["text", "json", "github"])
def test_a_credential_is_reported_but_never_shown(base_repo: Path, output: str):
    (base_repo / "customers" / "leaky.yaml").write_text(
        f"name: Leaky\naccount_sid: {SECRET}\nwaba_id: {SECRET}\nsenders: [{{x: {SECRET}}}]\n"
    )
    result = run_cli("validate", "--root", str(base_repo), "--format", output)

    assert result.code == 1
    assert "customers/leaky.yaml" in result.out
    assert "auth token" in result.out
    assert SECRET not in result.output


def test_a_symlink_out_of_the_repository_is_refused(base_repo: Path, tmp_path: Path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("name: Outside\n")
    os.symlink(outside, base_repo / "customers" / "linked.yaml")

    result = run_cli("validate", "--root", str(base_repo))

    assert result.code == 1
    assert "customers/linked.yaml: is a symbolic link to a file outside the repository" in (
        result.out
    )


def test_a_symlink_inside_the_repository_is_followed(base_repo: Path):
    os.symlink("base-clinic.yaml", base_repo / "customers" / "alias-clinic.yaml")

    result = run_cli("validate", "--root", str(base_repo), "--format", "json")

    errors = json.loads(result.out)["errors"]
    assert [e["file"] for e in errors] == ["customers/base-clinic.yaml"]  # the same phone
    assert "declared twice" in errors[0]["message"]


def test_a_very_large_file_is_refused_before_it_is_read(base_repo: Path):
    (base_repo / "customers" / "huge.yaml").write_text("name: x\n" + "# padding\n" * 200_000)

    result = run_cli("validate", "--root", str(base_repo))

    assert result.code == 1
    assert "customers/huge.yaml: is too large" in result.out
    assert "limit is 1 048 576" in result.out


def test_an_alias_bomb_costs_bounded_time_and_memory(base_repo: Path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    (base_repo / "customers" / "bomb.yaml").write_text("name: Bomb\n" + "\n".join(lines) + "\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()

    result = run_cli("validate", "--root", str(base_repo))

    assert time.monotonic() - started < 5
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 100  # MiB
    assert result.code == 1
    assert "customers/bomb.yaml:" in result.out
    assert "alias bomb" in result.out


def test_deep_nesting_is_refused_cleanly(base_repo: Path):
    (base_repo / "customers" / "deep.yaml").write_text("name: " + "[" * 5000 + "]" * 5000 + "\n")

    result = run_cli("validate", "--root", str(base_repo))

    assert result.code == 1
    assert "customers/deep.yaml:" in result.out
    assert "Traceback" not in result.output


def test_yaml_files_in_a_subfolder_of_customers_are_a_warning_not_silence(tmp_path):
    """customers/eu/shop.yaml is not read (the id is the file name in customers/): a
    customer filed there would silently drop out of every plan."""
    (tmp_path / "customers" / "eu").mkdir(parents=True)
    (tmp_path / "customers" / "eu" / "shop.yaml").write_text("name: Shop\n")
    (tmp_path / "customers" / "archive").mkdir()
    (tmp_path / "customers" / "archive" / "notes.txt").write_text("not YAML\n")
    result = run_cli("validate", "--root", str(tmp_path))
    assert result.code == 0, result.output
    assert "warning: customers/eu: holds 1 YAML file(s) that wa-sync does not read" in result.out
    assert "archive" not in result.out


@pytest.mark.parametrize(
    ("stem", "suggested"),
    [("q", "q-customer"), ("Acme_Dental", "acme-dental"), ("___", "my-customer")],
)
def test_an_invalid_customer_file_name_gets_a_valid_suggestion(tmp_path, stem, suggested):
    (tmp_path / "customers").mkdir()
    (tmp_path / "customers" / f"{stem}.yaml").write_text("name: Shop\n")
    result = run_cli("validate", "--root", str(tmp_path), "--format", "json")
    (error,) = json.loads(result.out)["errors"]
    assert error["fix"] == f"rename it, for example to customers/{suggested}.yaml"
