"""What the commands that talk to Twilio share: load, scope, connect, read, plan.

A command loads and validates the whole configuration first, then opens the gateway
with the parallelism the settings give, then reads Twilio: errors come in that order
(an invalid configuration before missing credentials), and nothing is sent to Twilio
for a configuration that is not valid.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from wa_sync.commands.elsewhere import read_elsewhere
from wa_sync.commands.files import adopted_in
from wa_sync.config.repo import check_root, load_repo
from wa_sync.connect import open_gateway
from wa_sync.errors import Problem, TwilioError, UsageError, WaSyncError
from wa_sync.gateway.base import Gateway
from wa_sync.gitinfo import cause_from_git, changed_paths, file_at
from wa_sync.interrupts import Signals, Stop, handled
from wa_sync.model import Config, Customer, LiveEstate, Settings
from wa_sync.plan.build import PlanBuilder
from wa_sync.plan.change import Plan
from wa_sync.plan.ownership import check_ownership
from wa_sync.plan.scope import CUSTOMERS_DIR, ChangedFiles, select_customers
from wa_sync.progress import read_with_progress
from wa_sync.render import EMULATOR_BANNER
from wa_sync.runtime import Runtime
from wa_sync.wording import listed

__all__ = [
    "EMULATOR_BANNER",
    "Loaded",
    "connect",
    "customer_file_ids",
    "load",
    "load_and_connect",
    "read_and_plan",
    "read_owned",
]


@dataclass(frozen=True)
class Loaded:
    config: Config
    scope: tuple[str, ...]
    known: tuple[str, ...] = ()  # every customer id with a file, loaded or not
    # --changed-since: the revision, and the customers whose file is gone since
    base: str | None = None
    gone: tuple[str, ...] = ()
    gone_adopted: Mapping[str, str] = field(default_factory=dict)  # id -> its account_sid
    shard: tuple[int, int] | None = None  # --shard K/N

    @property
    def in_scope(self) -> list[Customer]:
        """The loaded customers in scope, in the configuration's order."""
        return [c for c in self.config.customers if c.id in self.scope]


def load(
    root: str,
    *,
    only: Sequence[str] | None,
    shard: tuple[int, int] | None = None,
    changed_since: str | None = None,
    err: TextIO,
) -> Loaded:
    """Load and validate the repository (raises ConfigInvalid), print its warnings,
    and choose the customers in scope: `--customer`, `--shard`, and with
    `changed_since` only those whose files, or library templates they use, differ
    from that git revision (SPEC §3)."""
    check_root(root)
    changed = ChangedFiles.of(changed_paths(root, changed_since)) if changed_since else None
    files = customer_file_ids(root)
    wanted = None if only is None else list(only)
    if changed is not None and not changed.everything and not changed.libraries:
        # only customer files changed: the others need not even be read
        wanted = changed.customers_in(files, only)
    config, warnings = load_repo(root, customers=wanted)
    claimants = _claimants(root, config, set(files) - set(wanted or files))
    if claimants:  # a second claim on a subaccount in scope: load it, so that it is refused
        config, warnings = load_repo(root, customers=[*(wanted or ()), *claimants])
    print_warnings(warnings, err)
    known = tuple(sorted({c.id for c in config.customers} | set(files)))
    scope = select_customers(known, only=only, shard=shard)
    if changed is None or changed_since is None:
        return Loaded(config, scope, known, shard=shard)
    gone = select_customers(changed.gone(known), shard=shard)
    return Loaded(
        config,
        changed.select(config, scope),
        known,
        base=changed_since,
        gone=gone,
        gone_adopted=_adopted_at(root, changed_since, gone),
        shard=shard,
    )


def _adopted_at(root: str, ref: str, customer_ids: Sequence[str]) -> dict[str, str]:
    """The subaccount each deleted customer file adopted at `ref` (its `account_sid`): one
    the file did not name `wa-sync:<id>` is found by no name, and must be reported all
    the same (SPEC §4.5)."""
    found = {}
    for customer_id in customer_ids:
        text = file_at(root, ref, f"{CUSTOMERS_DIR}/{customer_id}.yaml")
        if text is not None and (sid := adopted_in(text)):
            found[customer_id] = sid
    return found


def _claimants(root: str, config: Config, others: set[str]) -> list[str]:
    """The customers out of scope whose file names the `account_sid` of one in scope.

    A scoped plan (`--customer`, `--changed-since`) loads only its customers' files, yet
    must refuse to write into a subaccount that another file adopts (SPEC §4.3); a plain
    search of those files for the SIDs picks the few worth loading in full."""
    sids = {c.account_sid for c in config.customers if c.account_sid}
    if not sids or not others:
        return []
    return [cid for cid in sorted(others) if _mentions(root, cid, sids)]


