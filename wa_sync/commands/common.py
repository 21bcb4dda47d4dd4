"""What the commands that talk to Twilio share: load, scope, connect, read, plan."""

from __future__ import annotations

import difflib
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from wa_sync.commands.background import cancel as cancel_load
from wa_sync.commands.background import early_model, load_in_background
from wa_sync.config.files import MAX_FILE_BYTES, YamlFileError, read_capped, read_text
from wa_sync.errors import Problem, UsageError, WaSyncError
from wa_sync.model import Config, LiveEstate
from wa_sync.plan.scope import select_customers
from wa_sync.render import EMULATOR_BANNER
from wa_sync.runtime import Runtime, no_cycle_collection

if TYPE_CHECKING:
    from wa_sync.gateway.base import Gateway
    from wa_sync.plan.change import Plan

__all__ = [
    "EMULATOR_BANNER",
    "Loaded",
    "connect",
    "customer_hints",
    "load",
    "load_and_connect",
    "no_cycle_collection",
    "read_and_plan",
]

# _LATER: the loader, the planner, git's view, the settings' reader and the renderers
# are imported where they are used: a command that reads Twilio forks its load and
# sends its first request before those modules (Jinja, the lint, deepdiff, YAML, the
# schemas, the plan's types and renderers: 0.18 s) are imported; the process that
# loads imports them after the fork, this one while Twilio answers.

# The interpreter lock's switch interval while a command reads Twilio (Python's is 5 ms).
READER_SWITCH_INTERVAL = 0.0005

CustomerHint = tuple[str, str | None]  # a customer id and its file's account_sid, if any

