"""The GitHub Action (action.yml): its metadata under actionlint, and its scripts run
as the runner runs them: action/run.sh with the real wa-sync on an estate that
`wa-sync init` wrote, against the emulator; action/shards.sh for the job matrix.

actionlint reads workflows, not action metadata, so the action's steps are linted as
the steps of a workflow whose `workflow_call` inputs are the action's inputs: the
expressions, the step ids the outputs name, and the inputs of the actions it uses
(setup-python, github-script) are all checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gitops.test_workflows import actionlint
from wa_sync.cli import main

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


def test_action_metadata_is_complete() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["name"]
    assert ACTION["description"]
    for name, spec in {**ACTION["inputs"], **ACTION["outputs"]}.items():
        assert spec["description"], name
    for step in ACTION["runs"]["steps"]:
        assert "uses" in step or step["shell"] == "bash", step
    assert set(ACTION["outputs"]) == {
        "exit_code",
        "has_changes",
        "plan_file",
        "output_dir",
        "matrix",
    }


def test_actionlint_finds_nothing_in_the_action(tmp_path: Path) -> None:
    inputs = {name: {"type": "string", "required": False} for name in ACTION["inputs"]}
    outputs = {name: spec["value"] for name, spec in ACTION["outputs"].items()}
    as_workflow = {
        "name": "action.yml as a workflow",
        "on": {"workflow_call": {"inputs": inputs}},
        "permissions": {"contents": "read"},
        "jobs": {
            "action": {
                "runs-on": "ubuntu-latest",
                "steps": [
                    *ACTION["runs"]["steps"],
                    {"name": "outputs", "run": "true", "env": outputs},
                ],
            }
        },
    }
    path = tmp_path / "action-as-workflow.yml"
    path.write_text(yaml.safe_dump(as_workflow, sort_keys=False), encoding="utf-8")
    findings = actionlint(path)
    assert not findings, "\n".join(f"{f['line']}: {f['message']} [{f['kind']}]" for f in findings)


def test_actionlint_would_see_a_mistake_in_the_action(tmp_path: Path) -> None:
    broken = {
        "on": {"workflow_call": {"inputs": {"command": {"type": "string"}}}},
        "jobs": {
            "action": {
                "runs-on": "ubuntu-latest",
                "steps": [{"run": "echo ${{ inputs.comand }}", "shell": "bash"}],
            }
        },
    }
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert {f["kind"] for f in actionlint(path)} >= {"expression"}


@pytest.mark.parametrize(
    ("command", "code", "fails"),
    [("plan", "0", False), ("plan", "2", False), ("plan", "1", True), ("apply", "2", True)],
)
def test_the_last_step_fails_the_job_on_an_error(command: str, code: str, fails: bool) -> None:
    """Exit 2 of a plan means changes, not a failure."""
    step = next(s for s in ACTION["runs"]["steps"] if s["name"] == "Fail on an error")
    proc = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        env={"CODE": code, "COMMAND": command, "PATH": os.defpath},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode == 1) == fails
    assert ("::error::" in proc.stdout) == fails


# --- action/run.sh with the real wa-sync ---------------------------------------------


@pytest.fixture(scope="module")
def wa_sync_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`wa-sync` as the action's install step leaves it on the PATH: this interpreter's."""
    bin_dir = tmp_path_factory.mktemp("bin")
    script = bin_dir / "wa-sync"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m wa_sync "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return script


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    root = tmp_path / "estate"
    assert main(["init", str(root)]) == 0
    return root


