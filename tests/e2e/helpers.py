"""End-to-end helpers: customer documents and a repository in a temporary directory."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

ONBOARDED = {
    "terms_accepted": True,
    "business_verification": "verified",
    "access_request": "approved",
    "invitation": "approved",
}

REMINDER = {
    "name": "appointment_reminder",
    "category": "UTILITY",
    "params": ["clinic_name"],
    "localizations": {
        "en": {
            "body": "Hi {{1}}, ${{ clinic_name }} reminds you of your appointment on {{2}}. "
            "Reply to confirm.",
            "variables": {"1": "Maria", "2": "June 3 at 10:00"},
        },
        "es": {
            "types": {
                "twilio/quick-reply": {
                    "body": "Hola {{1}}, ${{ clinic_name }} le recuerda su cita el {{2}}. "
                    "Elija una opción.",
                    "actions": [
                        {"title": "Confirmar", "id": "confirm"},
                        {"title": "Cambiar", "id": "reschedule"},
                    ],
                }
            },
            "variables": {"1": "María", "2": "3 de junio, 10:00"},
        },
    },
}


# wa-sync.yaml with the ISV's own details (the access request form and status need them)
ISV = {
    "isv": {
        "name": "Example Integrations Ltd",
        "email": "onboarding@example-isv.com",
        "facebook_business_manager_id": "100000000000001",
    }
}


def customer_doc(n: int = 1, *, onboarded: bool = True, **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": f"Clinic Number {n}",
        "facebook_business_manager_id": f"1234567890{n:05d}",
        "customer_account_sid": f"AC{n:032x}",
        "onboarding": dict(ONBOARDED) if onboarded else {"terms_accepted": False},
        "senders": [
            {
                "phone_number": f"+1415555{n:04d}",
                "display_name": f"Clinic Number {n}",
                "profile": {
                    "about": "Family dentistry since 1990",
                    "vertical": "Medical and Health",
                    "websites": [f"https://clinic{n}.example"],
                    "emails": [f"hello@clinic{n}.example"],
                },
            }
        ],
        "templates": [
            {"use": "appointment_reminder", "with": {"clinic_name": f"Clinic {n}"}},
            {
                "name": "recall_offer",
                "language": "en",
                "category": "MARKETING",
                "body": "Hi {{1}}, it is time for your check-up. Book now and get 10% off.",
                "variables": {"1": "Maria"},
            },
        ],
    }
    if onboarded:
        doc["waba_id"] = f"10400000000{n:04d}"
    doc.update(overrides)
    return doc


@dataclass
class Result:
    code: int
    out: str
    err: str


class Repo:
    """A configuration repository in a temporary directory."""

    def __init__(self, root: Path):
        self.root = root
        (root / "customers").mkdir(parents=True)
        (root / "templates").mkdir()
        self.write("templates/appointment_reminder.yaml", REMINDER)

    def write(self, relative: str, doc: Any) -> Path:
        path = self.root / relative
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    def customer(self, cid: str, doc: dict[str, Any]) -> Path:
        return self.write(f"customers/{cid}.yaml", doc)

    def read(self, relative: str) -> Any:
        return yaml.safe_load((self.root / relative).read_text(encoding="utf-8"))

    def edit(self, relative: str, change: Any) -> None:
        doc = copy.deepcopy(self.read(relative))
        change(doc)
        self.write(relative, doc)


def estate_writes(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The writes of a request log to the estate: subaccounts, senders and contents (the
    apply lock's Sync requests, /v1/Services/..., aside)."""
    return [r for r in log if r["method"] != "GET" and not r["path"].startswith("/v1/Services")]


REPO_ROOT = Path(__file__).resolve().parents[2]


def git(root: Path, *args: str) -> str:
    """`git ARGS` in `root` as a committer named t; its standard output."""
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


class Spawned(subprocess.Popen):
    """A wa-sync process that, should a test's wait for it time out, is made to print
    every thread's stack (faulthandler, on SIGABRT) and the test fails with them: a hang
    says where it hung."""

    _hung = False

    def communicate(self, input: Any = None, timeout: float | None = None) -> Any:
        try:
            return super().communicate(input, timeout)
        except subprocess.TimeoutExpired as expired:
            if self._hung:  # the wait for the stacks themselves (_stacks)
                raise
            raise self._stacks(expired) from expired

    def wait(self, timeout: float | None = None) -> int:
        try:
            return super().wait(timeout)
        except subprocess.TimeoutExpired as expired:
            if self._hung:
                raise
            raise self._stacks(expired) from expired

    def _stacks(self, expired: subprocess.TimeoutExpired) -> AssertionError:
        self._hung = True
        self.send_signal(signal.SIGABRT)
        try:
            _out, err = super().communicate(timeout=30)
        finally:
            self.kill()
        stacks = err if err is not None else "(on its standard error)"
        wa_sync = " ".join(self.args[3:-2])
        return AssertionError(f"wa-sync {wa_sync} did not end within {expired.timeout} s; "
                              f"its threads then:\n{stacks}")  # fmt: skip


def spawn(
    root: Path,
    env: dict[str, str],
    *args: str,
    env_extra: dict[str, str] | None = None,
    **popen: Any,
) -> Spawned:
    """`wa-sync ARGS --root ROOT` in its own process, against the emulator of `env`."""
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return Spawned(
        [sys.executable, "-m", "wa_sync", *args, "--root", str(root)],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            **env,
            **(env_extra or {}),
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONFAULTHANDLER": "1",  # SIGABRT prints every thread's stack (Spawned)
        },
        text=True,
        **options,
    )


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def set_account_status(emulator: Any, sid: str, status: str) -> None:
    """Suspend, close or reactivate subaccount `sid`, as the parent does in the Console
    (the Accounts API's update of `Status`)."""
    answer = requests.post(
        f"{emulator.url}/2010-04-01/Accounts/{sid}.json",
        auth=(emulator.parent_sid, emulator.parent_token),
        data={"Status": status},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


class InConditionWait:
    """A trace (sys.settrace) that sends this process SIGINT the first time the traced
    thread's `Condition.wait` has released its lock (under `Thread.start`, `Event.wait`,
    a future's result): where a handler that raised left the wait without its lock."""

    def __init__(self) -> None:
        self.sent = False

    def __call__(self, frame, event, arg):
        if self.sent or frame.f_code is not threading.Condition.wait.__code__:
            return None
        frame.f_trace_opcodes = True
        return self.opcodes

    def opcodes(self, frame, event, arg):
        if event == "opcode" and not self.sent and "saved_state" in frame.f_locals:
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)
        return self.opcodes
