"""The parent account's credentials, from the environment only (SPEC §5), and the
`Secret` that holds every credential in memory: never printed, logged or pickled."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wa_sync.errors import CredentialsMissing, UsageError, WaSyncError

MAIN_KEY_HINT = (
    "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN; an API key (TWILIO_API_KEY) must be a "
    "Main key, because a Standard key cannot read or create subaccounts"
)

UNREADABLE_HINT = (
    "Twilio returned no auth token for it, so wa-sync cannot act on its senders and "
    "templates; use the parent's TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (a Main API key "
    "may not reveal subaccount tokens)"
)


class Secret:
    """A credential held in memory only: its repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")

    __str__ = __repr__


def hidden(text: str, credentials: Iterable[tuple[str, str]]) -> str:
    """`text` with each (user, secret)'s secret and its HTTP Basic form (base64 of
    USER:SECRET, what an Authorization or Proxy-Authorization header carries) as `***`:
    a server or proxy that quotes the request's headers in its error sends them back."""
    forms = set()
    for user, secret in credentials:
        if secret:
            forms.add(secret)
            for encoding in ("latin-1", "utf-8"):  # requests' and urllib3's, then any
                try:
                    forms.add(base64.b64encode(f"{user}:{secret}".encode(encoding)).decode())
                except UnicodeEncodeError:
                    continue
    for form in sorted(forms, key=len, reverse=True):  # a secret holding another: whole
        text = text.replace(form, "***")
    return text


@dataclass(frozen=True)
class ParentCredentials:
    """The ISV's parent account: `username` is the account SID (with its auth token)
    or an API key SID (with its secret)."""

    account_sid: str
    username: str
    secret: Secret

    @property
    def uses_api_key(self) -> bool:
        return self.username != self.account_sid


_PLAIN = re.compile(r"[\x21-\x7e]+")  # what HTTP Basic carries as is: visible ASCII

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
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"):
        if not _PLAIN.fullmatch(get(name) or "x"):
            raise UsageError(  # never the value, nor the character: it is part of a secret
                f"{name} holds a character that is not a visible ASCII character (a quote, a "
                "space or an invisible character copied with it?): Twilio's SIDs, auth tokens "
                f"and API key secrets are letters and digits; set {name} again without it"
            )
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


class NotAParent(WaSyncError):
    """The credentials are a subaccount's, not the ISV's parent account's."""


def check_parent(account: Mapping[str, Any]) -> None:
    """The credentials' own account must be a parent: with a subaccount's, every customer
    would get a new subaccount under the wrong account."""
    sid, owner = account.get("sid"), account.get("owner_account_sid")
    if owner and owner != sid:
        raise NotAParent(
            f"the Twilio credentials are those of {sid}, a subaccount of {owner}: wa-sync "
            f"manages customers' subaccounts from the ISV's parent account\n"
            f"  fix: set TWILIO_ACCOUNT_SID to the parent account {owner}, with its auth "
            f"token (or an API key of that account)"
        )
