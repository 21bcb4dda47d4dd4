"""Reading a configuration file's text: inside the repository, regular, capped, UTF-8."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import BinaryIO

from wa_sync.errors import Location, Problem, Severity, WaSyncError

MAX_FILE_BYTES = 1024 * 1024  # 1 MiB: far beyond any hand-written configuration file
UNREADABLE = "make it a file wa-sync can read: check its permissions, or where its link points"


class YamlFileError(WaSyncError):
    """A file that cannot be read as plain YAML data; `problem` says where and why."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def read_text(root: str | os.PathLike[str], relative: str) -> str:
    """The text of `root/relative`: a regular UTF-8 file inside the root, at most
    MAX_FILE_BYTES long; raises YamlFileError otherwise."""
    root = Path(root)
    try:
        real = _inside(root, relative)
        if real is None:
            raise file_error(
                relative,
                None,
                "is a symbolic link to a file outside the repository",
                "keep every configuration file inside the repository; copy the file in",
            )
        info = real.stat()
    except (OSError, RuntimeError) as exc:  # a missing file or a symlink loop
        raise file_error(relative, None, f"cannot be read: {_os_reason(exc)}", UNREADABLE) from exc
    if stat.S_ISDIR(info.st_mode):
        raise file_error(
            relative,
            None,
            "is a directory, but a YAML file is expected here",
            "move the directory elsewhere, or rename it without .yaml",
        )
    if not stat.S_ISREG(info.st_mode):
        raise file_error(relative, None, "is not a regular file", "replace it with a YAML file")
    if info.st_size > MAX_FILE_BYTES:
        raise file_error(relative, None, _too_large(info.st_size), "split or shorten the file")
    try:
        with open(real, "rb") as handle:
            raw = read_capped(handle, info.st_size)
    except OSError as exc:
        raise file_error(relative, None, f"cannot be read: {_os_reason(exc)}", UNREADABLE) from exc
    if len(raw) > MAX_FILE_BYTES:  # grew while we looked
        raise file_error(relative, None, _too_large(len(raw)), "split or shorten the file")
    return decode(raw, relative)


def read_capped(handle: BinaryIO, expected: int) -> bytes:
    """At most MAX_FILE_BYTES + 1 bytes of `handle`: one more tells the file is too
    large. A buffer of the expected size, not of the cap, is made first (a 1 MiB one
    per file was most of the cost of reading 1,000 small files)."""
    raw = handle.read(min(expected, MAX_FILE_BYTES) + 1)
    if len(raw) > expected:  # grew since its size was taken
        raw += handle.read(MAX_FILE_BYTES + 1 - len(raw))
    return raw


def _inside(root: Path, relative: str) -> Path | None:
    """The file's real path, or None when a symbolic link leads outside `root`. Plain
    files cost one lstat per path component; only links are resolved."""
    path = root
    for part in Path(relative).parts:
        path = path / part
        if stat.S_ISLNK(os.lstat(path).st_mode):
            real = (root / relative).resolve(strict=True)
            return real if real.is_relative_to(root.resolve(strict=True)) else None
    return path


def decode(raw: bytes, file: str) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # UTF-32 LE starts so too
        raise file_error(
            file, 1, "is UTF-16 (or UTF-32) encoded, not UTF-8", "save the file as UTF-8"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise file_error(
            file,
            line,
            f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            "save the file as UTF-8",
        ) from exc


def _too_large(size: int) -> str:
    return f"is too large ({grouped(size)} bytes; the limit is {grouped(MAX_FILE_BYTES)} per file)"


def grouped(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return "a symbolic link loops back on itself"


def file_error(file: str, line: int | None, message: str, fix: str = "") -> YamlFileError:
    return YamlFileError(Problem(Location(file, line), "", message, fix))


def unread_folder(folder: Path, relative: str) -> list[Problem]:
    """A warning for YAML files in a subfolder of customers/ or templates/: only
    <directory>/<name>.yaml is read, so a file filed deeper would silently drop out of
    every plan."""
    try:
        count = sum(1 for f in folder.iterdir() if f.suffix in (".yaml", ".yml"))
    except OSError:
        return []
    if not count:
        return []
    directory = relative.rpartition("/")[0]
    return [
        Problem(
            Location(relative),
            "",
            f"holds {count} YAML file(s) that wa-sync does not read: it reads only "
            f"{directory}/<name>.yaml, the name being the id",
            f"move them into {directory}/ if they are meant to be used, or out of "
            f"{directory}/ if not",
            severity=Severity.WARNING,
        )
    ]
