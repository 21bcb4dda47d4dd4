"""A number registers once: a plan never registers a WhatsApp sender that another
customer's subaccount holds, even when the same plan deregisters it there (SPEC §1.1:
Meta allows 10 register and deregister requests per number per 72 hours, and past them
blocks the number for 72 hours; a move between customers takes two applies, never a
loop). A customer Twilio was not read for (SPEC §4.2) may hold any number: while one
is, no other customer's sender is registered. Pure: the whole plan's changes, the live
state in scope and the customers not read come in."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from wa_sync.model import LiveCustomer
from wa_sync.plan.change import Action, Change, Note, NoteKind, Phase
from wa_sync.wording import listed

ONE_REGISTRATION = "a number registers once, and Meta blocks it for 72 hours after 10 registrations"


def one_registration_per_number(
    changes: Sequence[Change], live: Mapping[str, LiveCustomer], unread: Collection[str] = ()
) -> tuple[list[Change], list[Note]]:
    """`changes` without the sender registrations of numbers live in another customer's
    subaccount, or perhaps in one of the `unread` customers', and a note for each saying
    what must happen first."""
    if not any(c.phase is Phase.SENDER and c.action is Action.CREATE for c in changes):
        return list(changes), []
    holder = {
        sender.sender_id: (customer_id, sender.sid)
        for customer_id, current in live.items()
        for sender in current.senders
    }
    leaving = {
        c.address.rpartition("/sender.")[2]
        for c in changes
        if c.phase is Phase.CLEANUP and c.action is Action.DELETE and "/sender." in c.address
    }
    kept, notes = [], []
    for change in changes:
        number = change.address.rpartition("/sender.")[2]
        owner = holder.get(number) if change.action is Action.CREATE else None
        if change.phase is not Phase.SENDER or change.action is not Action.CREATE:
            kept.append(change)
        elif owner is None and unread:
            notes.append(_unknown_holder(change, number, unread))
        elif owner is None or owner[0] == change.customer:
            kept.append(change)
        else:
            notes.append(_held(change, number, owner, leaving))
    return kept, notes


def _held(change: Change, number: str, owner: tuple[str, str], leaving: set[str]) -> Note:
    first = (
        "this plan deregisters it there (prune); the next apply registers it here"
        if number in leaving
        else "deregister it there first (remove it from that customer's file and apply "
        "with prune, or in the Twilio console), then apply"
    )
    where = f"{number} is registered in customer {owner[0]}'s subaccount ({owner[1]})"
    return _held_back(change, where, first)


def _unknown_holder(change: Change, number: str, unread: Collection[str]) -> Note:
    where = (
        f"not registered yet: customer {listed(sorted(unread))} was not read from Twilio, "
        f"so {number} may be registered there"
    )
    return _held_back(change, where, "the next apply once Twilio answers registers it")


def _held_back(change: Change, why: str, then: str) -> Note:
    """The warning on a registration this plan holds back: why, Meta's limit, what next."""
    message = f"{why}; {ONE_REGISTRATION}: {then}"
    return Note(
        customer=change.customer, address=change.address, kind=NoteKind.WARNING, message=message
    )
