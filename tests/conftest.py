"""Test-wide safety: no test can reach Twilio, whatever the developer's environment holds."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_real_twilio(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    # An unroutable URL: a test that forgets to point at the emulator fails fast.
    monkeypatch.setenv("WA_SYNC_TWILIO_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_COLOR", raising=False)
