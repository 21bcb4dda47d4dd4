"""`apply --report FILE` leaves this run's report when apply stops before it opens
the report (SPEC §4.8: the summary and `--report` say what was done and what was not):
an invalid configuration, missing credentials, Twilio refusing the reads, the apply lock
held, a signal while it loads, waits for the lock or reads, a saved plan that is stale
or does not match. Before, no report was written, and the report of an earlier run at
that path stayed, to be read by CI as this run's.

The report is then a header and a summary of no change: `completed: false`,
`before_any_change: true`, `stopped_by` in the words of the error on standard error,
and the exit code.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import customer_doc, spawn, wait_for
from tests.e2e.test_lock import hold_lock, waiting_for_the_lock
from tests.e2e.test_signal_paths import SignalOn, traced
from wa_sync.errors import INTERNAL_ERROR


@pytest.fixture
def estate(repo):
    for n in (1, 2):
        repo.customer(f"clinic-{n}", customer_doc(n))
    return repo


@pytest.fixture
def report(tmp_path) -> Path:
    """The report path, holding an earlier run's report: a change made, completed."""
    path = tmp_path / "apply-report.jsonl"
    earlier = [
        {"type": "header", "format_version": 1, "started_at": "2026-11-25T14:02:11+00:00"},
        {"type": "change", "address": "customer.clinic-1", "action": "create", "result": "ok"},
        {"type": "summary", "completed": True, "changes": 1, "counts": {"ok": 1}},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in earlier), encoding="utf-8")
    return path


def stopped_early(path: Path, *, code: int) -> dict[str, Any]:
    """The report's summary, once checked to be this run's report of an apply that
    stopped before any change with exit code `code`."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["type"] for line in lines] == ["header", "summary"], lines
    header, summary = lines
    assert header["format_version"] == 1
    assert header["started_at"] != "2026-11-25T14:02:11+00:00"
    assert summary["completed"] is False
    assert summary["before_any_change"] is True
    assert summary["changes"] == 0
    assert summary["counts"] == {}
    assert summary["exit_code"] == code
    return summary


def test_an_invalid_configuration(estate, report, cli):
    estate.edit("customers/clinic-1.yaml", lambda doc: doc.update(colour="blue"))
    result = cli("apply", "--auto-approve", "--report", str(report))
    assert result.code == 1
    summary = stopped_early(report, code=1)
    assert result.err == summary["stopped_by"] + "\n"  # ConfigInvalid: the problems only
    assert "customers/clinic-1.yaml:" in summary["stopped_by"]


def test_missing_credentials(estate, report, cli, emulator):
    result = cli("apply", "--auto-approve", "--report", str(report),
                 environ={"WA_SYNC_TWILIO_URL": emulator.url})  # fmt: skip
    assert result.code == 1
    summary = stopped_early(report, code=1)
    assert result.err == f"Error: {summary['stopped_by']}\n"
    assert "--emulator" in summary["stopped_by"]


def test_twilio_refusing_the_reads_and_no_secret_in_the_report(estate, report, cli, env):
    wrong = "f" * 32
    result = cli("apply", "--auto-approve", "--report", str(report),
                 environ={**env, "TWILIO_AUTH_TOKEN": wrong})  # fmt: skip
    assert result.code == 1
    summary = stopped_early(report, code=1)
    assert "Twilio error 20003" in summary["stopped_by"]
    assert f"Error: {summary['stopped_by']}\n" in result.err
    assert wrong not in report.read_text(encoding="utf-8")


@pytest.mark.parametrize("wait", [[], ["--lock-timeout", "1s"]], ids=["refused", "timed-out"])
def test_the_apply_lock_held_by_another_run(estate, report, cli, emulator, wait):
    hold_lock(emulator)
    result = cli("apply", "--auto-approve", "--report", str(report), *wait)
    assert result.code == 1
    summary = stopped_early(report, code=1)
    assert summary["stopped_by"].startswith("another apply holds the lock on this estate")
    assert "alice@ci-runner-7" in summary["stopped_by"]
    assert f"Error: {summary['stopped_by']}\n" in result.err


def test_a_previous_run_s_report_is_replaced_by_this_run_s(estate, tmp_path, cli, emulator):
    """The same command run again on a reused runner, or by hand, while another apply
    holds the lock: the first run's report, with its changes, was left as it was."""
    report = tmp_path / "apply-report.jsonl"
    assert cli("apply", "--auto-approve", "--report", str(report)).code == 0
    assert '"result": "ok"' in report.read_text(encoding="utf-8")
    estate.customer("clinic-3", customer_doc(3))
    hold_lock(emulator)
    assert cli("apply", "--auto-approve", "--report", str(report)).code == 1
    assert "another apply holds the lock" in stopped_early(report, code=1)["stopped_by"]


@pytest.mark.parametrize(
    ("where", "signum"),
    [
        (("config/repo.py", "load_repo"), signal.SIGINT),
        (("commands/common.py", "read_and_plan"), signal.SIGINT),
        (("commands/common.py", "read_and_plan"), signal.SIGTERM),
    ],
    ids=["SIGINT-loading", "SIGINT-reading", "SIGTERM-reading"],
)
def test_a_signal_before_the_first_write(estate, report, cli, emulator, where, signum):
    result = traced(cli, SignalOn(*where, signum), "apply", "--auto-approve",
                    "--report", str(report))  # fmt: skip
    name = signal.Signals(signum).name
    assert result.code == 128 + signum, result.err
    assert f"Interrupted ({name}) before any change was made." in result.err
    assert stopped_early(report, code=128 + signum)["stopped_by"] == f"{name} received"


