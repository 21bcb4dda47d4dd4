"""A number registers once: a plan never registers a WhatsApp sender that another
customer's subaccount holds, even when the same plan deregisters it there (SPEC §1.1:
Meta allows 10 register and deregister requests per number per 72 hours, and past them
blocks the number for 72 hours; a move between customers takes two applies, never a
loop). A customer Twilio was not read for (SPEC §4.2) may hold any number: while one
is, no other customer's sender is registered. A scoped plan (`--customer`, `--shard`,
`--changed-since`) that registers a number also consults the senders of the customers
out of its scope (`Elsewhere`), and holds back as a whole-estate plan would. Pure: the
whole plan's changes, the live state in scope, the customers not read and what was
read elsewhere come in."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import NamedTuple

from wa_sync.model import LiveCustomer, LiveSender
from wa_sync.plan.change import Action, Change, Gate, Note, NoteKind, Phase
from wa_sync.wording import listed

ONE_REGISTRATION = "a number registers once, and Meta blocks it for 72 hours after 10 registrations"


@dataclass(frozen=True, kw_only=True)
class Elsewhere:
    """What a plan read only because it registers a number: the senders of the
    customers out of its scope (`customers`, by id) and of the subaccounts that no
    customer file manages (`unmanaged`, by "AC… ('its name')"), and those Twilio did not
    answer for (`unread` and `unread_unmanaged`: -> why). They get no diff and no note."""

    customers: Mapping[str, LiveCustomer] = field(default_factory=lambda: MappingProxyType({}))
    unread: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    unmanaged: Mapping[str, tuple[LiveSender, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    unread_unmanaged: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


class Holder(NamedTuple):
    """Where a number is registered: the customer (empty for a subaccount no customer
    file manages, whose SID is then `account`), the place in words, the sender's SID."""

    customer: str
    place: str
    sender_sid: str
    account: str = ""


def registers(changes: Sequence[Change]) -> bool:
    """Whether `changes` register a WhatsApp sender (a number) anywhere."""
    return any(c.phase is Phase.SENDER and c.action is Action.CREATE for c in changes)


def one_registration_per_number(
    changes: Sequence[Change],
    live: Mapping[str, LiveCustomer],
    unread: Collection[str] = (),
    elsewhere: Elsewhere | None = None,
    suspended: Sequence[str] = (),
) -> tuple[list[Change], list[Note]]:
    """`changes` without the sender registrations of numbers live in another customer's
    subaccount, or perhaps in one of the `unread` customers' (or `elsewhere`'s), and a
    note for each saying what must happen first. A registration that goes ahead while
    `suspended` subaccounts (described) exist gets a warning: Twilio does not show their
    senders, and their suspension lasts, so they do not hold it back."""
    if not registers(changes):
        return list(changes), []
    outside = elsewhere or Elsewhere()
    holder = _holders(outside, live)
    leaving = {
        c.address.rpartition("/sender.")[2]
        for c in changes
        if c.phase is Phase.CLEANUP and c.action is Action.DELETE and "/sender." in c.address
    }
    unknown = [*sorted(unread), *_out_of_scope(outside.unread), *_unmanaged(outside)]
    kept, notes = [], []
    for change in changes:
        number = change.address.rpartition("/sender.")[2]
        owner = holder.get(number) if change.action is Action.CREATE else None
        if change.phase is not Phase.SENDER or change.action is not Action.CREATE:
            kept.append(change)
        elif owner is None and unknown:
            notes.append(_unknown_holder(change, number, unknown))
        elif owner is None or owner.customer == change.customer:
            kept.append(change)
            if owner is None and suspended:
                notes.append(_perhaps_suspended(change, number, suspended))
        else:
            adopt = bool(owner.account) and _new_subaccount(live.get(change.customer))
            notes.append(_held(change, number, owner, leaving, adopt=adopt))
    return kept, notes


def _new_subaccount(customer: LiveCustomer | None) -> bool:
    """The customer has no subaccount in Twilio: the plan makes one."""
    return customer is not None and customer.account is None


