"""Loading a large repository on another core while this process reads Twilio.

Loading is pure CPU (parse, schema, render, lint: two seconds at 1,000 customers) and
Python runs one thread at a time, so loading in a thread would only take turns with
the reads. `load_in_background` forks before any thread exists; the child loads the
model and, as soon as the files make one without errors, forks the lint into a
grandchild (which shares the model, nothing copied) while it sends the model
(pickled); then it passes on the lint's verdict: the warnings, or every problem when
it is invalid. The parent, reading Twilio meanwhile, may diff with the model while the
lint runs (`early_model`), and uses nothing of that work unless the verdict then says
valid. The child leads its own process group, so cancelling stops the lint too.

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
from typing import Any, BinaryIO

from wa_sync.errors import ConfigInvalid, Problem
from wa_sync.model import Config

# The loader (wa_sync.config.repo: Jinja, the schemas, the lint) is imported by the
# process that loads, after the fork: the parent's first request to Twilio goes out a
# tenth of a second sooner, and needs those modules only when the model arrives.

# Below this many customer files a second process costs more than it saves.
MIN_CUSTOMERS = 100
# A message between our processes: its length in this many bytes, then the pickle.
_LENGTH_BYTES = 8

Loaded = tuple[Config, list[Problem]]


def _mapping(items: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(items)


# The model is read-only: its mappings are MappingProxyType, which pickle cannot take.
copyreg.pickle(MappingProxyType, lambda proxy: (_mapping, (dict(proxy),)))


def load_in_background(
    root: str, customers: Sequence[str] | None, customer_files: int | None = None
) -> Callable[[], Loaded]:
    """Start `load_repo(root, customers)`; the returned function gives its result or
    raises its ConfigInvalid. Call it exactly once (or `cancel` it). `customer_files`:
    how many files customers/ has, when the caller has listed them already."""

    def here() -> Loaded:
        from wa_sync.config.repo import load_repo

        return load_repo(root, customers=customers)

    if customer_files is None:
        customer_files = _customer_files(root)
    if not hasattr(os, "fork") or customer_files < MIN_CUSTOMERS:
        return here

    def child(writer: int) -> None:
        _own_group(0)
        _send(writer, root, customers)

    forked = _fork(child)
    if forked is None:
        return here
    pid, reader = forked
    _own_group(pid)  # here too: whichever runs first, the group exists before a cancel
    return _Pending(pid, reader, here)


def _fork(child: Callable[[int], None]) -> tuple[int, int] | None:
    """Fork a process that runs `child` with the write end of a new pipe, then ends
    without running anything else (no exit handler of this process); here: its pid and
    the read end, or None when no pipe or no fork can be had."""
    try:
        reader, writer = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:
        try:
            os.close(reader)
            child(writer)
        finally:
            os._exit(0)
    os.close(writer)
    return pid, reader


def _own_group(pid: int) -> None:
    """Make process `pid` (0: this one) the leader of a new process group."""
    with contextlib.suppress(OSError):  # already so, or already gone
        os.setpgid(pid, pid)


class _Pending:
    """The parent's end of the pipe. The child sends ("model", config) as soon as the
    files make a model without errors, then ("ok", warnings) after the lint; or
    ("invalid", problems); or ("other", None) for anything else."""

    def __init__(self, pid: int, reader: int, here: Callable[[], Loaded]):
        self.pid = pid
        self.pipe = os.fdopen(reader, "rb")
        self.here = here
        self.done = False
        self.early: Config | None = None
        self.final: tuple[str, Any] | None = None

    def model(self) -> Config | None:
        """The model before the lint has passed on it (None if there is none to use
        early); it stands only if the call to this object then returns."""
        if self.early is None and self.final is None and not self.done:
            message = self._receive()
            if message[0] == "model":
                self.early = message[1]
            else:
                self.final = message
        return self.early

    def __call__(self) -> Loaded:
        if self.done:
            raise RuntimeError("the background load was already collected")
        self.model()
        final = self.final or self._receive()
        self.done = True
        self.pipe.close()
        os.waitpid(self.pid, 0)
        kind, value = final
        if kind == "invalid":
            raise ConfigInvalid(value)
        if kind == "ok" and self.early is not None:
            return self.early, value
        return self.here()  # an error other than an invalid configuration: as usual

    def _receive(self) -> tuple[str, Any]:
        return _message(self.pipe)  # the GIL is released while waiting: reads go on

    def cancel(self) -> None:
        """Stop the child when its result is no longer wanted."""
        if self.done:
            return
        self.done = True
        try:  # the child and its lint
            os.killpg(self.pid, signal.SIGTERM)
        except OSError:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGTERM)
        self.pipe.close()
        os.waitpid(self.pid, 0)


def early_model(pending: Callable[[], Loaded]) -> Config | None:
    """The model of a background load before its lint is done, if there is one."""
    return pending.model() if isinstance(pending, _Pending) else None


def cancel(pending: Callable[[], Loaded]) -> None:
    """Cancel a background load that was not collected (nothing for an inline one)."""
    if isinstance(pending, _Pending):
        pending.cancel()


def _send(writer: int, root: str, customers: Sequence[str] | None) -> None:
    with os.fdopen(writer, "wb") as pipe:
        try:
            from wa_sync.config.repo import load_model

            config, found = load_model(root, customers)
            if any(problem.is_error for problem in found):
                outcome = _verdict(config, found)
            else:
                lint = _lint_aside(config, found)
                _put(pipe, ("model", config))
                outcome = lint()
        except BaseException:  # anything else: the parent loads again and reports it
            outcome = ("other", None)
        _put(pipe, outcome)


def _put(pipe: BinaryIO, message: tuple[str, Any]) -> None:
    """Send `message` whole: pickled here first, then written with its length, so
    that the parent reads it as fast as the pipe carries it and unpickles it at once.
    Unpickled straight from the pipe, the model came a frame at a time while this
    process was still pickling it, and the parent's reads of Twilio went a quarter
    slower for the half second that took (a 1,000-customer plan: 0.1 s of its 3.3)."""
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(len(payload).to_bytes(_LENGTH_BYTES, "big"))
    pipe.write(payload)
    pipe.flush()


def _verdict(config: Config, found: list[Problem]) -> tuple[str, Any]:
    """finish_load's outcome as a message: ("ok", warnings), ("invalid", problems) or
    ("other", None) for any other failure."""
    from wa_sync.config.repo import finish_load

    try:
        _config, warnings = finish_load(config, found)
    except ConfigInvalid as exc:
        return ("invalid", list(exc.problems))
    except BaseException:
        return ("other", None)
    return ("ok", warnings)


def _lint_aside(config: Config, found: list[Problem]) -> Callable[[], tuple[str, Any]]:
    """Start the lint of `config` in a forked grandchild, so that it runs while this
    process pickles and sends the model (a quarter of a second at 1,000 customers);
    the returned function waits for its verdict. Without a fork: lint here, later."""

    def grandchild(writer: int) -> None:
        with os.fdopen(writer, "wb") as pipe:
            _put(pipe, _verdict(config, found))

    forked = _fork(grandchild)
    if forked is None:
        return lambda: _verdict(config, found)
    pid, reader = forked

    def collect() -> tuple[str, Any]:
        with os.fdopen(reader, "rb") as pipe:
            message = _message(pipe)
        os.waitpid(pid, 0)
        return message

    return collect


def _message(pipe: BinaryIO) -> tuple[str, Any]:
    """The next (kind, value) message from a process of ours; ("other", None) when it
    died or failed otherwise."""
    try:
        head = pipe.read(_LENGTH_BYTES)
        size = int.from_bytes(head, "big")
        payload = pipe.read(size)
        if len(head) != _LENGTH_BYTES or len(payload) != size:
            return ("other", None)  # it died before or while sending
        message = pickle.loads(payload)  # noqa: S301 - our own child, through a pipe
    except Exception:
        return ("other", None)
    return message if isinstance(message, tuple) and len(message) == 2 else ("other", None)


def _customer_files(root: str) -> int:
    try:
        return sum(1 for _ in (Path(root) / "customers").glob("*.yaml"))
    except OSError:
        return 0
