"""Twilio's error body, raised anywhere in a request and written by the server."""

from __future__ import annotations

from typing import Any

# Twilio error codes the emulator answers with (https://www.twilio.com/docs/errors/<code>).
INVALID_PARAMETER = 20001
AUTHENTICATE = 20003
METHOD_NOT_ALLOWED = 20004
ACCOUNT_NOT_ACTIVE = 20005
NOT_FOUND = 20404
CONFLICT = 20409  # the emulator's choice for (name, language) taken and 30-day name reuse
TOO_MANY_REQUESTS = 20429
SUBACCOUNT_LIMIT = 21480
CONTENT_SUBMITTED = 92009


class ApiError(Exception):
    """An HTTP error response with Twilio's body `{code, message, more_info, status}`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.code, self.message)


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def bad_request(message: str, code: int = INVALID_PARAMETER) -> ApiError:
    return ApiError(400, code, message)


def not_found(path: str) -> ApiError:
    return ApiError(404, NOT_FOUND, f"The requested resource {path} was not found")


def unauthorized() -> ApiError:
    return ApiError(401, AUTHENTICATE, "Authenticate")
