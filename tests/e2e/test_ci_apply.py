"""An apply as CI runs it (SPEC §3, docs/gitops.md): the audit trail names the commit
whose configuration was applied."""

from __future__ import annotations

import json

from tests.e2e.helpers import customer_doc, git


def test_the_report_names_the_commit_applied_not_the_one_that_started_the_run(
    repo, cli, env, tmp_path
):
    git(repo.root, "init", "-q")
    repo.customer("clinic-1", customer_doc(1))
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "first")
    pushed = git(repo.root, "rev-parse", "HEAD")
    repo.customer("clinic-2", customer_doc(2))
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", "second")
    applied = git(repo.root, "rev-parse", "HEAD")
    # a run started by the first push (or re-run) that checked out the branch's newest commit
    ci = {**env, "GITHUB_ACTIONS": "true", "GITHUB_SHA": pushed, "GITHUB_RUN_ID": "7"}
    report = tmp_path / "apply-report.jsonl"
    done = cli("apply", "--auto-approve", "--report", str(report), environ=ci)
    assert done.code == 0, done.err
    header = json.loads(report.read_text().splitlines()[0])
    assert header["git_commit"] == applied
    assert header["git_dirty"] is False


def test_an_apply_with_nothing_to_do_still_writes_its_report(repo, cli, tmp_path):
    repo.customer("clinic-1", customer_doc(1))
    report = tmp_path / "apply-report.jsonl"
    assert cli("apply", "--auto-approve", "--report", str(report)).code == 0
    assert '"result": "ok"' in report.read_text()
    # the same command again (a re-run, a second shard's job): nothing to do
    done = cli("apply", "--auto-approve", "--report", str(report))
    assert done.code == 0, done.err
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["header", "summary"]
    assert lines[1]["completed"] is True
    assert lines[1]["changes"] == 0
