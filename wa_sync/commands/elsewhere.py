"""The senders of the customers out of a scoped plan's scope (`--customer`, `--shard`,
`--changed-since`; SPEC §3) and of the subaccounts no customer file manages, read only
when the plan registers a number: a number registers once (SPEC §1.1), and where it
moved away from may be out of scope, or in no customer's subaccount, and still hold it
(plan/registrations.py). One Senders listing per subaccount, through the gateway's pool
and pacing; the subaccounts come from the listing the plan already read. They get no
diff, no note and no write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from wa_sync.config.repo import load_model
from wa_sync.errors import TwilioError
from wa_sync.gateway.base import Gateway
from wa_sync.identity import AccountIndex
from wa_sync.model import Config, Customer, LiveAccount, LiveCustomer, LiveEstate, LiveSender
from wa_sync.plan.registrations import Elsewhere
from wa_sync.progress import progress
from wa_sync.runtime import Runtime

SENDERS_LABEL = "Reading other subaccounts' senders"  # its progress line's (progress.py)


def read_elsewhere(
    config: Config, gateway: Gateway, live: LiveEstate, ids: Sequence[str], *, runtime: Runtime
) -> Elsewhere:
    """The senders of the customers `ids` (out of scope), each in its subaccount, and of
    the active subaccounts no customer file manages; those Twilio does not answer for
    are unread, and hold registrations back (SPEC §4.2). Counted on a progress line as
    the main read is (progress.py)."""
    index = AccountIndex(live.accounts)
    customers = _customers(config, ids)
    accounts = {cid: index.readable(cid, customers.get(cid), gateway.parent_sid) for cid in ids}
    found = {cid: account for cid, account in accounts.items() if account is not None}
    unmanaged = _unmanaged(config, live, index, set(found.values()), gateway.parent_sid)
    if not found and not unmanaged:
        return Elsewhere()
    runtime.stderr.write(
        f"This plan registers a number: reading the senders of {len(found)} customer(s) "
        f"out of its scope and of {len(unmanaged)} subaccount(s) that no customer file "
        "manages, since a number registers once.\n"
    )
    listed = list({a.sid: a for a in (*found.values(), *unmanaged)}.values())
    with progress(runtime, SENDERS_LABEL, "subaccounts", total=len(listed)) as shown:

        def answered(_sid: str) -> None:
            shown.step()
            runtime.checkpoint()  # a signal stops the command here (interrupts.py)

        answers = gateway.read_senders(listed, on_answer=answered)
    read, unread = _answered(answers, found)
    holders = {
        cid: LiveCustomer(customer_id=cid, account=found[cid], senders=senders)
        for cid, senders in read.items()
    }
    named = {f"{a.sid} ({a.friendly_name!r})": a for a in unmanaged}
    senders, failed = _answered(answers, named)
    return Elsewhere(
        customers=MappingProxyType(holders),
        unread=MappingProxyType(unread),
        unmanaged=MappingProxyType(senders),
        unread_unmanaged=MappingProxyType(failed),
    )


def _answered(
    answers: Mapping[str, tuple[LiveSender, ...] | TwilioError], accounts: Mapping[str, LiveAccount]
) -> tuple[dict[str, tuple[LiveSender, ...]], dict[str, str]]:
    """For each key of `accounts`: its subaccount's senders, or why Twilio gave none."""
    read, failed = {}, {}
    for key, account in accounts.items():
        answer = answers[account.sid]
        if isinstance(answer, TwilioError):
            failed[key] = str(answer)
        else:
            read[key] = answer
    return read, failed


def _unmanaged(
    config: Config,
    live: LiveEstate,
    index: AccountIndex,
    consulted: set[LiveAccount],
    parent_sid: str,
) -> list[LiveAccount]:
    """The active subaccounts that no customer manages: neither one in scope (read, or
    not answered for) nor one out of it (`consulted`)."""
    managed = {parent_sid, *(a.sid for a in consulted)}
    managed |= {c.account.sid for c in live.customers.values() if c.account is not None}
    for customer in config.customers:
        account = index.readable(customer.id, customer, parent_sid)
        managed |= {account.sid} if account is not None else set()
    return [a for a in live.accounts if a.status == "active" and a.sid not in managed]


def _customers(config: Config, ids: Sequence[str]) -> dict[str, Customer]:
    """The customers `ids` as their files declare them (whose `account_sid` names their
    subaccount, SPEC §4.3): those the scoped plan did not load are loaded now, and one
    whose file cannot be read is left out (its subaccount is found by name); their
    problems are not this plan's."""
    have = {c.id: c for c in config.customers if c.id in ids}
    missing = [cid for cid in ids if cid not in have]
    if missing:
        loaded, _problems = load_model(config.root, customers=missing)
        have.update({c.id: c for c in loaded.customers})
    return have
