"""`wa-sync emulator`: serves until Ctrl-C, says where, never prints a token unasked."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.helpers import raw
from wa_sync.cli import main
from wa_sync.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]


class Served:
    def __init__(self, process: subprocess.Popen[str], lines: list[str]) -> None:
        self.process = process
        self.lines = lines
        self.url = re.search(r"listening on (\S+)", lines[0]).group(1)

    @property
    def text(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    processes: list[subprocess.Popen[str]] = []

    def start(*args: str, environ: dict[str, str] | None = None) -> Served:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
        env.update(environ or {}, PYTHONPATH=str(REPO))
        process = subprocess.Popen(
            [sys.executable, "-m", "wa_sync", "emulator", "--port", "0", *args],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        processes.append(process)
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        else:
            raise AssertionError("the emulator did not start: " + process.stderr.read())
        return Served(process, lines)

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def stop(served: Served) -> tuple[int, str]:
    served.process.send_signal(signal.SIGINT)
    out, _ = served.process.communicate(timeout=10)
    return served.process.returncode, out


def test_own_parent_prints_sid_and_url_but_no_token(serve):
    served = serve()
    sid = re.search(r"parent account: (AC[0-9a-f]{32})", served.text).group(1)
    assert f"export WA_SYNC_TWILIO_URL={served.url}" in served.text
    assert f"export TWILIO_ACCOUNT_SID={sid}" in served.text
    assert "--show-token" in served.text
    assert not re.search(r"TWILIO_AUTH_TOKEN=[0-9a-f]{32}", served.text)
    state = raw(served.url, "GET", "/__emulator/state", None).json()
    assert state["accounts"] == []
    code, out = stop(served)
    assert code == 0
    assert "Stopped." in out


def test_show_token_prints_a_token_that_works(serve):
    served = serve("--show-token")
    sid = re.search(r"TWILIO_ACCOUNT_SID=(\S+)", served.text).group(1)
    token = re.search(r"TWILIO_AUTH_TOKEN=([0-9a-f]{32})", served.text).group(1)
    assert raw(served.url, "GET", "/2010-04-01/Accounts.json", (sid, token)).status_code == 200
    assert stop(served)[0] == 0


def test_parent_from_the_environment_and_state_in_a_file(serve, tmp_path):
    sid, token = "AC" + "12" * 16, "ab" * 16
    environ = {"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": token}
    served = serve("--db", "emu.db", "--approve-after", "0", "--show-token", environ=environ)
    assert f"parent account: {sid} (from TWILIO_ACCOUNT_SID)" in served.text
    assert token not in served.text
    response = raw(served.url, "POST", "/2010-04-01/Accounts.json", (sid, token),
                   data={"FriendlyName": "wa-sync:kept"})  # fmt: skip
    assert response.status_code == 201
    assert stop(served)[0] == 0
    again = serve("--db", "emu.db", environ=environ)
    listed = raw(again.url, "GET", "/2010-04-01/Accounts.json", (sid, token)).json()
    assert "wa-sync:kept" in [a["friendly_name"] for a in listed["accounts"]]
    assert token.encode() not in (tmp_path / "emu.db").read_bytes()
    stop(again)


def run_cli(*args: str, environ: dict[str, str] | None = None) -> tuple[int, str]:
    runtime = Runtime(environ=environ or {}, stdin=io.StringIO(), stdout=io.StringIO(),
                      stderr=io.StringIO())  # fmt: skip
    code = main(["emulator", *args], runtime)
    return code, runtime.stderr.getvalue()


@pytest.mark.parametrize(
    ("args", "environ", "fragment"),
    [
        (["--fault-rate", "2"], None, "--fault-rate"),
        (["--latency-ms", "-1"], None, "--latency-ms"),
        (["--approve-after", "-5"], None, "--approve-after"),
        (["--approve-after", "nan"], None, "--approve-after"),
        ([], {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32}, "TWILIO_AUTH_TOKEN"),
        ([], {"TWILIO_ACCOUNT_SID": "nope", "TWILIO_AUTH_TOKEN": "x"}, "TWILIO_ACCOUNT_SID"),
        (  # a trailing newline (a value read from a file) is no Account SID either
            [],
            {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32 + "\n", "TWILIO_AUTH_TOKEN": "x"},
            "TWILIO_ACCOUNT_SID",
        ),
    ],
)
def test_mistakes_are_usage_errors_without_tracebacks(args, environ, fragment):
    code, err = run_cli(*args, environ=environ)
    assert code == 1
    assert fragment in err
    assert "Traceback" not in err


def test_a_database_of_another_parent_is_refused(tmp_path):
    db = str(tmp_path / "emu.db")
    from wa_sync.emulator import Emulator

    Emulator(db=db).close()
    code, err = run_cli(
        "--db", db,
        environ={"TWILIO_ACCOUNT_SID": "AC" + "34" * 16, "TWILIO_AUTH_TOKEN": "cd" * 16},
    )  # fmt: skip
    assert code == 1
    assert "belongs to parent" in err


def test_subaccount_limit_option_is_twilio_21480(serve):
    served = serve("--show-token", "--subaccount-limit", "1")
    sid = re.search(r"TWILIO_ACCOUNT_SID=(\S+)", served.text).group(1)
    token = re.search(r"TWILIO_AUTH_TOKEN=([0-9a-f]{32})", served.text).group(1)
    create = ("POST", "/2010-04-01/Accounts.json", (sid, token))
    assert raw(served.url, *create, data={"FriendlyName": "one"}).status_code == 201
    refused = raw(served.url, *create, data={"FriendlyName": "two"})
    assert refused.status_code == 400
    assert refused.json()["code"] == 21480
    assert stop(served)[0] == 0


@pytest.mark.parametrize("kind", ["not-a-database", "a-directory", "no-such-directory"])
def test_a_db_that_cannot_hold_the_state_is_a_usage_error(tmp_path, kind):
    db = tmp_path / "emu.db"
    if kind == "not-a-database":
        db.write_text("notes, not SQLite\n")
    elif kind == "a-directory":
        db.mkdir()
    else:
        db = tmp_path / "missing" / "emu.db"
    code, err = run_cli("--db", str(db), "--port", "0")
    assert code == 1
    assert "internal error" not in err
    assert f"--db {db}: cannot keep the emulator's state there" in err
