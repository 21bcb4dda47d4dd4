"""Open the gateway a command talks to: Twilio with the environment's credentials, a
Twilio-compatible server at WA_SYNC_TWILIO_URL, or the embedded emulator (--emulator).

Credentials come from the environment only (SPEC §5), never from YAML, and are never
printed. `emulated` is True with --emulator, and when WA_SYNC_TWILIO_URL points anywhere
but a twilio.com host: whatever answers there is not Twilio, so outputs must not claim
it is (this costs no request, and keeps a no-op plan at its minimum request count).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from wa_sync.emulator import Emulator
from wa_sync.errors import CredentialsMissing, UsageError
from wa_sync.gateway.base import Gateway
from wa_sync.gateway.http import (
    DEFAULT_PER_ACCOUNT_LIMIT,
    DEFAULT_TIMEOUT,
    RetryingHttpClient,
    cleartext_warning,
    pool_size,
    validate_base_url,
)
from wa_sync.gateway.twilio import ParentCredentials, Secret, TwilioGateway

_log = logging.getLogger("wa_sync")

STATE_DIR = ".wa-sync"
EMULATOR_DB = "emulator.db"

MISSING = (
    "no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_ACCOUNT_SID "
    "with TWILIO_API_KEY and TWILIO_API_SECRET of a Main API key) in the environment, "
    "or pass --emulator to run against the embedded wa-sync emulator"
)


def parent_credentials(environ: Mapping[str, str]) -> ParentCredentials:
    """The parent account's credentials from the environment, or CredentialsMissing."""

    def get(name: str) -> str:
        return (environ.get(name) or "").strip()

    sid, token = get("TWILIO_ACCOUNT_SID"), get("TWILIO_AUTH_TOKEN")
    key, key_secret = get("TWILIO_API_KEY"), get("TWILIO_API_SECRET")
    if not (sid or token or key or key_secret):
        raise CredentialsMissing(MISSING)
    if not sid:
        raise CredentialsMissing(
            "TWILIO_ACCOUNT_SID is not set: it names the parent account, also when an API key "
            "is used; " + MISSING.removeprefix("no Twilio credentials: ")
        )
    if not sid.startswith("AC"):
        raise UsageError(
            "TWILIO_ACCOUNT_SID must be the parent's account SID (AC...); an API key SID "
            "(SK...) goes in TWILIO_API_KEY"
        )
    if key or key_secret:
        if not (key and key_secret):
            missing = "TWILIO_API_SECRET" if key else "TWILIO_API_KEY"
            raise CredentialsMissing(
                f"{missing} is not set: an API key needs both TWILIO_API_KEY and "
                f"TWILIO_API_SECRET; or use TWILIO_AUTH_TOKEN, or pass --emulator"
            )
        return ParentCredentials(account_sid=sid, username=key, secret=Secret(key_secret))
    if not token:
        raise CredentialsMissing(
            "TWILIO_AUTH_TOKEN is not set: give the parent's auth token (or TWILIO_API_KEY and "
            "TWILIO_API_SECRET of a Main API key), or pass --emulator"
        )
    return ParentCredentials(account_sid=sid, username=sid, secret=Secret(token))


def http_client(
    environ: Mapping[str, str], *, base_url: str | None, parallelism: int
) -> RetryingHttpClient:
    """The HTTP client for every Twilio request of one command, tuned from the
    environment: WA_SYNC_TWILIO_TIMEOUT (seconds, default 30) and
    WA_SYNC_TWILIO_CONCURRENCY (requests in flight per account, default 10)."""
    timeout = _number(environ, "WA_SYNC_TWILIO_TIMEOUT", DEFAULT_TIMEOUT, float)
    per_account = _number(environ, "WA_SYNC_TWILIO_CONCURRENCY", DEFAULT_PER_ACCOUNT_LIMIT, int)
    return RetryingHttpClient(
        base_url=base_url,
        timeout=timeout,
        pool_maxsize=pool_size(parallelism),
        per_account_limit=int(per_account),
    )


def _number(environ: Mapping[str, str], name: str, default: float, kind: type) -> float:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value <= 0:
        raise UsageError(f"{name} must be a positive number, not {raw!r}")
    return value


def is_emulated_url(base_url: str | None) -> bool:
    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").lower()
    return not (host == "twilio.com" or host.endswith(".twilio.com"))


@contextmanager
def open_gateway(
    *, environ: Mapping[str, str], root: str, emulator: bool, parallelism: int
) -> Iterator[Gateway]:
    """The gateway for one command; closed (and the emulator stopped) on exit."""
    if emulator:
        with _embedded(environ, root, parallelism) as gateway:
            yield gateway
        return
    raw_url = (environ.get("WA_SYNC_TWILIO_URL") or "").strip()
    base_url = validate_base_url(raw_url) if raw_url else None
    credentials = parent_credentials(environ)
    warning = cleartext_warning(base_url) if base_url else None
    if warning:
        _log.warning(warning)
    gateway = TwilioGateway(
        credentials,
        http_client=http_client(environ, base_url=base_url, parallelism=parallelism),
        parallelism=parallelism,
        emulated=is_emulated_url(base_url),
        edge=environ.get("TWILIO_EDGE") or None,
        region=environ.get("TWILIO_REGION") or None,
    )
    try:
        yield gateway
    finally:
        gateway.close()


@contextmanager
def _embedded(environ: Mapping[str, str], root: str, parallelism: int) -> Iterator[TwilioGateway]:
    """The in-process emulator with its state in <root>/.wa-sync/emulator.db."""
    state = Path(root) / STATE_DIR
    if state.is_symlink() or (state / EMULATOR_DB).is_symlink():
        # the state belongs in the repository: never follow a link out of it
        raise UsageError(
            f"{state} is a symbolic link: remove it; the emulator keeps its state there"
        )
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {state} for the emulator's state: {exc}") from exc
    with Emulator(db=str(state / EMULATOR_DB)) as emu:
        credentials = ParentCredentials(
            account_sid=emu.parent_sid, username=emu.parent_sid, secret=Secret(emu.parent_token)
        )
        gateway = TwilioGateway(
            credentials,
            http_client=http_client(environ, base_url=emu.url, parallelism=parallelism),
            parallelism=parallelism,
            emulated=True,
        )
        try:
            yield gateway
        finally:
            gateway.close()
