"""Reading Twilio and applying show progress on standard error, never on standard output
(issue 20): a live line on a terminal, plain lines elsewhere (a CI log), the count on
every line apply prints. The emulator's latency makes the work slow enough to report."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from bench.estate import customer, write_estate

CUSTOMERS = 12
LATENCY_MS = 100  # each customer's reads take at least this: the plan lasts over 0.2 s
PLAIN = re.compile(r"^Reading Twilio: (\d+)/12 customers, [\d.]+ s(, [\d.]+/s)?$", re.M)
LIVE = "\r\x1b[KReading Twilio: "
ELSEWHERE = re.compile(r"^Reading other subaccounts' senders: (\d+)/12 subaccounts, [\d.]+ s", re.M)


@pytest.fixture
def slow(repo, cli, emulator, env):
    """An applied estate of 12 customers, read two at a time from a slow emulator."""
    write_estate(repo.root, customers=CUSTOMERS, templates=1)
    assert cli("apply", "--auto-approve").code == 0
    settings = yaml.safe_load((repo.root / "wa-sync.yaml").read_text())
    settings["settings"]["parallelism"] = 2
    (repo.root / "wa-sync.yaml").write_text(yaml.safe_dump(settings))
    emulator.set_faults(latency_ms=LATENCY_MS)
    env["WA_SYNC_PROGRESS_INTERVAL"] = "0.05"
    return repo


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_a_plan_in_ci_prints_progress_lines_on_stderr_and_none_on_stdout(slow, cli, fmt):
    result = cli("plan", "--format", fmt)

    assert result.code == 0, result.err
    lines = PLAIN.findall(result.err)
    assert len(lines) >= 2  # at least one line while it reads, then the final count
    assert result.err.splitlines()[-1].startswith("Reading Twilio: 12/12 customers, ")
    assert "\x1b" not in result.err  # not a terminal: plain text
    assert "Reading Twilio" not in result.out
    if fmt == "json":
        assert json.loads(result.out)["format_version"] == 1


def a_newcomer(repo) -> list[str]:
    """A 13th customer with a number to register: its plan (scoped to it) reads the
    senders of the 12 others, out of its scope (commands/elsewhere.py). Its flags."""
    (repo.root / "customers" / "bench-00013.yaml").write_text(yaml.safe_dump(customer(13, 1)))
    return ["--customer", "bench-00013"]


def test_the_read_of_the_senders_out_of_scope_has_its_progress_lines(slow, cli):
    result = cli("plan", "--format", "json", *a_newcomer(slow))

    assert result.code == 0, result.err
    assert "This plan registers a number: reading the senders of 12 customer(s)" in result.err
    lines = ELSEWHERE.findall(result.err)
    assert len(lines) >= 2  # at least one line while it reads, then the final count
    assert lines[-1] == "12"
    assert "\x1b" not in result.err  # not a terminal: plain text
    assert "Reading other" not in result.out
    assert json.loads(result.out)["format_version"] == 1


def test_a_quick_plan_prints_no_progress(repo, cli):
    write_estate(repo.root, customers=2, templates=1)
    assert cli("plan").err == ""  # over before the first line is due (10 s)


def test_apply_in_ci_counts_each_change_and_reports_progress_on_stderr(repo, cli, emulator, env):
    write_estate(repo.root, customers=2, templates=1)
    emulator.set_faults(latency_ms=LATENCY_MS)
    env["WA_SYNC_PROGRESS_INTERVAL"] = "0.05"

    result = cli("apply", "--auto-approve")

    assert result.code == 0, result.err
    # not a terminal either; customers run in parallel, so any may finish first
    assert re.search(r"^\[1/12\] ✓ create customer\.bench-0000\d \(AC", result.out, re.M)
    assert re.search(r"^\[12/12\] ✓ submit ", result.out, re.M)
    assert re.search(r"^Applying: \d+/12 changes, ", result.err, re.M)
    assert result.err.splitlines()[-1].startswith("Applying: 12/12 changes, ")
    assert "Applying:" not in result.out
    assert result.out.rstrip().endswith("Apply complete: 12 done, 0 failed, 0 skipped.")


def test_a_bad_progress_interval_is_a_usage_error(repo, cli, env):
    write_estate(repo.root, customers=1, templates=1)
    env["WA_SYNC_PROGRESS_INTERVAL"] = "soon"
    result = cli("plan")
    assert result.code == 1
    assert "WA_SYNC_PROGRESS_INTERVAL='soon' is not a number of seconds above 0" in result.err
    assert "Traceback" not in result.err


def on_a_terminal(root: Path, env: dict[str, str], *args: str) -> tuple[str, str, int]:
    """Run `wa-sync ARGS` with standard error on a pseudo-terminal and standard output
    on a pipe; return what each received, and the exit code."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "wa_sync", *args, "--root", str(root)],
        stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    os.close(follower)
    received: list[bytes] = []

    def drain() -> None:  # a full terminal buffer would stop the child
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            received.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    out, _ = process.communicate(timeout=120)
    reader.join(timeout=30)
    os.close(leader)
    return out.decode(), b"".join(received).decode(), process.returncode


def terminal_env(env: dict[str, str], **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "WA_SYNC_"))}
    base.pop("NO_COLOR", None)
    return {**base, **env, "TERM": "xterm-256color", **extra}


def test_on_a_terminal_the_progress_is_one_live_line(slow, env):
    out, terminal, code = on_a_terminal(slow.root, terminal_env(env), "plan", "--format", "json")

    assert code == 0, terminal
    assert LIVE in terminal  # drawn over itself: back to the line's start, erased
    assert "\r\x1b[KReading Twilio: 12/12 customers, " in terminal  # the final count
    assert json.loads(out)["format_version"] == 1  # standard output: the plan alone


def test_on_a_terminal_the_read_of_the_senders_out_of_scope_is_one_live_line(slow, env):
    args = a_newcomer(slow)
    out, terminal, code = on_a_terminal(slow.root, terminal_env(env), "plan", *args)

    assert code == 0, terminal
    assert "\r\x1b[KReading other subaccounts' senders: 12/12 subaccounts, " in terminal
    assert "Reading other" not in out


@pytest.mark.parametrize(
    ("extra", "flags"),
    [({"TERM": "dumb"}, ()), ({"NO_COLOR": "1"}, ()), ({}, ("--no-color",))],
    ids=["TERM=dumb", "NO_COLOR", "--no-color"],
)
def test_a_terminal_without_colour_gets_the_plain_lines(slow, env, extra, flags):
    out, terminal, code = on_a_terminal(slow.root, terminal_env(env, **extra), *flags, "plan")

    assert code == 0, terminal
    assert "\x1b" not in terminal
    assert PLAIN.search(terminal.replace("\r\n", "\n"))
    assert "Reading Twilio" not in out