def test_a_signal_while_waiting_for_the_lock(estate, report, emulator, env):
    hold_lock(emulator)
    process = spawn(estate.root, env, "apply", "--auto-approve", "--lock-timeout", "10m",
                    "--report", str(report))  # fmt: skip
    waiting_for_the_lock(emulator)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert stopped_early(report, code=143)["stopped_by"] == "SIGTERM received"


def test_a_stale_saved_plan(estate, report, cli, tmp_path):
    plan = tmp_path / "plan.json"
    assert cli("plan", "--out", str(plan)).code == 0
    estate.edit("customers/clinic-1.yaml", lambda doc: doc.update(name="Clinic Renamed"))
    result = cli("apply", str(plan), "--report", str(report))
    assert result.code == 1
    summary = stopped_early(report, code=1)
    assert "stale" in summary["stopped_by"]
    assert f"Error: {summary['stopped_by']}\n" in result.err


def test_a_saved_plan_that_does_not_match_the_options(estate, report, cli, tmp_path):
    plan = tmp_path / "plan.json"
    assert cli("plan", "--out", str(plan)).code == 0
    result = cli("apply", str(plan), "--prune", "--report", str(report))
    assert result.code == 1
    summary = stopped_early(report, code=1)
    assert "--prune was given" in summary["stopped_by"]
    assert result.err == f"Error: {summary['stopped_by']}\n"


def test_confirmation_refused_without_a_terminal(estate, report, cli):
    result = cli("apply", "--report", str(report))
    assert result.code == 1
    assert "standard input is not a terminal" in stopped_early(report, code=1)["stopped_by"]


def test_an_internal_error(estate, report, cli, monkeypatch):
    """No real input leads there; the report says only what standard error says."""

    def broken(*args, **kwargs):
        raise RuntimeError("a detail that is not the user's")

    monkeypatch.setattr("wa_sync.commands.apply.load_and_connect", broken)
    result = cli("apply", "--auto-approve", "--report", str(report))
    assert result.code == 1
    assert f"Error: {INTERNAL_ERROR}" in result.err
    assert stopped_early(report, code=1)["stopped_by"] == INTERNAL_ERROR


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_an_unwritable_report_is_still_a_clear_error(estate, cli):
    estate.edit("customers/clinic-1.yaml", lambda doc: doc.update(colour="blue"))
    result = cli("apply", "--auto-approve", "--report", "/dev/full")
    assert result.code == 1
    assert result.err.startswith(
        "Error: --report /dev/full: cannot write it: No space left on device. "
        "Nothing was changed.\ncustomers/clinic-1.yaml:"
    )
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # written to, never renamed over


def test_a_report_in_a_missing_directory_is_still_a_clear_error(estate, cli, tmp_path):
    estate.edit("customers/clinic-1.yaml", lambda doc: doc.update(colour="blue"))
    result = cli("apply", "--auto-approve", "--report", str(tmp_path / "no" / "r.jsonl"))
    assert result.code == 1
    assert "cannot write it: No such file or directory. Nothing was changed." in result.err
    assert not (tmp_path / "no").exists()


def test_a_report_fifo_gets_the_report_and_stays_a_fifo(estate, cli, tmp_path):
    """A pipe (a CI step that reads the report as it comes) is written into, as the
    report of an apply that ran is, never replaced by a file its reader never sees."""
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    read: list[str] = []
    reader = threading.Thread(target=lambda: read.extend(fifo.open(encoding="utf-8")))
    reader.start()
    estate.edit("customers/clinic-1.yaml", lambda doc: doc.update(colour="blue"))
    result = cli("apply", "--auto-approve", "--report", str(fifo))
    try:
        reader.join(timeout=30)
    finally:
        if reader.is_alive():  # nothing was written: let the reader's open return
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(timeout=30)
    assert result.code == 1
    assert [json.loads(line)["type"] for line in read] == ["header", "summary"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_report_path_that_is_a_symbolic_link_is_written_through(estate, report, cli, tmp_path):
    link = tmp_path / "latest-report.jsonl"
    link.symlink_to(report)
    estate.edit("customers/clinic-1.yaml", lambda doc: doc.update(colour="blue"))
    assert cli("apply", "--auto-approve", "--report", str(link)).code == 1
    assert link.is_symlink()
    stopped_early(report, code=1)


def test_a_report_another_apply_is_writing_is_left_to_it(estate, tmp_path, cli, emulator, env):
    """Two applies given one --report path on one machine: the one the lock refuses
    replaced the path while the other wrote on into the file taken away, whose every
    line was then lost from view."""
    report = tmp_path / "apply-report.jsonl"
    emulator.set_faults(latency_ms=300, methods=["POST"])
    running = spawn(estate.root, env, "apply", "--auto-approve", "--parallelism", "1",
                    "--report", str(report))  # fmt: skip
    try:
        wait_for(
            lambda: '"type": "change"' in _text(report) or running.poll() is not None,
            "the running apply's first change on record",
        )
        assert running.poll() is None, running.communicate()
        refused = cli("apply", "--auto-approve", "--report", str(report))
        _out, err = running.communicate(timeout=120)
    finally:
        running.kill()
    assert refused.code == 1
    assert "another apply holds the lock" in refused.err
    assert f"--report {report} holds a report without its summary" in refused.err
    assert running.returncode == 0, err
    lines = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert lines[-1]["type"] == "summary"
    assert lines[-1]["completed"] is True
    assert lines[-1]["changes"] == len([line for line in lines if line["type"] == "change"]) > 0


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""
