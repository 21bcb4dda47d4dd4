"""The plan is a value: Actions, Phases, Gates, Changes, Notes and the Plan itself.

A Change is what apply will do (or, when BLOCKED, would do once a person acts).
A Note is something worth telling that is not a change: a template in review, a
sender being verified, a rejection to fix, an unmanaged subaccount.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SUBMIT = "submit"
    BLOCKED = "blocked"


class Phase(IntEnum):
    """Apply order within a customer (SPEC §4.2)."""

    SUBACCOUNT = 1
    SENDER = 2
    CONTENT = 3
    APPROVAL = 4
    CLEANUP = 5  # deletions of superseded template versions and undeclared objects


class Cause(StrEnum):
    CONFIG = "config"  # the YAML changed
    DRIFT = "drift"  # someone changed Twilio outside wa-sync


class Actor(StrEnum):
    ISV = "ISV"
    CUSTOMER = "customer"
    META = "Twilio/Meta"


# The onboarding steps of SPEC §1, by number.
STEPS = {
    1: "subaccount",
    2: "Terms of Service",
    3: "Business Manager ID",
    4: "business verification",
    5: "access request",
    6: "WhatsApp sender",
    7: "Twilio invitation",
    8: "message templates",
}

# The steps of the Tech Provider flow, SPEC §1.1 (`onboarding.flow: embedded_signup`).
SIGNUP_STEPS = {
    0: "Tech Provider approval",
    1: "subaccount",
    2: "Embedded Signup",
    3: "WhatsApp sender",
    4: "one-time code",
    5: "sender online",
    6: "message templates",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Gate:
    """An onboarding prerequisite (SPEC §1) that blocks a change, and who must act."""

    step: int  # the row of SPEC §1 (1-8), or of §1.1 (0-6) for an embedded_signup customer
    name: str  # "access request"
    actor: Actor
    action: str  # what the person must do, in plain words

    def describe(self) -> str:
        return f"step {self.step} ({self.name}): {self.actor} must {self.action}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    customer: str  # the customer id
    address: str  # "customer.acme-dental/template.appointment_reminder[en]"
    action: Action
    phase: Phase
    before: Mapping[str, Any] | None = None  # normalised, read-only
    after: Mapping[str, Any] | None = None
    cause: Cause = Cause.CONFIG
    reason: str = ""  # shown to people; apply never branches on it
    blocked_by: Gate | None = None
    ref: str | None = None  # the live SID the change acts on, when there is one
    # The desired object apply needs (Customer, Sender or Template); never serialised.
    subject: Any = field(default=None, compare=False, repr=False)

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.customer, int(self.phase), self.address, self.action.value)


class NoteKind(StrEnum):
    WAITING = "waiting"  # on Twilio or Meta: a template in review, a sender verifying
    WARNING = "warning"  # worth a person's attention: a rejection, an unmanaged account
    INFO = "info"
    # not declared (or superseded) and kept because prune is off: not a change (SPEC §4.8)
    UNDECLARED = "undeclared"
    PROTECTED = "protected"  # a plan would delete it, but `protect: true` keeps it
    RECATEGORISED = "recategorised"  # category in WhatsApp other than declared: drift
    # Twilio did not answer for the customer's subaccount: nothing is planned for it, and
    # plan and apply exit 1 (SPEC §4.2: the others go on)
    UNREAD = "unread"
    # the customer's subaccount is suspended or closed: Twilio refuses its credentials, so
    # nothing of it is read and nothing is planned (a lasting state: not an error)
    INACTIVE = "inactive"


@dataclass(frozen=True, kw_only=True, slots=True)
class Note:
    customer: str
    address: str
    kind: NoteKind
    message: str


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...]
    notes: tuple[Note, ...] = ()
    config_digest: str = ""
    live_digests: Mapping[str, str] = field(default_factory=dict)  # customer id -> digest
    customers: tuple[str, ...] = ()  # the customers in scope, sorted
    estate_size: int = 0  # the customers with a file, in scope or not (0: not known)
    emulator: bool = False  # computed against the emulator, not Twilio
    parent_account: str = ""  # the parent account's SID it was computed under
    prune: bool = False  # the options it was computed with, which `apply PLANFILE` reuses
    allow_mass_delete: bool = False

    @classmethod
    def of(
        cls,
        changes: Iterable[Change],
        notes: Iterable[Note] = (),
        **kwargs: Any,
    ) -> Plan:
        """The one constructor that sorts: customer, phase, address."""
        return cls(
            tuple(sorted(changes, key=Change.sort_key)),
            tuple(sorted(notes, key=lambda n: (n.customer, n.address, n.kind, n.message))),
            **kwargs,
        )

    @property
    def actionable(self) -> tuple[Change, ...]:
        """The changes apply will make (everything but BLOCKED)."""
        return tuple(c for c in self.changes if c.action is not Action.BLOCKED)

    @property
    def blocked(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is Action.BLOCKED)

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    @property
    def unread(self) -> tuple[str, ...]:
        """The customers whose Twilio state could not be read: nothing is planned for them."""
        return tuple(n.customer for n in self.notes if n.kind is NoteKind.UNREAD)

    @property
    def inactive(self) -> tuple[str, ...]:
        """The customers whose subaccount is suspended or closed: not read, not planned."""
        return tuple(n.customer for n in self.notes if n.kind is NoteKind.INACTIVE)

    def counts(self) -> Counter[Action]:
        return Counter(c.action for c in self.changes)

    def for_customer(self, customer_id: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.customer == customer_id)


NO_CHANGES = "No changes. Twilio matches the configuration."


def kept_counts(plan: Plan) -> tuple[int, int]:
    """(undeclared objects kept, objects kept by `protect: true`): shown, not changes."""
    kinds = Counter(n.kind for n in plan.notes)
    return kinds[NoteKind.UNDECLARED], kinds[NoteKind.PROTECTED]


def summary_line(plan: Plan) -> str:
    """The one summary line every renderer ends with (SPEC §4.1), followed by the
    objects kept although not declared, which are not changes (SPEC §4.8)."""
    undeclared, protected = kept_counts(plan)
    kept = f" {undeclared} undeclared kept." if undeclared else ""
    kept += f" {protected} protected from deletion." if protected else ""
    unread = len(plan.unread)
    if unread:  # never "Twilio matches" when some of it was not read
        them = "it" if unread == 1 else "them"
        kept += f" {unread} not read from Twilio: nothing is planned for {them}."
    kept += _inactive(plan)
    kept += _scope(plan)
    unread += len(plan.inactive)
    if not plan.has_changes:
        blocked = len(plan.blocked)
        suffix = f" {blocked} blocked." if blocked else ""
        head = "No changes in the customers read." if unread else NO_CHANGES
        return f"{head}{suffix}{kept}"
    n = plan.counts()
    return (
        f"Plan: {n[Action.CREATE]} to create, {n[Action.UPDATE]} to update, "
        f"{n[Action.REPLACE]} to replace, {n[Action.DELETE]} to delete, "
        f"{n[Action.SUBMIT]} to submit; {n[Action.BLOCKED]} blocked.{kept}"
    )


def _scope(plan: Plan) -> str:
    """A plan of some customers (`--customer`, `--shard`, `--changed-since`) says so: its
    "Twilio matches" is of those only, the others were not read."""
    planned = len(plan.customers)
    if not plan.estate_size or planned >= plan.estate_size:
        return ""
    return f" {planned} of {plan.estate_size} customers planned; the others were not read."


def _inactive(plan: Plan) -> str:
    """The customers whose subaccount is suspended or closed, for the summary line."""
    count = len(plan.inactive)
    if not count:
        return ""
    its = "its subaccount is" if count == 1 else "their subaccounts are"
    return f" {count} not read from Twilio ({its} suspended or closed)."
