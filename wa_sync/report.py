"""The audit trail of `wa-sync apply --report FILE`: JSON Lines, one line per change.

    {"type": "header", "format_version": 1, "started_at": ..., "wa_sync_version": ...,
     "git_commit": ..., "git_dirty": ..., "ci": {"provider", "run_id", "run_url", "actor", "ref"}}
    {"type": "change", "address": ..., "customer": ..., "action": ..., "result": "ok", ...}
    ...
    {"type": "summary", "completed": true, "changes": 3, "counts": {"ok": 3}, ...}

An apply that was stopped (SPEC §4.8) records every change it did not start
(`"result": "not_started"`), and its summary says `"completed": false` and why
(`"stopped_by": "SIGINT received"`). Each line is flushed as it is written, so a killed
apply leaves every change it made on record. A report that cannot be written at the
start (`--report /dev/full`) is an error before any write; one that fails later (a
pipe whose reader went away) raises its OSError once, to the caller's write, which
stops the apply from starting new changes; nothing more is written to it.

An apply that stops before it opens its report (an invalid configuration, the lock
held, a signal while it reads Twilio) writes the whole report at once instead
(`stopped_before_any_change`): its header and a summary of no change that says why,
`"before_any_change": true`, with the exit code. A report left at that path by an
earlier run is never taken for this one's.

No secret is ever written: every string is scrubbed of the Twilio secrets found
in the environment (and any given to the writer) before it reaches the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, Any

from wa_sync import __version__
from wa_sync.commands.files import write_output
from wa_sync.errors import UsageError
from wa_sync.visible import visible_json

FORMAT_VERSION = 1
REDACTED = "[REDACTED]"
SECRET_VARIABLES = ("TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET")
# Shorter values are not credentials (an unset secret in CI is ""); scrubbing them would
# mangle ordinary text.
MIN_SECRET_LENGTH = 8


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ReportWriter:
    """Writes the audit trail; use as a context manager, or, for an apply that stopped
    before it, `stopped_before_any_change`. `write` is thread-safe."""

    def __init__(
        self,
        path: str,
        *,
        environ: Mapping[str, str],
        secrets: Iterable[str] = (),
        repo_root: str | None = None,
    ):
        self.path = path
        self.environ = environ
        self.repo_root = repo_root
        values = [environ.get(name, "") for name in SECRET_VARIABLES] + list(secrets)
        # longest first, so that a secret containing another is redacted whole
        self._secrets = sorted(
            {v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True
        )
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._counts: Counter[str] = Counter()
        self._changes = 0
        self._redactions = 0
        self.stopped_by = ""  # why the apply stopped before the end, if it did
        self.not_read: dict[str, str] = {}  # customers Twilio did not answer for: why
        self.failure: OSError | None = None  # the write that failed; nothing more is written
        self.exit_code: int | None = None  # the apply's, when it is known as the report ends
        self.before_any_change = False  # stopped before its first write
        self.started_at = _now()
        self.opened = False  # written to, or tried: the report is this run's from then on

    def __enter__(self) -> ReportWriter:
        self.opened = True
        try:
            self._file = open(self.path, "w", encoding="utf-8", newline="\n")
            self._emit(self.header())
        except OSError as exc:
            self._close_quietly()
            raise self._cannot_write(exc) from exc
        return self

    def stopped_before_any_change(
        self, why: str, exit_code: int, *, another_apply_runs: bool = False
    ) -> None:
        """The whole report of an apply that stopped before it opened this one, written
        at once (`write_output`): the header and a summary of no change, `stopped_by`
        `why` (the words of its error), with its exit code. Unwritable: a UsageError.
        When `another_apply_runs` (it holds the lock), a report at the path that has no
        summary yet may be the one it is writing: replaced, it would be lost from view
        (that apply writes on into the file taken away), so it is left as it is."""
        self.opened = True
        if another_apply_runs and _unfinished(self.path):
            raise UsageError(
                f"--report {self.path} holds a report without its summary, which the apply "
                "that holds the lock may be writing: it is left as it is, and this run's "
                "report is not written. Give each apply a --report path of its own."
            )
        self.stopped_by, self.exit_code, self.before_any_change = why, exit_code, True
        with self._lock:
            text = self._line(self.header())
            text += self._line(self.summary())
        try:
            write_output(self.path, text)
        except OSError as exc:
            raise self._cannot_write(exc) from exc

    def _cannot_write(self, exc: OSError) -> UsageError:
        return UsageError(
            f"--report {self.path}: cannot write it: {exc.strerror or exc}. Nothing was changed."
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            if self._file is None:
                return
            if self.failure is not None:
                self._close_quietly()
                return
            summary = self.summary(interrupted_by=exc_type.__name__ if exc_type else "")
            with contextlib.suppress(OSError):  # nothing more can be said
                self._emit_locked(summary)
                os.fsync(self._file.fileno())
            self._close_quietly()

    def summary(self, *, interrupted_by: str = "") -> dict[str, Any]:
        """The last line: what was done, and why the apply stopped if it did."""
        said: dict[str, Any] = {}
        if self.stopped_by:
            said["stopped_by"] = self.stopped_by
        if self.before_any_change:
            said["before_any_change"] = True
        if self.not_read:
            said["not_read"] = [
                {"customer": cid, "reason": why} for cid, why in sorted(self.not_read.items())
            ]
        if interrupted_by:
            said["interrupted_by"] = interrupted_by
        if self.exit_code is not None:
            said["exit_code"] = self.exit_code
        said = self._scrub(said)  # first, so that `redacted` counts its own redactions too
        return {
            "type": "summary",
            "completed": not interrupted_by and not self.stopped_by,
            "changes": self._changes,
            "counts": dict(sorted(self._counts.items())),
            "redacted": self._redactions,
            "finished_at": _now(),
            **said,
        }

    def _close_quietly(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one change's record (`Outcome.as_record()`), flushed at once."""
        line = {"type": "change", **record}
        with self._lock:
            if self._file is None:
                raise RuntimeError("ReportWriter.write() outside its `with` block")
            if self.failure is not None:
                return
            self._changes += 1
            self._counts[str(record.get("result", "unknown"))] += 1
            try:
                self._emit_locked(line)
            except OSError as exc:
                self.failure = exc
                raise

    def header(self) -> dict[str, Any]:
        commit, dirty = git_state(self.environ, self.repo_root)
        return {
            "type": "header",
            "format_version": FORMAT_VERSION,
            "started_at": self.started_at,
            "wa_sync_version": __version__,
            "git_commit": commit,
            "git_dirty": dirty,
            "ci": ci_context(self.environ),
        }

    def _emit(self, record: Mapping[str, Any]) -> None:
        with self._lock:
            self._emit_locked(record)

    def _emit_locked(self, record: Mapping[str, Any]) -> None:
        assert self._file is not None
        self._file.write(self._line(record))
        self._file.flush()

    def _line(self, record: Mapping[str, Any]) -> str:
        """One JSON line, scrubbed of secrets; the caller holds the lock."""
        text = visible_json(json.dumps(self._scrub(record), ensure_ascii=False, default=str))
        for secret in self._secrets:  # the last line of defence, after the JSON escaping
            for form in {secret, json.dumps(secret, ensure_ascii=False)[1:-1]}:
                if form in text:
                    self._redactions += text.count(form)
                    text = text.replace(form, REDACTED)
        return text + "\n"

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    self._redactions += value.count(secret)
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, Mapping):
            return {self._scrub(str(k)): self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._scrub(v) for v in value]
        return value


