"""Twilio's errors as the TwilioError family of base.py: by Twilio's code, else by the
HTTP status, with what to do about each (pure)."""

from __future__ import annotations

from typing import Any

from wa_sync import credentials
from wa_sync.errors import TwilioError
from wa_sync.gateway import base

TOO_MANY_HINT = (
    "the parent account reached its subaccount limit (1,000 by default): close unused "
    "subaccounts or ask Twilio support to raise it"
)


def twilio_error(
    text: str,
    status: int | None,
    code: int | None,
    *,
    subaccount: str | None,
    uses_api_key: bool,
) -> TwilioError:
    """The error for Twilio's answer; `text` says what was done, and Twilio's message
    (scrubbed of credentials)."""
    link = f"https://www.twilio.com/docs/errors/{code}" if code and code >= 10000 else ""
    kw: dict[str, Any] = {"status": status, "code": code, "more_info": link}
    if code == 20404 or status == 404:
        return base.NotFound(text, **kw)
    if code in (20003, 20005) or status in (401, 403):
        hint = (
            "the account is suspended or closed"
            if code == 20005
            else f"the subaccount {subaccount} refused its own credentials"
            if subaccount
            else credentials.MAIN_KEY_HINT
            if uses_api_key or status == 403
            else "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
        )
        return base.AuthFailed(f"{text}; {hint}", **kw)
    if code == 20429 or status == 429:
        return base.RateLimited(f"{text}; Twilio kept rate-limiting, try again later", **kw)
    if code == 92009:
        return base.ContentLocked(text, **kw)
    if code == 21480:
        return base.TooManySubaccounts(f"{text}; {TOO_MANY_HINT}", **kw)
    if status is not None and status >= 500:
        return base.Unavailable(f"{text}; Twilio is unavailable, try again later", **kw)
    return TwilioError(text, **kw)
