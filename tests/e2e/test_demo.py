"""`make demo` (scripts/demo.sh) walks both onboarding flows against the embedded
emulator, and a second run finds everything in place (issue #19.8)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_walks_the_embedded_signup_customer_through_its_code(tmp_path: Path):
    for name in ("customers", "templates", "scripts"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "wa-sync.yaml", tmp_path / "wa-sync.yaml")
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "WA_SYNC_"))}

    def demo() -> str:
        done = subprocess.run(
            ["bash", "scripts/demo.sh"], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    first = demo()
    registered = first.index("grachten-koffie       4/6 one-time code")
    verified = first.index("Code accepted for +31205550123")
    onboarded = first.index("grachten-koffie       onboarded")
    assert registered < verified < onboarded
    assert "wa-sync verify grachten-koffie +31205550123 CODE" in " ".join(first.split())
    assert "acme-dental           onboarded" in first  # the legacy flow, next to it

    second = demo()  # everything in place: no code to give, nothing to change
    assert "Code accepted" not in second
    assert "No changes. Twilio matches the configuration." in second
