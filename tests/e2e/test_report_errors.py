"""Output that cannot be written (issue 17.10): a report that cannot be written at all is
an error before any write; a report or standard output that goes away mid-apply stops
new changes from starting, says so on standard error, and exits 1. The next apply
completes the rest with no duplicate.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from tests.e2e.helpers import customer_doc, estate_writes, spawn
from tests.e2e.test_faults import assert_no_duplicates
from wa_sync.errors import UsageError
from wa_sync.report import ReportWriter

CUSTOMERS = 12


@pytest.fixture
def estate(repo, emulator):
    for n in range(1, CUSTOMERS + 1):
        repo.customer(f"clinic-{n}", customer_doc(n))
    return repo


def resumes(cli, emulator) -> None:
    emulator.set_faults()
    again = cli("apply", "--auto-approve")
    assert again.code == 0, again.out + again.err
    assert_no_duplicates(emulator)
    assert cli("plan", "--detailed-exitcode").code == 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_report_that_cannot_be_written_is_an_error_before_any_write(estate, emulator, cli):
    result = cli("apply", "--auto-approve", "--report", "/dev/full")
    assert result.code == 1
    assert result.err == (
        "Error: --report /dev/full: cannot write it: No space left on device. "
        "Nothing was changed.\n"
    )
    assert estate_writes(emulator.request_log()) == []


def test_a_report_in_a_missing_directory_is_an_error_before_any_write(
    estate, emulator, cli, tmp_path
):
    result = cli("apply", "--auto-approve", "--report", str(tmp_path / "no" / "report.jsonl"))
    assert result.code == 1
    assert "cannot write it: No such file or directory. Nothing was changed." in result.err
    assert estate_writes(emulator.request_log()) == []


def test_a_report_pipe_whose_reader_goes_away_stops_new_writes(
    estate, emulator, env, cli, tmp_path
):
    emulator.set_faults(latency_ms=150, methods=["POST"])
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    process = spawn(estate.root, env, "apply", "--auto-approve", "--parallelism", "2",
                    "--report", str(fifo))  # fmt: skip
    with open(fifo, encoding="utf-8") as reader:  # opens once apply opens it to write
        assert '"type": "header"' in reader.readline()
        assert '"type": "change"' in reader.readline()
    out, err = process.communicate(timeout=120)

    assert process.returncode == 1, err
    assert f"Error: the report {fifo} could not be written (Broken pipe): no new change " \
        "will start" in err  # fmt: skip
    assert "Apply stopped (the report" in out
    assert "Not started:" in out
    assert "Traceback" not in err
    resumes(cli, emulator)


def test_standard_output_closed_mid_apply_stops_new_writes(estate, emulator, env, cli):
    """`wa-sync apply | head -1`: the reader exits after its line."""
    emulator.set_faults(latency_ms=150, methods=["POST"])
    process = spawn(estate.root, env, "apply", "--auto-approve", "--parallelism", "2")
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(process.stderr), daemon=True)
    reader.start()
    assert process.stdout is not None
    for line in process.stdout:  # the plan, then the first outcome
        if line.startswith("[1/"):  # "[1/N] ✓ create ..."
            break
    process.stdout.close()
    process.wait(timeout=120)
    reader.join(timeout=10)
    err = "".join(said)

    assert process.returncode == 1, err
    assert "Error: standard output could not be written (Broken pipe)" in err
    assert "Apply stopped (standard output could not be written" in err  # the summary
    assert "Not started:" in err
    assert "Traceback" not in err
    resumes(cli, emulator)


def test_a_report_that_cannot_be_opened_keeps_the_reason_as_the_error_s_cause(tmp_path):
    """Issue #18.4: exceptions keep their causes (`raise ... from exc`)."""
    writer = ReportWriter(str(tmp_path / "no" / "report.jsonl"), environ={})
    with pytest.raises(UsageError) as raised:
        writer.__enter__()
    assert isinstance(raised.value.__cause__, FileNotFoundError)


def test_the_report_names_the_commit_of_the_estate_given_by_root(estate, env, tmp_path):
    """`apply --root DIR` run from elsewhere (here: wa-sync's own repository) recorded
    the commit and dirtiness of the directory it ran in, not of the estate applied."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(estate.root), "-c", "user.name=t", "-c", "user.email=t@t",
             *args], check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "estate")
    report = tmp_path / "report.jsonl"
    process = spawn(estate.root, env, "apply", "--auto-approve", "--report", str(report))
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    header = json.loads(report.read_text(encoding="utf-8").splitlines()[0])
    assert header["git_commit"] == git("rev-parse", "HEAD")
    assert header["git_dirty"] is False
