"""Writing the files `new` and `import` make in the repository."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from wa_sync.errors import UsageError


def write_file(target: Path, text: str, *, force: bool, shown: Path | None = None) -> None:
    """Write beside the target, then rename (--force) or link it into place: never half
    a file, never through a symbolic link or into a FIFO that sits at the target, and
    without --force never over a file that appeared meanwhile. `shown` is the path the
    messages name (default: the target)."""
    shown = shown or target
    # a name of its own: one left by a killed run whose process id is reused (containers)
    tmp = target.with_name(f".wa-sync.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    make_directory(target.parent)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            if force:
                os.replace(tmp, target)
            else:
                os.link(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except FileExistsError as exc:
        raise UsageError(f"{shown} already exists; pass --force to replace it") from exc
    except OSError as exc:
        raise UsageError(f"cannot write {shown}: {exc.strerror or exc}") from exc


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
