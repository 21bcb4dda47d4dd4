"""What a command may touch of the outside world, passed in so tests can replace it."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Runtime:
    environ: Mapping[str, str]
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    stdin_isatty: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    cwd: str = field(default_factory=os.getcwd)

    @classmethod
    def from_os(cls) -> Runtime:
        return cls(
            environ=os.environ,
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_isatty=_isatty(sys.stdin),
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
        )

    def use_color(self, *, no_color_flag: bool, stream_isatty: bool | None = None) -> bool:
        """Colour only on a terminal, never with --no-color or NO_COLOR (no-color.org)."""
        tty = self.stdout_isatty if stream_isatty is None else stream_isatty
        return tty and not no_color_flag and not self.environ.get("NO_COLOR")


def _isatty(stream: TextIO | None) -> bool:
    try:
        return bool(stream and stream.isatty())
    except (AttributeError, ValueError):
        return False