def hold_submissions(
    changes: Sequence[Change],
    held: Sequence[Note],
    live: Mapping[str, LiveCustomer],
    gate: Callable[[str], Gate],
) -> list[Change]:
    """`changes` with the template submissions of each customer whose registration is
    `held` back, and that has no sender in Twilio nor another on its way, blocked at
    `gate(customer id)`: Twilio submits templates for a sender (SPEC §1.1), and the
    plan's per-customer diff counted on the one held back."""
    waiting = {note.customer for note in held} - {
        c.customer for c in changes if c.phase is Phase.SENDER and c.action is Action.CREATE
    }
    waiting = {cid for cid in waiting if cid not in live or not live[cid].senders}
    return [
        _blocked(change, gate(change.customer))
        if change.customer in waiting and change.action is Action.SUBMIT
        else change
        for change in changes
    ]


def _blocked(change: Change, gate: Gate) -> Change:
    reason = f"would {change.reason}; blocked at {gate.describe()}"
    return replace(change, action=Action.BLOCKED, blocked_by=gate, reason=reason)


def _holders(outside: Elsewhere, live: Mapping[str, LiveCustomer]) -> dict[str, Holder]:
    """Who holds each number read: a customer (by id), or a subaccount no file manages."""
    holders = {
        sender.sender_id: Holder(
            "",
            f"subaccount {account}, which no customer file manages",
            sender.sid,
            account.partition(" ")[0],  # "AC… ('its name')"
        )
        for account, senders in outside.unmanaged.items()
        for sender in senders
    }
    for customer_id, current in {**outside.customers, **live}.items():
        for sender in current.senders:
            place = f"customer {customer_id}'s subaccount"
            holders[sender.sender_id] = Holder(customer_id, place, sender.sid)
    return holders


def _unmanaged(outside: Elsewhere) -> list[str]:
    """The subaccounts no customer file manages that were not read, each with why."""
    return [
        f"subaccount {account} (which no customer file manages; {why})"
        for account, why in sorted(outside.unread_unmanaged.items())
    ]


def _out_of_scope(unread: Mapping[str, str]) -> list[str]:
    """The customers out of scope not read, each with why: no note of theirs says it."""
    return [f"{cid} (out of this plan's scope; {why})" for cid, why in sorted(unread.items())]


def _held(change: Change, number: str, owner: Holder, leaving: set[str], *, adopt: bool) -> Note:
    """`adopt`: the customer has no subaccount yet, and the one holding its number is
    managed by no file: likely its own under another name (renamed in the Console), which
    it adopts rather than have a second one made and its live number moved."""
    first = (
        "this plan deregisters it there (prune); the next apply registers it here"
        if number in leaving
        else "deregister it there first (remove it from that customer's file and apply "
        "with prune, or in the Twilio console), then apply"
        if owner.customer
        else "deregister it there first (in the Twilio console), then apply"
    )
    if adopt:
        first = (
            f"if that subaccount is {change.customer}'s (its FriendlyName changed, or it "
            f"was made in the Console), adopt it instead of the new one this plan makes: "
            f"add `account_sid: {owner.account}` to customers/{change.customer}.yaml; if "
            f"not, {first}"
        )
    where = f"{number} is registered in {owner.place} ({owner.sender_sid})"
    return _held_back(change, where, first)


def _unknown_holder(change: Change, number: str, unread: Sequence[str]) -> Note:
    where = (
        f"not registered yet: customer {listed(unread)} was not read from Twilio, "
        f"so {number} may be registered there"
    )
    return _held_back(change, where, "the next apply once Twilio answers registers it")


def _perhaps_suspended(change: Change, number: str, suspended: Sequence[str]) -> Note:
    message = (
        f"{number} may be registered in suspended subaccount {listed(list(suspended))}, "
        "whose senders Twilio does not show until it is active again: if it is, Twilio "
        "refuses this registration (reactivate that subaccount and deregister it there)"
    )
    return Note(
        customer=change.customer, address=change.address, kind=NoteKind.WARNING, message=message
    )


def _held_back(change: Change, why: str, then: str) -> Note:
    """The warning on a registration this plan holds back: why, Meta's limit, what next."""
    message = f"{why}; {ONE_REGISTRATION}: {then}"
    return Note(
        customer=change.customer, address=change.address, kind=NoteKind.WARNING, message=message
    )
