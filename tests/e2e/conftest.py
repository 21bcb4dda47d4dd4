"""End-to-end fixtures: a per-test emulator over HTTP and small repositories in tmp dirs.

The CLI runs in-process through `wa_sync.cli.main` with a Runtime whose environment
points the real twilio SDK at the emulator.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from wa_sync.cli import main
from wa_sync.emulator import Emulator
from wa_sync.runtime import Runtime

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


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": emulator.parent_sid,
        "TWILIO_AUTH_TOKEN": emulator.parent_token,
        "WA_SYNC_TWILIO_URL": emulator.url,
    }


@pytest.fixture
def cli(repo: Repo, env: dict[str, str]):
    """Run `wa-sync ARGS --root <repo>` in-process; returns code, stdout, stderr."""

    def run(*args: str, stdin: str = "", tty: bool = False, environ: dict | None = None) -> Result:
        runtime = Runtime(
            environ=env if environ is None else environ,
            stdin=io.StringIO(stdin),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            stdin_isatty=tty,
            stdout_isatty=False,
        )
        code = main([*args, "--root", str(repo.root)], runtime)
        return Result(code, runtime.stdout.getvalue(), runtime.stderr.getvalue())

    return run
