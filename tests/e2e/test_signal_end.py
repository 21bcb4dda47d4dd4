"""Signals at the end of an apply whose writes are over change nothing (SPEC §4.8,
wa_sync/interrupts.py), to the process's last instruction: its exit code and output are
its own. Once the command's signal block gave its handlers back, Python's own were in
place while the command told its result and the interpreter ended: a SIGINT there was a
KeyboardInterrupt traceback, or ended the process (exit -2); a SIGTERM ended it (-15).

Each apply runs in its own process (`python -m wa_sync`, the console script's entry
point) against the emulator. Once its last line of standard output is read (the summary,
or "Nothing to apply."), this test sends it SIGINT and SIGTERM in turn, as fast as it
can, until the process is gone: the signals cover everything that runs after the
result, whichever instruction each lands on.
"""

from __future__ import annotations

import signal
import subprocess

from tests.e2e.helpers import customer_doc, spawn

ROUNDS = 4


def signalled_to_its_end(process: subprocess.Popen[str], last_line: str) -> tuple[str, str]:
    """Read the process's standard output up to a line starting `last_line`, then send
    SIGINT and SIGTERM in turn until it ends; its output and error."""
    assert process.stdout is not None
    said = []
    for line in process.stdout:
        said.append(line)
        if line.startswith(last_line):
            break
    sent = 0
    while process.poll() is None:  # a reaped process is never sent one (no pid reused)
        process.send_signal((signal.SIGINT, signal.SIGTERM)[sent % 2])
        sent += 1
    out, err = process.communicate(timeout=60)
    return "".join(said) + out, err


def test_signals_after_an_apply_s_writes_change_neither_its_exit_code_nor_its_output(
    repo, emulator, env
):
    for n in range(ROUNDS):
        repo.customer(f"clinic-{n}", customer_doc(n))
        process = spawn(repo.root, env, "apply", "--auto-approve")
        out, err = signalled_to_its_end(process, "Apply complete:")
        where = f"round {n}: exit {process.returncode}\n{err}"
        assert process.returncode == 0, where
        assert err == "", where
        assert "Apply complete: 8 done, 0 failed, 0 skipped." in out, where


def test_signals_once_there_is_nothing_to_apply_change_neither_its_exit_code_nor_its_output(
    repo, emulator, env
):
    repo.customer("clinic-1", customer_doc(1))
    first = spawn(repo.root, env, "apply", "--auto-approve")
    assert first.wait(timeout=120) == 0
    for n in range(ROUNDS):
        process = spawn(repo.root, env, "apply", "--auto-approve")
        out, err = signalled_to_its_end(process, "Nothing to apply.")
        where = f"round {n}: exit {process.returncode}\n{err}"
        assert process.returncode == 0, where
        assert err == "", where
        assert out.endswith("Nothing to apply.\n"), where