def run_action(
    estate: Path, wa_sync_bin: Path, command: str, **inputs: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
    """action/run.sh as the action's `Run wa-sync` step runs it; returns the process, its
    step outputs and the job summary."""
    runner = estate.parent / "runner"
    runner.mkdir(exist_ok=True)
    (runner / "output").write_text("")
    (runner / "summary").write_text("")
    env = {
        "PATH": f"{wa_sync_bin.parent}:/usr/bin:/bin",
        "HOME": str(runner),
        "PYTHONPATH": str(ROOT),
        "RUNNER_TEMP": str(runner),
        "GITHUB_OUTPUT": str(runner / "output"),
        "GITHUB_STEP_SUMMARY": str(runner / "summary"),
        "INPUT_COMMAND": command,
        "INPUT_ROOT": str(estate),
        "INPUT_EMULATOR": "true",
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
    }
    proc = subprocess.run(
        ["bash", str(ROOT / "action" / "run.sh")],
        cwd=estate,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = (runner / "output").read_text().splitlines()
    outputs = dict(line.split("=", 1) for line in lines)
    return proc, outputs, (runner / "summary").read_text()


def test_plan_with_changes_then_apply_then_no_changes(estate: Path, wa_sync_bin: Path) -> None:
    proc, out, summary = run_action(estate, wa_sync_bin, "plan")
    assert proc.returncode == 0, proc.stderr
    assert out["exit_code"] == "2"
    assert out["has_changes"] == "true"
    plan = json.loads(Path(out["plan_file"]).read_text(encoding="utf-8"))
    assert plan["format_version"] == 1
    result = Path(out["output_dir"])
    assert (result / "exitcode").read_text().strip() == "2"
    assert (result / "shard").read_text().strip() == "1/1"
    assert "Plan: 9 to create" in (result / "plan.md").read_text(encoding="utf-8")
    assert summary.startswith("## wa-sync plan\n")
    assert "Plan: 9 to create" in summary

    proc, out, summary = run_action(estate, wa_sync_bin, "apply", parallelism="2")
    assert (out["exit_code"], out["has_changes"]) == ("0", "true"), proc.stderr
    report = Path(out["output_dir"]) / "apply-report.jsonl"
    assert '"result": "ok"' in report.read_text(encoding="utf-8")
    assert "## wa-sync apply" in summary

    proc, out, summary = run_action(estate, wa_sync_bin, "plan", shard="1/1")
    assert (out["exit_code"], out["has_changes"]) == ("0", "false"), proc.stderr
    assert "## wa-sync plan (shard 1/1)" in summary


def test_validate_annotates_and_a_failure_is_recorded(estate: Path, wa_sync_bin: Path) -> None:
    proc, out, summary = run_action(estate, wa_sync_bin, "validate")
    assert (out["exit_code"], out["has_changes"]) == ("0", "false")
    customer = estate / "customers" / "example-clinic.yaml"
    customer.write_text(customer.read_text().replace('"+14155550123"', '"555-0123"'))
    proc, out, summary = run_action(estate, wa_sync_bin, "validate")
    assert proc.returncode == 0  # the action's last step fails the job, after the comment
    assert out["exit_code"] == "1"
    assert "::error file=" in proc.stdout
    assert ":x: exit 1" in summary

    proc, out, _ = run_action(estate, wa_sync_bin, "plan")
    assert out["exit_code"] == "1"
    assert "555-0123" in (Path(out["output_dir"]) / "plan.err").read_text(encoding="utf-8")


def test_inputs_become_flags(estate: Path, tmp_path: Path) -> None:
    fake = tmp_path / "fake" / "wa-sync"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\n', encoding="utf-8")
    fake.chmod(0o755)
    run_action(
        estate,
        fake,
        "apply",
        customer="acme bella",
        shard="2/3",
        changed_since="origin/main",
        prune="true",
        allow_mass_delete="true",
        plan_file="plan.json",
        args="-v",
    )
    args = (tmp_path / "args").read_text().split()
    assert args[:8] == [
        "--root",
        str(estate),
        "--no-color",
        "--customer",
        "acme",
        "--customer",
        "bella",
        "--emulator",
    ]
    assert args[8:11] == ["apply", "plan.json", "--auto-approve"]
    for flag in (
        "--shard 2/3",
        "--changed-since origin/main",
        "--prune",
        "--allow-mass-delete",
        "-v",
    ):
        assert flag in " ".join(args[11:])


def test_an_unknown_command_is_refused(estate: Path, wa_sync_bin: Path) -> None:
    proc, _, _ = run_action(estate, wa_sync_bin, "destroy")
    assert proc.returncode == 1
    assert "command must be validate, plan, apply, status" in proc.stdout


# --- action/shards.sh ------------------------------------------------------------------


def shards(tmp_path: Path, value: str) -> tuple[int, dict[str, Any] | None]:
    out = tmp_path / "github_output"
    out.write_text("")
    proc = subprocess.run(
        ["bash", str(ROOT / "action" / "shards.sh")],
        env={"SHARDS": value, "GITHUB_OUTPUT": str(out), "PATH": os.defpath},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = dict(line.split("=", 1) for line in out.read_text().splitlines())
    return proc.returncode, json.loads(lines["matrix"]) if "matrix" in lines else None


def test_shard_matrix(tmp_path: Path) -> None:
    assert shards(tmp_path, "") == (0, {"include": [{"index": 1, "shard": "1/1"}]})
    code, matrix = shards(tmp_path, "08")
    assert code == 0
    assert matrix is not None
    assert [i["shard"] for i in matrix["include"]] == [f"{k}/8" for k in range(1, 9)]
    for bad in ("0", "65", "two", "-1", "1 2"):
        assert shards(tmp_path, bad) == (1, None), bad