# A top-level `account_sid: AC...` line of a customer file (a hint; the loader decides),
# ending in LF or CRLF.
_ACCOUNT_SID_LINE = re.compile(
    r"""^account_sid:[ \t]*(['"]?)(AC[0-9a-fA-F]{32})\1[ \t]*(?:#[^\r\n]*)?\r?$""",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Loaded:
    config: Config
    scope: tuple[str, ...]
    known: tuple[str, ...] = ()  # every customer id with a file, loaded or not
    # for a model used before the lint's verdict: waits for it (raises ConfigInvalid)
    verdict: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    def confirm(self) -> None:
        """Make sure the configuration is valid (it is, unless loaded early) and its
        warnings are printed; call before using anything made from it."""
        if self.verdict is not None:
            self.verdict()


def load(
    root: str,
    *,
    only: Sequence[str] | None,
    shard: tuple[int, int] | None = None,
    err: TextIO,
    loading: Callable[[], tuple[Config, list[Problem]]] | None = None,
) -> Loaded:
    """Load and validate the repository (raises ConfigInvalid), print its warnings,
    and choose the customers in scope. `loading` gives the result of a load already
    started (see background.load_in_background)."""
    if loading is None:
        from wa_sync.config.repo import load_repo  # see _LATER

        config, warnings = load_repo(root, customers=only or None)
    else:
        config, warnings = loading()
    print_warnings(warnings, err)
    known = _known(config, root)
    return Loaded(config, select_customers(known, only=only, shard=shard), known)


def _known(config: Config, root: str) -> tuple[str, ...]:
    """Every customer id, also those --customer left unloaded ("Did you mean", and
    which subaccounts have no file)."""
    return tuple(sorted({c.id for c in config.customers} | set(customer_file_ids(root))))


def customer_file_ids(root: str) -> list[str]:
    return [path.stem for path in (Path(root) / "customers").glob("*.yaml")]


def check_known(root: str, customer_id: str) -> None:
    """A usage error for a customer id without a file, with the close ones."""
    known = customer_file_ids(root)
    if customer_id in known or not (Path(root) / "customers").is_dir():
        return  # load() reports a missing repository
    close = difflib.get_close_matches(customer_id, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UsageError(
        f"no customer {customer_id!r}: there is no file customers/{customer_id}.yaml.{hint} "
        f"Known customers: {', '.join(sorted(known)) or 'none'}."
    )


def print_warnings(warnings: Sequence[Problem], err: TextIO) -> None:
    for problem in warnings:
        err.write(f"warning: {problem}\n")


@contextmanager
def connect(runtime: Runtime, *, root: str, emulator: bool, parallelism: int) -> Iterator[Gateway]:
    # Imported here, not with this module: the gateway's modules (http.client, ssl,
    # httptools) are imported after the configuration's load is forked.
    from wa_sync.connect import open_gateway

    with open_gateway(
        environ=runtime.environ, root=root, emulator=emulator, parallelism=parallelism
    ) as gateway:
        yield gateway


@contextmanager
def load_and_connect(
    runtime: Runtime,
    *,
    root: str,
    only: Sequence[str] | None,
    shard: tuple[int, int] | None,
    emulator: bool,
    parallelism: int | None = None,
) -> Iterator[tuple[Loaded, Gateway]]:
    """`load` and `connect` overlapped: the configuration loads, renders and lints in a
    child process on another core (a large repository; see background.py) while the
    gateway opens and starts the reads a plan needs (Gateway.prefetch, from the
    customer files' names and `account_sid` lines), so that waiting on Twilio and the
    CPU work happen at once. Errors keep the order of `load` then
    `connect`: an invalid configuration is reported before missing credentials.
    `parallelism` overrides the settings' for the gateway."""
    with ExitStack() as stack:
        stack.enter_context(no_cycle_collection())
        stack.enter_context(prompt_switching())
        gateway: Gateway | None = None
        loading = None
        if Path(root).is_dir():  # else load reports it, and nothing is created there
            # on another core, started before any thread of this process exists
            files = customer_file_ids(root)  # listed once, before the fork and the reads
            loading = load_in_background(root, only or None, len(files))
            stack.callback(cancel_load, loading)
        loaded = None
        if loading is not None and gateway is not None:
            loaded = _early(loading, root, only=only, shard=shard, err=runtime.stderr)
        if loaded is None:
            loaded = load(root, only=only, shard=shard, err=runtime.stderr, loading=loading)
        if gateway is None:
            workers = parallelism or loaded.config.settings.parallelism
            gateway = stack.enter_context(
                connect(runtime, root=root, emulator=emulator, parallelism=workers)
            )
        yield loaded, gateway


@contextmanager
def prompt_switching(interval: float = READER_SWITCH_INTERVAL) -> Iterator[None]:
    """A short switch interval for the interpreter lock in this block: when an answer
    comes while this thread computes (unpickling the model, diffing), the thread that
    reads Twilio gets the lock after 0.5 ms instead of the default 5 ms. Measured on a
    1,000-customer no-op plan when 16 threads read: 2 % faster, interleaved runs."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _early(
    loading: Callable[[], tuple[Config, list[Problem]]],
    root: str,
    *,
    only: Sequence[str] | None,
    shard: tuple[int, int] | None,
    err: TextIO,
) -> Loaded | None:
    """The model of a background load before its lint is done, with the verdict to
    wait for (Loaded.confirm); None when there is none to use early, or when the
    scope is wrong (then `load` reports the configuration's errors first)."""
    config = early_model(loading)
    if config is None:
        return None
    known = _known(config, root)
    try:
        scope = select_customers(known, only=only, shard=shard)
    except WaSyncError:
        return None
    outcome: list[BaseException | None] = []

    def verdict() -> None:
        if not outcome:
            try:
                _config, warnings = loading()
            except BaseException as exc:
                outcome.append(exc)
                raise
            outcome.append(None)
            print_warnings(warnings, err)
        elif outcome[0] is not None:
            raise outcome[0]

    return Loaded(config, scope, known, verdict)


def hinted_scope(
    files: Sequence[str], *, only: Sequence[str] | None, shard: tuple[int, int] | None
) -> Sequence[str] | None:
    """The ids of the customer files (`files`: customer_file_ids) in scope; None when
    the scope is invalid (load reports that)."""
    try:
        return select_customers(files, only=only, shard=shard)
    except WaSyncError:
        return None


def customer_hints(root: str, scope: Sequence[str]) -> list[CustomerHint]:
    """(customer id, account_sid or None) of the customer files of `scope`, read
    without parsing them."""
    plain = _plain_files(Path(root) / "customers")
    hints: list[CustomerHint] = []
    for customer_id in scope:
        name = f"{customer_id}.yaml"
        text = _plain_text(plain[name]) if name in plain else _checked_text(root, name)
        # the regular expression only where such a line may be: 8 ms of 25 at 1,000
        found = _ACCOUNT_SID_LINE.search(text) if _may_have_account_sid(text) else None
        hints.append((customer_id, found.group(2) if found else None))
    return hints


def _may_have_account_sid(text: str) -> bool:
    """False when no line of `text` starts with `account_sid` (as _ACCOUNT_SID_LINE's
    `^` finds lines: after a newline)."""
    return text.startswith("account_sid") or "\naccount_sid" in text


def _plain_files(directory: Path) -> dict[str, str]:
    """Name -> path of the regular files (not links) directly in `directory`, when it is
    itself a real directory of the repository (not a link): these need none of
    read_text's per-file checks, which cost ten times the read at 1,000 customers."""
    try:
        if not stat.S_ISDIR(os.lstat(directory).st_mode):
            return {}
        with os.scandir(directory) as entries:
            return {e.name: e.path for e in entries if e.is_file(follow_symlinks=False)}
    except OSError:
        return {}


def _plain_text(path: str) -> str:
    """A hint's text: as read_text reads it (UTF-8, at most MAX_FILE_BYTES), or ""."""
    try:
        with open(path, "rb") as handle:
            raw = read_capped(handle, os.fstat(handle.fileno()).st_size)
    except OSError:
        return ""
    if len(raw) > MAX_FILE_BYTES:
        return ""
    return raw.decode("utf-8-sig", errors="replace")


def _checked_text(root: str, name: str) -> str:
    try:  # as the loader reads: never a FIFO, a device or a link out of the root
        return read_text(root, f"customers/{name}")
    except (YamlFileError, OSError):
        return ""


def read_and_plan(
    loaded: Loaded,
    gateway: Gateway,
    *,
    prune: bool | None,
    allow_mass_delete: bool,
    runtime: Runtime,
    digests: bool = True,
) -> tuple[LiveEstate, Plan]:
    """Read Twilio and plan; `digests=False` for a plan that is only shown, never saved
    (see PlanBuilder)."""
    from wa_sync.gitinfo import cause_from_git  # see _LATER
    from wa_sync.plan.build import PlanBuilder

    customers = [c for c in loaded.config.customers if c.id in loaded.scope]
    builder = PlanBuilder(
        loaded.config,
        customers=loaded.scope,
        prune=prune,
        allow_mass_delete=allow_mass_delete,
        emulator=gateway.emulated,
        cause_of=cause_from_git(loaded.config.root, runtime.environ),
        estate=loaded.known,
        digests=digests,
    )
    # each customer is diffed while the others are still being read (and, with a
    # model loaded early, while the lint still runs)
    try:
        live = gateway.read(customers, on_customer=builder.add)
    except WaSyncError:
        loaded.confirm()  # a configuration error is reported before Twilio's
        raise
    builder.prepare()  # while a model loaded early still waits for its lint
    loaded.confirm()
    runtime.keep_until_exit(loaded, live, builder)
    return live, builder.finish(live)
