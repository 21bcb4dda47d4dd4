"""What a command may touch of the outside world, passed in so tests can replace it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
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
    # raises to stop the command for a signal it recorded (wa_sync/interrupts.py); long
    # reads call it as each customer is read
    checkpoint: Callable[[], None] = field(default=lambda: None, repr=False)
    # a wait for the user's line (a prompt), in which a signal stops the command at once
    at_once: Callable[[], AbstractContextManager[None]] = field(default=nullcontext, repr=False)
    # what the command did in Twilio is done: a signal from now on changes nothing, and
    # its result is told (verify, once the code was sent)
    finishing: Callable[[], None] = field(default=lambda: None, repr=False)
    # true once apply starts no new write (a first signal while writing, the lock lost...)
    stopping: Callable[[], bool] = field(default=lambda: False, repr=False)
    # the process ends with this command (cli.entry_point): the signal handlers of the
    # commands that talk to Twilio stay in place to its end (wa_sync/interrupts.py)
    ends_process: bool = False

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
