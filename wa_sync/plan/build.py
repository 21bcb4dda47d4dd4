"""From the configuration and Twilio's live state to a Plan: the diff of every
customer in scope, the safety threshold, the digests for the stale check."""

from __future__ import annotations

from collections.abc import Sequence

from wa_sync.model import Config, LiveCustomer, LiveEstate
from wa_sync.plan.change import Change, Note, NoteKind, Plan
from wa_sync.plan.diff import CauseOf, always_config, diff_customer
from wa_sync.plan.digest import config_digest, live_digest
from wa_sync.plan.normalise import remembering_states
from wa_sync.plan.safety import check_mass_delete


def build_plan(
    config: Config,
    live: LiveEstate,
    *,
    customers: Sequence[str],
    prune: bool | None = None,
    allow_mass_delete: bool = False,
    emulator: bool = False,
    cause_of: CauseOf = always_config,
    estate: Sequence[str] | None = None,
) -> Plan:
    """The plan for `customers`; `prune` None means the setting in wa-sync.yaml.
    `estate` is every customer id with a file (default: the config's customers; pass it
    when the config was loaded for some customers only).
    Raises MassDelete when prune would delete too much (SPEC §4.5)."""
    with remembering_states():
        return _build(config, live, customers, prune, allow_mass_delete, emulator, cause_of, estate)


def _build(
    config: Config,
    live: LiveEstate,
    customers: Sequence[str],
    prune: bool | None,
    allow_mass_delete: bool,
    emulator: bool,
    cause_of: CauseOf,
    estate: Sequence[str] | None,
) -> Plan:
    pruning = config.settings.prune if prune is None else prune
    scope = sorted(customers)
    changes: list[Change] = []
    notes: list[Note] = []
    digests: dict[str, str] = {}
    for customer_id in scope:
        customer = config.customer(customer_id)
        if customer is None:
            continue
        current = live.customers.get(customer_id) or LiveCustomer(customer_id=customer_id)
        found, told = diff_customer(customer, current, prune=pruning, cause_of=cause_of)
        changes += found
        notes += told
        digests[customer_id] = live_digest(current)
    notes += _orphans(config, live, scope, estate)
    check_mass_delete(
        changes,
        live.customers,
        max_delete_fraction=config.settings.max_delete_fraction,
        allowed=allow_mass_delete,
    )
    return Plan.of(
        changes,
        notes,
        config_digest=config_digest(config, scope),
        live_digests=digests,
        customers=tuple(scope),
        emulator=emulator,
        prune=pruning,
        allow_mass_delete=allow_mass_delete,
    )


def _orphans(
    config: Config, live: LiveEstate, scope: Sequence[str], estate: Sequence[str] | None
) -> list[Note]:
    """Subaccounts named `wa-sync:<id>` whose customer file is gone: reported, never
    closed (SPEC §4.5). Only on a whole-estate plan, where "gone" is certain."""
    declared = {c.id for c in config.customers} | set(estate or ())
    if set(scope) != declared:
        return []
    adopted = {c.account_sid for c in config.customers if c.account_sid}
    return [
        Note(
            customer=account.customer_id,
            address=f"customer.{account.customer_id}",
            kind=NoteKind.WARNING,
            message=f"subaccount {account.sid} ({account.friendly_name}) has no customer "
            "file; wa-sync never closes subaccounts: close it in the Twilio console if the "
            "customer has left, or restore customers/"
            f"{account.customer_id}.yaml",
        )
        for account in live.accounts
        if account.customer_id
        and account.customer_id not in declared
        and account.sid not in adopted
        and account.status != "closed"
    ]
