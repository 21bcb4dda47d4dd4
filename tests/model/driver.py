"""How the model-based test acts: the CLI in-process or in its own process, and Twilio
and Meta acting on their own (the emulator's control API, and the Console as the real
API with a subaccount's own credentials)."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from wa_sync.cli import main
from wa_sync.emulator import Emulator
from wa_sync.runtime import Runtime

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITES = ("POST", "PUT", "DELETE")
WRITTEN_PRODUCTS = ("/v1/Content", "/v2/Channels/Senders")
ESTATE = (*WRITTEN_PRODUCTS, "/2010-04-01/Accounts")  # not the apply lock's Sync requests


@dataclass
class Run:
    """One CLI run: its arguments, exit code, output, and the request log entries it made."""

    args: tuple[str, ...]
    code: int | None
    out: str
    err: str
    log: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def prune(self) -> bool:
        return "--prune" in self.args

    def writes(self) -> list[dict[str, Any]]:
        return [e for e in self.log if e["method"] in WRITES]

    def estate_writes(self) -> list[dict[str, Any]]:
        """Writes to subaccounts, senders and contents (not the apply lock's)."""
        return [e for e in self.writes() if e["template"].startswith(ESTATE)]


class Cli:
    """wa-sync against one emulator and one repository."""

    def __init__(self, emulator: Emulator, root: Path) -> None:
        self.emulator, self.root = emulator, root
        self.env = {
            "TWILIO_ACCOUNT_SID": emulator.parent_sid,
            "TWILIO_AUTH_TOKEN": emulator.parent_token,
            "WA_SYNC_TWILIO_URL": emulator.url,
        }

    def log_between(self, started: float, ended: float, linger: float = 0.0) -> list[dict]:
        """The requests that reached the emulator between two monotonic times. `linger`:
        how long a request may still be answering (the emulator logs it once answered)."""
        if linger:
            time.sleep(linger)
        return [e for e in self.emulator.request_log() if started <= e["started"] <= ended]

    def run(self, *args: str) -> Run:
        """In-process, through `wa_sync.cli.main`. Log records go to its stderr, as the
        CLI's own logging does in a process of its own."""
        runtime = Runtime(
            environ=dict(self.env),
            stdin=io.StringIO(),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            stdin_isatty=False,
            stdout_isatty=False,
        )
        handler = logging.StreamHandler(runtime.stderr)
        handler.setLevel(logging.WARNING)
        logging.getLogger().addHandler(handler)
        started = time.monotonic()
        try:
            code = main([*args, "--root", str(self.root)], runtime)
        finally:
            logging.getLogger().removeHandler(handler)
        log = self.log_between(started, time.monotonic())
        return Run(args, code, runtime.stdout.getvalue(), runtime.stderr.getvalue(), log)

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """`python -m wa_sync ARGS` in its own process (for signals and concurrency)."""
        return subprocess.Popen(
            [sys.executable, "-m", "wa_sync", *args, "--root", str(self.root)],
            cwd=REPO_ROOT,
            env={**os.environ, **self.env, "PYTHONPATH": str(REPO_ROOT)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )

    def interrupted(
        self,
        args: tuple[str, ...],
        *,
        after_writes: int,
        signals: tuple[signal.Signals, ...],
        linger: float,
    ) -> tuple[Run, float | None]:
        """Run ARGS in a process and send `signals` once it has sent its first request
        and made `after_writes` estate writes; returns the run and the monotonic time of the
        first signal (None: the process had ended before)."""
        started = time.monotonic()
        process = self.spawn(*args)
        deadline = started + 60
        while process.poll() is None and time.monotonic() < deadline:
            sent = Run(args, None, "", "", self.log_between(started, time.monotonic()))
            if sent.log and len(sent.estate_writes()) >= after_writes:
                break
            time.sleep(0.005)
        sent_at = None
        if process.poll() is None:
            sent_at = time.monotonic()
            for number, sig in enumerate(signals):
                if number:
                    time.sleep(0.05)
                process.send_signal(sig)
        try:
            out, err = process.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            err += "\n[the model test killed this apply: it ran 90 s after the signal]"
        log = self.log_between(started, time.monotonic(), linger)
        return Run(args, process.returncode, out, err, log), sent_at

    def together(self, *commands: tuple[str, ...]) -> list[Run]:
        """Start every command at once, each in its own process; wait for all."""
        started = time.monotonic()
        processes = [self.spawn(*args) for args in commands]
        results = []
        for args, process in zip(commands, processes, strict=True):
            try:
                out, err = process.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate()
                err += "\n[the model test killed this apply: still running after 120 s]"
            results.append((args, process.returncode, out, err))
        log = self.log_between(started, time.monotonic())
        # the log cannot tell the two processes apart: each run carries all of it
        return [Run(args, code, out, err, log) for args, code, out, err in results]


class Console:
    """A person in the Twilio Console: the real API with a subaccount's own credentials."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def _auth(self, account_sid: str) -> tuple[str, str]:
        for account in self.emulator.state()["accounts"]:
            if account["sid"] == account_sid:
                return account_sid, account["auth_token"]
        raise LookupError(f"no subaccount {account_sid}")

    def call(self, account_sid: str, method: str, path: str, body: Any = None) -> int:
        response = requests.request(
            method,
            self.emulator.url + path,
            auth=self._auth(account_sid),
            json=body,
            timeout=30,
        )
        return response.status_code

    def edit_profile(self, account_sid: str, sender_sid: str, about: str) -> int:
        body = {"profile": {"about": about}}
        return self.call(account_sid, "POST", f"/v2/Channels/Senders/{sender_sid}", body)

    def edit_content(self, account_sid: str, content_sid: str, body_text: str) -> int:
        body = {"types": {"twilio/text": {"body": body_text}}}
        return self.call(account_sid, "PUT", f"/v1/Content/{content_sid}", body)

    def delete_content(self, account_sid: str, content_sid: str) -> int:
        return self.call(account_sid, "DELETE", f"/v1/Content/{content_sid}")

    def add_content(self, account_sid: str, name: str, *, submit: bool) -> int:
        body = {
            "friendly_name": name,
            "language": "en",
            "variables": {"1": "Maria"},
            "types": {"twilio/text": {"body": "Hi {{1}}, this was made by hand."}},
        }
        response = requests.post(
            self.emulator.url + "/v1/Content", auth=self._auth(account_sid), json=body, timeout=30
        )
        if response.status_code != 201 or not submit:
            return response.status_code
        path = f"/v1/Content/{response.json()['sid']}/ApprovalRequests/whatsapp"
        return self.call(account_sid, "POST", path, {"name": name, "category": "UTILITY"})

    def add_sender(self, account_sid: str, phone: str) -> int:
        body = {
            "sender_id": f"whatsapp:{phone}",
            "configuration": {"waba_id": "104000000009999"},
            "profile": {"name": "Made By Hand"},
        }
        return self.call(account_sid, "POST", "/v2/Channels/Senders", body)
