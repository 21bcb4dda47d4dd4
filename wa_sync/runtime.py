"""What a command may touch of the outside world, passed in so tests can replace it."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
    no_color: bool = False  # --no-color, set by cli.main for what its command does not print
    # What a command leaves for the end of the process to drop (see keep_until_exit).
    kept: list[object] = field(default_factory=list, repr=False)

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

    def keep_until_exit(self, *objects: object) -> None:
        """Hold large results (the model, the live state, a plan's working memory) for as
        long as this Runtime lives: the command-line entry point ends the process
        without freeing them one by one, which took a tenth of a second at 1,000
        customers, for memory the process was about to give back anyway."""
        self.kept.extend(objects)

    def use_color(self, *, no_color_flag: bool, stream_isatty: bool | None = None) -> bool:
        """Colour (and a live progress line) only on a terminal that can show them: never
        with --no-color, NO_COLOR (no-color.org) or TERM=dumb."""
        tty = self.stdout_isatty if stream_isatty is None else stream_isatty
        plain = (
            no_color_flag
            or self.no_color
            or self.environ.get("NO_COLOR")
            or self.environ.get("TERM") == "dumb"
        )
        return tty and not plain


def _isatty(stream: TextIO | None) -> bool:
    try:
        return bool(stream and stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Loading makes hundreds of thousands of small objects that live until the end
    of the command (the model, its rendered templates, the live state): the cycle
    collector's full passes over them took over a second at 1,000 customers and
    found nothing to free. It runs again when the outermost user is done, over
    objects made from then on (what exists is frozen, or its first pass would walk
    it all)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()