def _mentions(root: str, customer_id: str, sids: set[str]) -> bool:
    try:
        text = (Path(root) / "customers" / f"{customer_id}.yaml").read_text(errors="replace")
    except OSError:
        return True  # loading it in full reports why it cannot be read
    return any(sid in text for sid in sids)


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
def signals_recorded(runtime: Runtime, policy: Signals | None = None) -> Iterator[Signals]:
    """SIGINT and SIGTERM handled by `policy` (by default a command's that only reads) in
    this block: a first signal is recorded and stops the command at `runtime.checkpoint`,
    called as each customer is read, or at the block's end (wa_sync/interrupts.py). An
    error that ends the block after such a signal, before any write, is told as the
    signal: on a terminal, Ctrl-C stops the command's git as well (gitinfo.py), which
    then fails. Past the block's end the command's result stands: a signal changes
    nothing, to the process's end when it ends with the command (`runtime.ends_process`)."""
    policy = policy or Signals(Stop(), on_stop=lambda name: None)
    before = runtime.checkpoint, runtime.at_once, runtime.stopping, runtime.finishing
    with handled(policy, to_the_end=runtime.ends_process):
        runtime.checkpoint, runtime.at_once = policy.checkpoint, policy.at_once
        runtime.stopping, runtime.finishing = policy.stopping, policy.finishing
        try:
            yield policy
        except WaSyncError:
            policy.checkpoint()
            raise
        else:
            policy.checkpoint()  # a signal after the last read is not lost
            policy.finishing()
        finally:
            runtime.checkpoint, runtime.at_once, runtime.stopping, runtime.finishing = before


@contextmanager
def connect(runtime: Runtime, *, root: str, emulator: bool, parallelism: int) -> Iterator[Gateway]:
    """The gateway for the block; at its end a signal the command recorded meanwhile
    stops it, before it shows or writes anything."""
    with open_gateway(
        environ=runtime.environ,
        root=root,
        emulator=emulator,
        parallelism=parallelism,
        checkpoint=lambda: runtime.checkpoint(),  # the one in force when a request waits
        stopping=lambda: runtime.stopping(),
    ) as gateway:
        yield gateway
    runtime.checkpoint()


@contextmanager
def load_and_connect(
    runtime: Runtime,
    *,
    root: str,
    only: Sequence[str] | None,
    shard: tuple[int, int] | None,
    emulator: bool,
    parallelism: int | None = None,
    changed_since: str | None = None,
    lock: Callable[[Gateway, Settings], AbstractContextManager[object]] | None = None,
) -> Iterator[tuple[Loaded, Gateway]]:
    """`load`, then `connect` with `parallelism`, or the settings' when it is None.
    `lock(gateway, settings)` (apply's estate lock, SPEC §4.8) is held from before the
    first read."""
    loaded = load(root, only=only, shard=shard, changed_since=changed_since, err=runtime.stderr)
    workers = parallelism or loaded.config.settings.parallelism
    with (
        connect(runtime, root=root, emulator=emulator, parallelism=workers) as gateway,
        lock(gateway, loaded.config.settings) if lock is not None else nullcontext(),
    ):
        yield loaded, gateway


def read_and_plan(
    loaded: Loaded,
    gateway: Gateway,
    *,
    prune: bool | None,
    allow_mass_delete: bool,
    runtime: Runtime,
    digests: bool = True,
) -> tuple[LiveEstate, Plan]:
    """Read Twilio for the customers in scope and plan; `digests=False` for a plan that
    is only shown, never saved (see PlanBuilder). Each customer is diffed as soon as its
    state is read, while the others' answers are on their way; one whose subaccount
    Twilio does not answer for is in the plan as unread (SPEC §4.2), not an error. A
    scoped plan that registers a number also reads the senders out of its scope
    (commands/elsewhere.py)."""
    builder = PlanBuilder(
        loaded.config,
        customers=loaded.scope,
        prune=prune,
        allow_mass_delete=allow_mass_delete,
        emulator=gateway.emulated,
        cause_of=cause_from_git(
            loaded.config.root, runtime.environ, base=loaded.base, err=runtime.stderr
        ),
        estate=loaded.known,
        digests=digests,
        gone=loaded.gone,
        gone_adopted=loaded.gone_adopted,
        shard=loaded.shard,
    )
    live = read_with_progress(
        runtime, gateway, loaded.in_scope, on_customer=builder.add, on_unread=builder.unread
    )
    outside = builder.outside(live)  # None unless the plan registers a number
    if outside is not None:
        builder.consult(read_elsewhere(loaded.config, gateway, live, outside, runtime=runtime))
    return live, builder.finish(live)


def read_owned(
    loaded: Loaded,
    gateway: Gateway,
    runtime: Runtime,
    on_unread: Callable[[str, TwilioError], None] | None = None,
) -> LiveEstate:
    """Twilio's state of the customers in scope, for the commands that only show it;
    SharedSubaccount when two customers resolve to one subaccount (SPEC §4.3), as a
    plan refuses them. A customer whose subaccount Twilio does not answer for raises,
    or with `on_unread` is told and left out (see Gateway.read)."""
    live = read_with_progress(runtime, gateway, loaded.in_scope, on_unread=on_unread)
    check_ownership(loaded.config.customers, live.accounts, known=loaded.known, scope=loaded.scope)
    return live


def unread_error(plan: Plan) -> str:
    """What plan and apply say, after the plan, when Twilio was not read for some
    customers (SPEC §4.2): the plan shows why for each; "" when it was read for all."""
    if not plan.unread:
        return ""
    return (
        f"Twilio could not be read for {len(plan.unread)} customer(s) ({listed(plan.unread)}), "
        "so nothing is planned for them; the plan says why for each, and the other customers "
        "are planned. Run again once Twilio answers for them"
    )
