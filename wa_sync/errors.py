"""Errors people can act on: a Location, a Problem, and the exceptions that carry them.

Every error a user can cause becomes a `WaSyncError`; `cli.main` prints its message
and exits 1 without a traceback. Anything else is an internal error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A place in a repository file: a path relative to the root and a 1-based line."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the configuration, in the user's words."""

    where: Location
    key: str  # the path of the offending key, e.g. "templates[1].name"; "" for the file
    message: str  # what is wrong
    fix: str = ""  # what to do about it
    rule: str = ""  # a lint rule id such as "TPL-NAME-CHARS", or "" for schema/syntax
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        head = f"{self.where}: {self.key + ': ' if self.key else ''}{self.message}"
        parts = (f"[{self.rule}]" if self.rule else "", f"fix: {self.fix}" if self.fix else "")
        tail = " ".join(part for part in parts if part)
        return f"{head}\n  {tail}" if tail else head

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.where.file, self.where.line or 0, self.key, self.message)


# what the user is told of any other exception (cli.main), and a --report of it
INTERNAL_ERROR = "internal error in wa-sync, please report it"


class WaSyncError(Exception):
    """A failure the user can act on. Its message is shown as is, without a traceback."""


class ConfigInvalid(WaSyncError):
    """The repository's files have errors; `problems` holds every one found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(sorted(problems, key=Problem.sort_key))
        errors = [p for p in self.problems if p.is_error]
        super().__init__("\n".join(str(p) for p in errors) or "configuration is invalid")


class UsageError(WaSyncError):
    """A command-line mistake: a bad flag value, an unknown customer id, a missing file."""


class CredentialsMissing(WaSyncError):
    """Neither Twilio credentials nor --emulator were given to a command that needs Twilio."""


class StalePlan(WaSyncError):
    """A saved plan no longer matches the configuration or Twilio's live state."""


class MassDelete(WaSyncError):
    """Prune would delete more than `max_delete_fraction` of a customer's managed objects."""


class TwilioError(WaSyncError):
    """Twilio refused a request; carries Twilio's error code and documentation link."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        more_info: str = "",
    ):
        self.status = status
        self.code = code
        self.more_info = more_info
        link = f", see {more_info}" if more_info else ""
        suffix = f" (Twilio error {code}{link})" if code else ""
        super().__init__(f"{message}{suffix}")
