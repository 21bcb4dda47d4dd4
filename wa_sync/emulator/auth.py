"""HTTP Basic as Twilio does it: account SID and auth token, or API key SID and secret."""

from __future__ import annotations

import base64
import binascii
import hmac

from wa_sync.emulator.errors import ACCOUNT_NOT_ACTIVE, ApiError, unauthorized
from wa_sync.emulator.store import Store
from wa_sync.emulator.wire import Principal, Settings


def authenticate(store: Store, settings: Settings, header: str | None) -> Principal:
    """The principal of an `Authorization` header, or 401 20003."""
    username, password = _credentials(header)
    if username.startswith("AC"):
        account = store.one(
            "SELECT sid, status, auth_token FROM accounts WHERE sid = ?", (username,)
        )
        if account is None:
            raise unauthorized()
        token = settings.parent_token if username == settings.parent_sid else account["auth_token"]
        if not token or not same_secret(str(token), password):
            raise unauthorized()
        _check_active(account["status"])
        return Principal(account_sid=username)
    if username.startswith("SK"):
        key = store.one(
            "SELECT k.secret, k.main, k.account_sid, a.status FROM api_keys k "
            "JOIN accounts a ON a.sid = k.account_sid WHERE k.sid = ?",
            (username,),
        )
        if key is None or not same_secret(str(key["secret"]), password):
            raise unauthorized()
        _check_active(key["status"])
        return Principal(
            account_sid=key["account_sid"], key_sid=username, main_key=bool(key["main"])
        )
    raise unauthorized()


def same_secret(secret: str, given: str) -> bool:
    """A constant-time comparison; as bytes, since compare_digest refuses a str with a
    non-ASCII character (a password of any UTF-8 is a 401, never a 500)."""
    return hmac.compare_digest(secret.encode(), given.encode())


def basic_username(header: str | None) -> str | None:
    """The username an Authorization header gives, or None: who a fault rule is for."""
    try:
        return _credentials(header)[0]
    except ApiError:
        return None


def _credentials(header: str | None) -> tuple[str, str]:
    if not header or not header.lower().startswith("basic "):
        raise unauthorized()
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise unauthorized() from exc
    username, sep, password = decoded.partition(":")
    if not sep:
        raise unauthorized()
    return username, password


def _check_active(status: str) -> None:
    if status != "active":
        raise ApiError(401, ACCOUNT_NOT_ACTIVE, f"Account is not active ({status})")
