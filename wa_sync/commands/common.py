"""What the commands that talk to Twilio share: load, scope, connect, read, plan."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from wa_sync.config.repo import load_repo
from wa_sync.connect import open_gateway
from wa_sync.errors import Problem
from wa_sync.gateway.base import Gateway
from wa_sync.gitinfo import cause_from_git
from wa_sync.model import Config, LiveEstate
from wa_sync.plan.build import build_plan
from wa_sync.plan.change import Plan
from wa_sync.plan.scope import select_customers
from wa_sync.render.text import EMULATOR_BANNER
from wa_sync.runtime import Runtime

__all__ = ["EMULATOR_BANNER", "Loaded", "connect", "load", "read_and_plan"]


@dataclass(frozen=True)
class Loaded:
    config: Config
    scope: tuple[str, ...]


def load(
    root: str,
    *,
    only: Sequence[str] | None,
    shard: tuple[int, int] | None = None,
    err: TextIO,
) -> Loaded:
    """Load and validate the repository (raises ConfigInvalid), print its warnings,
    and choose the customers in scope."""
    config, warnings = load_repo(root, customers=only or None)
    print_warnings(warnings, err)
    # every customer file, also those --customer left unloaded: for "Did you mean"
    known = sorted({c.id for c in config.customers} | set(customer_file_ids(root)))
    return Loaded(config, select_customers(known, only=only, shard=shard))


def customer_file_ids(root: str) -> list[str]:
    return [path.stem for path in (Path(root) / "customers").glob("*.yaml")]


def print_warnings(warnings: Sequence[Problem], err: TextIO) -> None:
    for problem in warnings:
        err.write(f"warning: {problem}\n")


@contextmanager
def connect(runtime: Runtime, *, root: str, emulator: bool, parallelism: int) -> Iterator[Gateway]:
    with open_gateway(
        environ=runtime.environ, root=root, emulator=emulator, parallelism=parallelism
    ) as gateway:
        yield gateway


def read_and_plan(
    loaded: Loaded,
    gateway: Gateway,
    *,
    prune: bool | None,
    allow_mass_delete: bool,
    environ: Mapping[str, str],
) -> tuple[LiveEstate, Plan]:
    customers = [c for c in loaded.config.customers if c.id in loaded.scope]
    live = gateway.read(customers)
    plan = build_plan(
        loaded.config,
        live,
        customers=loaded.scope,
        prune=prune,
        allow_mass_delete=allow_mass_delete,
        emulator=gateway.emulated,
        cause_of=cause_from_git(loaded.config.root, environ),
        estate=customer_file_ids(loaded.config.root),
    )
    return live, plan
