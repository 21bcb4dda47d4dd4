"""Loading a large repository on another core while this process reads Twilio.

Loading is pure CPU (parse, schema, render, lint: two seconds at 1,000 customers) and
Python runs one thread at a time, so loading in a thread would only take turns with
the reads. `load_in_background` forks before any thread exists; the child runs
`load_repo` and sends back the model (pickled) or the problems that make it invalid,
and the parent, reading Twilio meanwhile, takes the result when it needs it.

Everything else, and anything unexpected (no `fork` on this platform, a child that
dies or fails in another way), falls back to loading in this process, so the errors a
user sees are the ones an in-process load gives. The child never prints and ends with
`os._exit`, running none of the parent's exit handlers.
"""

from __future__ import annotations

import contextlib
import copyreg
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from wa_sync.config.repo import load_repo
from wa_sync.errors import ConfigInvalid, Problem
from wa_sync.model import Config

# Below this many customer files a second process costs more than it saves.
MIN_CUSTOMERS = 100

Loaded = tuple[Config, list[Problem]]


def _mapping(items: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(items)


# The model is read-only: its mappings are MappingProxyType, which pickle cannot take.
copyreg.pickle(MappingProxyType, lambda proxy: (_mapping, (dict(proxy),)))


def load_in_background(root: str, customers: Sequence[str] | None) -> Callable[[], Loaded]:
    """Start `load_repo(root, customers)`; the returned function gives its result or
    raises its ConfigInvalid. Call it exactly once (or `cancel` it)."""

    def here() -> Loaded:
        return load_repo(root, customers=customers)

    if not hasattr(os, "fork") or _customer_files(root) < MIN_CUSTOMERS:
        return here
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return here
    if pid == 0:  # the child: load, send, and end without running anything else
        try:
            os.close(reader)
            _send(writer, root, customers)
        finally:
            os._exit(0)
    os.close(writer)
    return _Pending(pid, reader, here)


class _Pending:
    def __init__(self, pid: int, reader: int, here: Callable[[], Loaded]):
        self.pid = pid
        self.reader = reader
        self.here = here
        self.done = False

    def __call__(self) -> Loaded:
        if self.done:
            raise RuntimeError("the background load was already collected")
        self.done = True
        with os.fdopen(self.reader, "rb") as pipe:
            data = pipe.read()  # the GIL is released while waiting: reads go on
        os.waitpid(self.pid, 0)
        try:
            kind, value = pickle.loads(data)  # noqa: S301 - our own child, through a pipe
        except Exception:  # the child died or failed otherwise: load here, as usual
            return self.here()
        if kind == "invalid":
            raise ConfigInvalid(value)
        if kind != "ok":  # an error other than an invalid configuration: as usual
            return self.here()
        config, warnings = value
        return config, warnings

    def cancel(self) -> None:
        """Stop the child when its result is no longer wanted."""
        if self.done:
            return
        self.done = True
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGTERM)
        os.close(self.reader)
        os.waitpid(self.pid, 0)


def cancel(pending: Callable[[], Loaded]) -> None:
    """Cancel a background load that was not collected (nothing for an inline one)."""
    if isinstance(pending, _Pending):
        pending.cancel()


def _send(writer: int, root: str, customers: Sequence[str] | None) -> None:
    try:
        outcome: tuple[str, Any] = ("ok", load_repo(root, customers=customers))
    except ConfigInvalid as exc:
        outcome = ("invalid", list(exc.problems))
    except BaseException:  # anything else: the parent loads again and reports it
        outcome = ("other", None)
    data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    with os.fdopen(writer, "wb") as pipe:
        pipe.write(data)


def _customer_files(root: str) -> int:
    try:
        return sum(1 for _ in (Path(root) / "customers").glob("*.yaml"))
    except OSError:
        return 0
