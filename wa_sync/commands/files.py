"""Writing files: those `new` and `import` make in the repository (and what they read
back of a customer file already there), and output the user names (`apply --report
FILE`)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import yaml

from wa_sync.config.settings import load_settings
from wa_sync.errors import ConfigInvalid, UsageError
from wa_sync.model import Flow


def settings_flow(root: str, *, way_out: str) -> Flow:
    """settings.onboarding_flow, the flow of a customer file `new` or `import` writes where
    nothing else tells; never guessed from a wa-sync.yaml that does not validate (its
    onboarding_flow may be the line with the typo): `way_out` ends the error's fix."""
    try:
        return load_settings(root).onboarding_flow
    except ConfigInvalid as exc:
        raise UsageError(
            "wa-sync.yaml does not validate, and its settings.onboarding_flow decides the "
            f"customer's flow: fix it first (`wa-sync validate`), {way_out}:\n{exc}"
        ) from exc


def adopted_account(path: Path) -> str | None:
    """The `account_sid` the customer file at `path` adopts; None when it adopts none or
    cannot be read as YAML (`validate` says why). Never reads a FIFO or a device."""
    if not path.is_file():
        return None
    try:
        return adopted_in(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def adopted_in(text: str) -> str | None:
    """The `account_sid` of a customer file's text, as `adopted_account`."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    sid = doc.get("account_sid") if isinstance(doc, dict) else None
    return sid if isinstance(sid, str) and sid else None


def write_file(target: Path, text: str, *, force: bool, shown: Path | None = None) -> None:
    """`put_file` (renamed into place with --force, else linked), in a directory made if
    missing; a UsageError that names the file, without --force over a file that appeared
    meanwhile too. `shown` is the path the messages name (default: the target)."""
    shown = shown or target
    make_directory(target.parent)
    try:
        put_file(target, text, replace=force)
    except FileExistsError as exc:
        raise UsageError(f"{shown} already exists; pass --force to replace it") from exc
    except OSError as exc:
        raise UsageError(f"cannot write {shown}: {exc.strerror or exc}") from exc


def put_file(target: Path, text: str, *, replace: bool) -> None:
    """Write beside the target, then rename (`replace`) or link it into place: never half
    a file, never through a symbolic link or into a FIFO that sits at the target, and
    without `replace` never over a file that is there (FileExistsError). Raises OSError."""
    # a name of its own: one left by a killed run whose process id is reused (containers)
    tmp = target.with_name(f".wa-sync.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        if replace:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_output(path: str, text: str) -> None:
    """Write `text` to the file the user named for output, where a shell redirection
    would (through a symbolic link; into a FIFO or a device such as /dev/stdout as it
    is, since renaming over one would take it away from its reader), but a regular file
    whole: `put_file` replaces it, so that no reader finds half of it, nor the start of
    the file it replaces. Its directory is not made. Raises OSError."""
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        with open(target, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        return
    put_file(target, text, replace=True)


def make_directory(path: Path) -> None:
    """`path` and its parents as directories; a UsageError that names a file in the way
    (mkdir says only "File exists", which read as if the target were there)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        blocker = next((p for p in [path, *path.parents] if p.is_file()), path)
        raise UsageError(
            f"{blocker} is a file where a directory is needed: move or rename it"
        ) from exc
    except OSError as exc:
        raise UsageError(f"cannot make the directory {path}: {exc.strerror or exc}") from exc