def git_state(environ: Mapping[str, str], repo_root: str | None) -> tuple[str | None, bool | None]:
    """The commit being applied: the estate's `git rev-parse HEAD`, else (no git work tree)
    CI's (GITHUB_SHA, CI_COMMIT_SHA), which names the commit that started the run, not
    the one checked out (a re-run of an older push that checks out the newest commit);
    and whether the work tree had uncommitted changes (None when git cannot tell)."""
    head = _git(["rev-parse", "HEAD"], repo_root)
    commit = environ.get("GITHUB_SHA") or environ.get("CI_COMMIT_SHA") or None
    status = _git(["status", "--porcelain", "--untracked-files=no"], repo_root)
    dirty = None if status is None else bool(status.strip())
    return (head.strip() if head else commit), dirty


def _git(args: list[str], cwd: str | None) -> str | None:
    try:
        proc = subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def ci_context(environ: Mapping[str, str]) -> dict[str, str | None] | None:
    """Who ran this, where: GitHub Actions or GitLab CI; None outside CI."""
    e = environ
    if e.get("GITHUB_ACTIONS") == "true" or e.get("GITHUB_RUN_ID"):
        run_id = e.get("GITHUB_RUN_ID")
        server, repo = e.get("GITHUB_SERVER_URL", "https://github.com"), e.get("GITHUB_REPOSITORY")
        run_url = f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else None
        attempt = e.get("GITHUB_RUN_ATTEMPT")
        if run_url and attempt and attempt != "1":
            run_url += f"/attempts/{attempt}"
        return {
            "provider": "github-actions",
            "run_id": run_id,
            "run_url": run_url,
            "actor": e.get("GITHUB_ACTOR"),
            "ref": e.get("GITHUB_REF"),
            "workflow": e.get("GITHUB_WORKFLOW"),
            "event": e.get("GITHUB_EVENT_NAME"),
        }
    if e.get("GITLAB_CI") == "true":
        return {
            "provider": "gitlab-ci",
            "run_id": e.get("CI_PIPELINE_ID"),
            "run_url": e.get("CI_PIPELINE_URL") or e.get("CI_JOB_URL"),
            "actor": e.get("GITLAB_USER_LOGIN"),
            "ref": e.get("CI_COMMIT_REF_NAME"),
            "workflow": e.get("CI_PROJECT_PATH"),
            "event": e.get("CI_PIPELINE_SOURCE"),
        }
    if e.get("CI", "").lower() in ("true", "1"):
        keys = ("provider", "run_id", "run_url", "actor", "ref", "workflow", "event")
        return {k: ("unknown" if k == "provider" else None) for k in keys}
    return None


def _unfinished(path: str) -> bool:
    """Whether `path` is a regular file holding a report whose last line is no summary."""
    try:
        if not os.path.isfile(path):
            return False
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = [line for line in handle.read().splitlines() if line.strip()]
    except OSError:
        return False  # unreadable: the write says why, if it fails too
    if not lines:
        return False
    try:
        last = json.loads(lines[-1])
        first = json.loads(lines[0])
    except ValueError:
        return False  # not a report
    is_report = isinstance(first, dict) and first.get("type") == "header"
    return is_report and not (isinstance(last, dict) and last.get("type") == "summary")
