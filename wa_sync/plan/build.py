"""From the configuration and Twilio's live state to a Plan: the diff of every
customer in scope, the safety threshold, the digests for the stale check."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from wa_sync.model import Config, LiveCustomer, LiveEstate
from wa_sync.plan.change import Change, Gate, Note, NoteKind, Plan
from wa_sync.plan.diff import CauseOf, always_config, diff_customer
from wa_sync.plan.digest import config_digest, customer_config_text, live_digest
from wa_sync.plan.gates import held_registration_gate
from wa_sync.plan.normalise import remembering_states
from wa_sync.plan.ownership import check_ownership
from wa_sync.plan.registrations import (
    Elsewhere,
    hold_submissions,
    one_registration_per_number,
    registers,
)
from wa_sync.plan.safety import check_mass_delete
from wa_sync.plan.scope import shard_of

# the live digest of a customer Twilio did not answer for: no read state has it
UNREAD_DIGEST = "unread"


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
    digests: bool = True,
    gone: Collection[str] = (),
) -> Plan:
    """The plan for `customers`; `prune` None means the setting in wa-sync.yaml.
    `estate` is every customer id with a file (default: the config's customers; pass it
    when the config was loaded for some customers only); `digests` as PlanBuilder's;
    `gone`, customers whose file is known to be deleted (`--changed-since`): their
    subaccounts are reported as a whole-estate plan reports them.
    Raises MassDelete when prune would delete too much (SPEC §4.5), SharedSubaccount
    when two customers resolve to one subaccount or one to several (SPEC §4.3)."""
    builder = PlanBuilder(
        config,
        customers=customers,
        prune=prune,
        allow_mass_delete=allow_mass_delete,
        emulator=emulator,
        cause_of=cause_of,
        estate=estate,
        digests=digests,
        gone=gone,
    )
    return builder.finish(live)


class PlanBuilder:
    """`build_plan` in steps, for a caller that gets the live state one customer at a
    time: `add` diffs a customer as soon as its state is known, `finish` diffs the
    rest and makes the plan. The plan is the one `build_plan` makes of the same state:
    a customer's diff is used only if `finish` is given that very LiveCustomer.
    With `digests=False` the plan has no digests (config_digest "" and no live_digests),
    for a plan that is only shown: they are what a saved plan is checked against, and a
    fifth of the CPU a no-op plan spends after reading Twilio."""

    def __init__(
        self,
        config: Config,
        *,
        customers: Sequence[str],
        prune: bool | None = None,
        allow_mass_delete: bool = False,
        emulator: bool = False,
        cause_of: CauseOf = always_config,
        estate: Sequence[str] | None = None,
        digests: bool = True,
        gone: Collection[str] = (),
        gone_adopted: Mapping[str, str] | None = None,
        shard: tuple[int, int] | None = None,
    ):
        self.config = config
        self.gone = frozenset(gone)
        self.gone_adopted = dict(gone_adopted or {})  # a gone customer -> its account_sid
        self.shard = shard  # `--shard K/N`: the customers were chosen by it
        self.now = datetime.now(UTC)  # one moment for every customer's diff
        self.digests = digests
        self.estate = estate
        self.scope = sorted(customers)
        self.wanted = set(self.scope)
        self.pruning = config.settings.prune if prune is None else prune
        self.allow_mass_delete = allow_mass_delete
        self.emulator = emulator
        self.cause_of = cause_of
        self.states: dict[int, Any] = {}  # content states, shared by every step
        self.diffs: dict[str, tuple[LiveCustomer, list[Change], list[Note], str]] = {}
        self.unread_why: dict[str, str] = {}  # customer id -> why Twilio was not read for it
        self.elsewhere = Elsewhere()  # the senders out of scope, when it registers a number
        self._config_parts: dict[str, str] = {}  # customer id -> its part of that digest

    def add(self, current: LiveCustomer) -> None:
        """Diff one customer of the scope now (one outside it is ignored)."""
        if current.customer_id in self.wanted:
            with remembering_states(self.states):
                self._diff(current.customer_id, current)
                if self.digests:
                    self._config_part(current.customer_id)

    def unread(self, customer_id: str, error: Exception) -> None:
        """Twilio did not answer for this customer (after the retries): it gets no diff,
        a note saying why, and the digest UNREAD_DIGEST (a saved plan is stale once it can
        be read). `finish` must not diff it against an empty state: that would plan its
        every object anew."""
        self.unread_why[customer_id] = str(error)

    def outside(self, live: LiveEstate) -> tuple[str, ...] | None:
        """None when the scope's diffs register no number. Else (a number registers
        once, plan/registrations.py) the customers with a file out of scope, none on a
        whole-estate plan, whose senders this plan must see before `finish`, as it must
        those of the subaccounts no customer file manages (commands/elsewhere.py)."""
        with remembering_states(self.states):
            changes, _, _ = self._scope_diffs(live)
        if not registers(changes):
            return None
        return tuple(sorted(set(self._known()) - self.wanted))

    def consult(self, elsewhere: Elsewhere) -> None:
        """What was read of the customers `outside` names: only their senders count."""
        self.elsewhere = elsewhere

    def finish(self, live: LiveEstate) -> Plan:
        """The plan against `live`; raises MassDelete as build_plan does."""
        with remembering_states(self.states):
            return self._finish(live)

    def _diff(
        self, customer_id: str, current: LiveCustomer
    ) -> tuple[LiveCustomer, list[Change], list[Note], str] | None:
        customer = self.config.customer(customer_id)
        if customer is None:
            return None
        done = self.diffs.get(customer_id)
        if done is not None and done[0] is current:
            return done
        found, told = diff_customer(
            customer,
            current,
            prune=self.pruning,
            cause_of=self.cause_of,
            now=self.now,
            isv=self.config.isv,
        )
        digest = live_digest(current) if self.digests else ""
        done = self.diffs[customer_id] = (current, found, told, digest)
        return done

    def _held_gate(self, customer_id: str) -> Gate:
        customer = self.config.customer(customer_id)
        assert customer is not None  # only a customer of the configuration has changes
        return held_registration_gate(customer)

    def _config_part(self, customer_id: str) -> None:
        """The customer's part of the configuration digest, now rather than at the end
        (it uses the content states its diff just worked out)."""
        customer = self.config.customer(customer_id)
        if customer is not None and customer_id not in self._config_parts:
            self._config_parts[customer_id] = customer_config_text(customer)

    def _known(self) -> Sequence[str]:
        return self.estate if self.estate is not None else [c.id for c in self.config.customers]

    def _scope_diffs(self, live: LiveEstate) -> tuple[list[Change], list[Note], dict[str, str]]:
        """The changes, notes and live digests of the customers in scope."""
        changes: list[Change] = []
        notes: list[Note] = []
        digests: dict[str, str] = {}
        for customer_id in self.scope:
            if customer_id in self.unread_why:
                notes.append(_unread_note(customer_id, self.unread_why[customer_id]))
                if self.digests:
                    digests[customer_id] = UNREAD_DIGEST
                continue
            current = live.customers.get(customer_id) or LiveCustomer(customer_id=customer_id)
            done = self._diff(customer_id, current)
            if done is None:
                continue
            _, found, told, digest = done
            changes += found
            notes += told
            if self.digests:
                digests[customer_id] = digest
        return changes, notes, digests

    def _finish(self, live: LiveEstate) -> Plan:
        known = self._known()
        check_ownership(self.config.customers, live.accounts, known=known, scope=self.scope)
        changes, notes, digests = self._scope_diffs(live)
        changes, moving = one_registration_per_number(
            changes, live.customers, self.unread_why, self.elsewhere, _suspended(live)
        )
        changes = hold_submissions(changes, moving, live.customers, self._held_gate)
        notes += moving
        notes += _orphans(self.config, live, self.scope, self.estate, self.gone, self.shard)
        notes += _left_adopted(self.config, live, self.gone_adopted)
        check_mass_delete(
            changes,
            live.customers,
            max_delete_fraction=self.config.settings.max_delete_fraction,
            allowed=self.allow_mass_delete,
        )
        of_config = (
            config_digest(self.config, self.scope, self._config_parts) if self.digests else ""
        )
        return Plan.of(
            changes,
            notes,
            config_digest=of_config,
            live_digests=digests,
            customers=tuple(self.scope),
            estate_size=len(known),
            emulator=self.emulator,
            parent_account=live.parent_sid,
            prune=self.pruning,
            allow_mass_delete=self.allow_mass_delete,
        )


def _unread_note(customer_id: str, why: str) -> Note:
    message = (
        f"Twilio could not be read for this customer, so nothing is planned for it: {why}. "
        "The other customers are planned; plan again once Twilio answers for it"
    )
    address = f"customer.{customer_id}"
    return Note(customer=customer_id, address=address, kind=NoteKind.UNREAD, message=message)


def _orphans(
    config: Config,
    live: LiveEstate,
    scope: Sequence[str],
    estate: Sequence[str] | None,
    gone: frozenset[str],
    shard: tuple[int, int] | None = None,
) -> list[Note]:
    """Subaccounts named `wa-sync:<id>` that no customer manages, reported, never closed
    (SPEC §4.5): those whose customer file is gone (on a whole-estate plan, where "gone"
    is certain, or a whole shard's, for the ids of that shard: each in exactly one of
    the N plans; and for the customers `gone` names), and those of a customer in scope
    that manages another by `account_sid` (a renamed customer's first apply makes one)."""

    def mine(cid: str) -> bool:
        return shard is None or shard_of(cid, shard[1]) == shard[0]

    declared = {c.id for c in config.customers} | set(estate or ())
    whole = set(scope) == {cid for cid in declared if mine(cid)}
    elsewhere = {c.id: c.account_sid for c in config.customers if c.account_sid}
    adopted = set(elsewhere.values())
    notes = []
    for account in live.accounts:
        cid = account.customer_id
        if not cid or account.sid in adopted or account.status == "closed":
            continue
        if cid in elsewhere and cid in scope:
            why = (
                f"is not managed: customer {cid} manages {elsewhere[cid]} (its account_sid); "
                "wa-sync never closes subaccounts: close it in the Twilio console, or rename "
                f"it (any FriendlyName but {account.friendly_name!r})"
            )
        elif ((whole and mine(cid)) or cid in gone) and cid not in declared:
            why = (
                "has no customer file; wa-sync never closes subaccounts: close it in the "
                "Twilio console if the customer has left, or restore customers/"
                f"{account.shown_customer_id}.yaml"
            )
        else:
            continue
        message = f"subaccount {account.sid} ({account.shown_name}) {why}"
        notes.append(
            Note(customer=cid, address=f"customer.{cid}", kind=NoteKind.WARNING, message=message)
        )
    return notes


def _left_adopted(config: Config, live: LiveEstate, gone: Mapping[str, str]) -> list[Note]:
    """The subaccounts that deleted customer files adopted by `account_sid` (`gone`: id ->
    SID, from `--changed-since`'s revision): found by no `wa-sync:` name, they are
    reported here, never closed (SPEC §4.5), unless another file adopts them now."""
    if not gone:  # the usual case: no deleted file adopted a subaccount
        return []
    whose = {sid: cid for cid, sid in gone.items()}
    adopted = {c.account_sid for c in config.customers if c.account_sid}
    notes = []
    for account in live.accounts:
        cid = whose.get(account.sid)
        if cid is None or account.sid in adopted or account.status == "closed":
            continue
        message = (
            f"subaccount {account.sid} ({account.shown_name}) has no customer file: "
            f"customers/{cid}.yaml adopted it (account_sid) and is deleted; wa-sync never "
            "closes subaccounts: close it in the Twilio console if the customer has left, "
            f"or restore customers/{cid}.yaml"
        )
        notes.append(
            Note(customer=cid, address=f"customer.{cid}", kind=NoteKind.WARNING, message=message)
        )
    return notes


def _suspended(live: LiveEstate) -> list[str]:
    """The parent's suspended subaccounts, each as a plan names it: Twilio refuses their
    own credentials, so their senders are not read (a closed one's numbers are released)."""
    return [
        f"{a.sid} (customer {a.shown_customer_id})"
        if a.shown_customer_id
        else f"{a.sid} ({a.friendly_name!r})"
        for a in live.accounts
        if a.status == "suspended"
    ]
