"""The apply audit trail (wa_sync.report.ReportWriter)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import git
from wa_sync import __version__
from wa_sync.apply import Outcome, Result
from wa_sync.errors import UsageError
from wa_sync.plan.change import Action, Change, Phase
from wa_sync.report import REDACTED, ReportWriter

TOKEN = "0123456789abcdef0123456789abcdef"
API_SECRET = "s3cr3tS3CR3Ts3cr3tS3CR3Ts3cr3tAB"

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SHA": "3524f81aaaabbbbccccddddeeeeffff000011112",
    "GITHUB_RUN_ID": "987654321",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "example-isv/whatsapp-estate",
    "GITHUB_ACTOR": "octocat",
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_WORKFLOW": "wa-sync apply",
    "GITHUB_EVENT_NAME": "push",
}


def lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def outcome(result: Result = Result.OK, error: str = "", n: int = 1) -> Outcome:
    change = Change(
        customer="acme-dental",
        address=f"customer.acme-dental/template.order_update_{n}[en]",
        action=Action.CREATE,
        phase=Phase.CONTENT,
    )
    sid = "HX" + "0" * 32 if result is Result.OK else None
    return Outcome(change, result, error=error, sid=sid)


def test_header_from_github_actions(tmp_path: Path) -> None:
    path = tmp_path / "apply-report.jsonl"
    with ReportWriter(str(path), environ=GITHUB, repo_root=str(tmp_path)):
        pass
    header, summary = lines(path)
    assert header["type"] == "header"
    assert header["format_version"] == 1
    assert header["wa_sync_version"] == __version__
    assert header["git_commit"] == GITHUB["GITHUB_SHA"]
    assert header["started_at"].endswith("+00:00")
    assert header["ci"] == {
        "provider": "github-actions",
        "run_id": "987654321",
        "run_url": "https://github.com/example-isv/whatsapp-estate/actions/runs/987654321",
        "actor": "octocat",
        "ref": "refs/heads/main",
        "workflow": "wa-sync apply",
        "event": "push",
    }
    assert summary == {
        "type": "summary",
        "completed": True,
        "changes": 0,
        "counts": {},
        "redacted": 0,
        "finished_at": summary["finished_at"],
    }


def test_rerun_attempt_is_in_the_run_url(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with ReportWriter(str(path), environ={**GITHUB, "GITHUB_RUN_ATTEMPT": "3"}):
        pass
    assert lines(path)[0]["ci"]["run_url"].endswith("/actions/runs/987654321/attempts/3")


def test_header_outside_ci_reads_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()

    git(repo, "init", "-q")
    (repo / "wa-sync.yaml").write_text("settings: {}\n")
    git(repo, "add", "wa-sync.yaml")
    git(repo, "commit", "-q", "-m", "first")
    head = git(repo, "rev-parse", "HEAD")

    path = tmp_path / "r.jsonl"
    with ReportWriter(str(path), environ={}, repo_root=str(repo)):
        pass
    header = lines(path)[0]
    assert header["git_commit"] == head
    assert header["git_dirty"] is False
    assert header["ci"] is None

    (repo / "wa-sync.yaml").write_text("settings: {prune: true}\n")
    with ReportWriter(str(path), environ={}, repo_root=str(repo)):
        pass
    assert lines(path)[0]["git_dirty"] is True


def test_header_outside_a_git_repository(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with ReportWriter(str(path), environ={}, repo_root=str(tmp_path)):
        pass
    header = lines(path)[0]
    assert header["git_commit"] is None
    assert header["git_dirty"] is None


def test_one_line_per_change_with_counts(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    outcomes = [
        outcome(Result.OK, n=1),
        outcome(Result.FAILED, error="Twilio error 20429", n=2),
        outcome(Result.SKIPPED, error="skipped: customer.acme-dental/... failed first", n=3),
    ]
    with ReportWriter(str(path), environ={}) as report:
        for o in outcomes:
            report.write(o.as_record())
            # flushed at once: the line is on disk before the next change starts
            assert len(path.read_text().splitlines()) == 1 + outcomes.index(o) + 1
    header, *changes, summary = lines(path)
    assert header["type"] == "header"
    assert [c["type"] for c in changes] == ["change"] * 3
    assert [c["result"] for c in changes] == ["ok", "failed", "skipped"]
    assert changes[0] == {"type": "change", **outcomes[0].as_record()}
    assert changes[1]["error"] == "Twilio error 20429"
    assert summary["changes"] == 3
    assert summary["counts"] == {"failed": 1, "ok": 1, "skipped": 1}
    assert summary["completed"] is True


def test_write_is_thread_safe(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with ReportWriter(str(path), environ={}) as report:

        def worker(k: int) -> None:
            for i in range(200):
                report.write({"address": f"a{k}.{i}", "result": "ok", "error": "x" * 500})

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    records = lines(path)  # every line parses: no interleaving
    changes = [r for r in records if r["type"] == "change"]
    assert len(changes) == 1600
    assert len({c["address"] for c in changes}) == 1600
    assert records[-1]["counts"] == {"ok": 1600}


def test_no_secret_reaches_the_file(tmp_path: Path) -> None:
    environ = {**GITHUB, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_API_SECRET": API_SECRET}
    path = tmp_path / "r.jsonl"
    sub_token = "fedcba9876543210fedcba9876543210"
    with ReportWriter(str(path), environ=environ, secrets=[sub_token]) as report:
        report.write(outcome(Result.FAILED, error=f"auth failed for AC1:{TOKEN}").as_record())
        report.write(
            {
                "address": "x",
                "result": "failed",
                "error": f"key {API_SECRET} and subaccount token {sub_token}",
                "details": {TOKEN: [API_SECRET, {"nested": f"Basic {TOKEN}"}]},
            }
        )
    text = path.read_text(encoding="utf-8")
    for secret in (TOKEN, API_SECRET, sub_token):
        assert secret not in text
    records = lines(path)
    assert records[1]["error"] == f"auth failed for AC1:{REDACTED}"
    assert records[2]["details"] == {REDACTED: [REDACTED, {"nested": f"Basic {REDACTED}"}]}
    assert records[-1]["redacted"] == 6


def test_secret_needing_json_escapes_is_redacted(tmp_path: Path) -> None:
    odd = 'ab"cd\\ef\ngh\u00e9ij'
    path = tmp_path / "r.jsonl"
    with ReportWriter(str(path), environ={"TWILIO_API_SECRET": odd}) as report:
        report.write({"address": "x", "result": "failed", "error": f"<{odd}>"})
    text = path.read_text(encoding="utf-8")
    assert odd not in text
    assert json.dumps(odd)[1:-1] not in text  # nor its JSON-escaped form
    assert lines(path)[1]["error"] == f"<{REDACTED}>"


def test_short_or_empty_secret_variables_are_not_scrubbed(tmp_path: Path) -> None:
    # An unset secret in CI is the empty string: it must not redact every character.
    path = tmp_path / "r.jsonl"
    with ReportWriter(
        str(path), environ={"TWILIO_AUTH_TOKEN": "", "TWILIO_API_SECRET": "a"}
    ) as report:
        report.write({"address": "a", "result": "ok", "error": ""})
    assert lines(path)[1]["address"] == "a"


def test_summary_records_an_interrupted_apply(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"

    def interrupted_apply() -> None:
        with ReportWriter(str(path), environ={}) as report:
            report.write(outcome().as_record())
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_apply()
    summary = lines(path)[-1]
    assert summary["completed"] is False
    assert summary["interrupted_by"] == "KeyboardInterrupt"
    assert summary["changes"] == 1


def test_a_report_of_an_apply_stopped_before_any_change_is_written_whole(tmp_path: Path) -> None:
    environ = {**GITHUB, "TWILIO_AUTH_TOKEN": TOKEN}
    path = tmp_path / "r.jsonl"
    path.write_text("an earlier run's report, longer than this one's\n" * 100)
    writer = ReportWriter(str(path), environ=environ, repo_root=str(tmp_path))
    writer.stopped_before_any_change(f"a proxy quoted the token {TOKEN}", 1)
    header, summary = lines(path)
    assert header["ci"]["run_id"] == "987654321"
    assert summary == {
        "type": "summary",
        "completed": False,
        "changes": 0,
        "counts": {},
        "redacted": 1,
        "finished_at": summary["finished_at"],
        "stopped_by": f"a proxy quoted the token {REDACTED}",
        "before_any_change": True,
        "exit_code": 1,
    }
    assert writer.opened
    assert [p.name for p in tmp_path.iterdir()] == ["r.jsonl"]  # no temporary file left


def test_a_report_that_cannot_be_written_whole_is_a_usage_error(tmp_path: Path) -> None:
    writer = ReportWriter(str(tmp_path / "missing" / "r.jsonl"), environ={})
    with pytest.raises(UsageError, match=r"--report .*: cannot write it: No such file") as raised:
        writer.stopped_before_any_change("why", 1)
    assert isinstance(raised.value.__cause__, FileNotFoundError)


def test_unwritable_report_is_a_usage_error(tmp_path: Path) -> None:
    with (
        pytest.raises(UsageError, match="--report"),
        ReportWriter(str(tmp_path / "missing" / "r.jsonl"), environ={}),
    ):
        pass


def test_write_outside_the_block_is_a_bug(tmp_path: Path) -> None:
    writer = ReportWriter(str(tmp_path / "r.jsonl"), environ={})
    with pytest.raises(RuntimeError):
        writer.write({"result": "ok"})
