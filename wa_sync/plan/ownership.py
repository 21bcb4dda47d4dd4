"""One subaccount, one customer (SPEC §4.3), checked over the parent's subaccounts as
Twilio listed them, before any plan is made and so before any write.

Two customers resolving to one subaccount would each undo the other's work at every
apply, and `--prune` would delete the other's live sender and approved templates
(whose names WhatsApp then blocks for 30 days). A customer resolves to a subaccount by
its `account_sid`, or else by the FriendlyName `wa-sync:<id>`; a subaccount whose
FriendlyName names a customer that has a file belongs to that customer too. Every
problem is reported at once, so that one look at the estate fixes them all.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from wa_sync.errors import WaSyncError
from wa_sync.identity import AccountIndex, customer_file, duplicated
from wa_sync.model import FRIENDLY_NAME_PREFIX, Customer, LiveAccount


class SharedSubaccount(WaSyncError):
    """Two customers resolve to one subaccount, or one customer to several."""


@dataclass(frozen=True, slots=True)
class _Claim:
    customer: str
    how: str  # where and why, for the message


def ownership_problems(
    customers: Sequence[Customer],
    accounts: Sequence[LiveAccount],
    *,
    known: Collection[str],
    scope: Collection[str] | None = None,
) -> list[str]:
    """What is wrong with who owns which subaccount; `customers` are those loaded,
    `known` every customer id with a file (loaded or not). With `scope`, only the
    problems of those customers (a shard's plan fails for its own customers only)."""
    wanted = set(scope) if scope is not None else {c.id for c in customers}
    index = AccountIndex(accounts)
    by_sid, by_name = index.by_sid, index.open_by_name
    problems: list[str] = []
    claims: dict[str, list[_Claim]] = {}
    for customer in sorted(customers, key=lambda c: c.id):
        if customer.account_sid:
            sid = customer.account_sid
            _claim(
                claims, sid, customer.id, f"{customer_file(customer, 'account_sid')} (account_sid)"
            )
            adopted = by_sid.get(sid)
            owner = adopted.customer_id if adopted is not None else None
            if adopted is not None and owner not in (None, customer.id) and owner in known:
                why = f"the subaccount is named {adopted.friendly_name!r}"
                _claim(claims, sid, str(owner), f"customers/{owner}.yaml ({why})")
            continue
        named = by_name.get(customer.friendly_name, [])
        if len(named) > 1 and customer.id in wanted:
            problems.append(duplicated(customer, named))
        elif named:
            _claim(claims, named[0].sid, customer.id, f"{customer_file(customer)} (by its name)")
    for sid, claimants in sorted(claims.items()):
        if len(claimants) > 1 and any(c.customer in wanted for c in claimants):
            problems.append(_shared(sid, by_sid.get(sid), claimants))
    return problems


def check_ownership(
    customers: Sequence[Customer],
    accounts: Sequence[LiveAccount],
    *,
    known: Collection[str],
    scope: Collection[str] | None = None,
) -> None:
    """Raise SharedSubaccount with every problem `ownership_problems` finds."""
    problems = ownership_problems(customers, accounts, known=known, scope=scope)
    if problems:
        count = f"{len(problems)} problems" if len(problems) > 1 else "a problem"
        raise SharedSubaccount(
            f"{count} with who owns which subaccount; nothing was changed:\n" + "\n".join(problems)
        )


def _claim(claims: dict[str, list[_Claim]], sid: str, customer: str, how: str) -> None:
    found = claims.setdefault(sid, [])
    if all(c.customer != customer for c in found):
        found.append(_Claim(customer, how))


def _shared(sid: str, account: LiveAccount | None, claimants: Sequence[_Claim]) -> str:
    named = f" ({account.friendly_name!r})" if account is not None else ""
    who = " and ".join(f"customer {c.customer} in {c.how}" for c in claimants)
    owner = account.customer_id if account is not None else None
    adopters = [c for c in claimants if c.customer != owner]
    if account is None or len(adopters) == len(claimants):  # account_sid in several files
        fix = (
            f"a subaccount belongs to one customer: keep account_sid {sid} in one file "
            f"only, and give the other customer its own subaccount (remove its account_sid; "
            f"apply creates one named {FRIENDLY_NAME_PREFIX}<id>)"
        )
    else:  # a file's account_sid names the subaccount another customer's name claims
        files = " and ".join(c.how.removesuffix(" (account_sid)") for c in adopters)
        fix = (
            f"its name makes it customer {owner}'s. If it is, remove account_sid {sid} from "
            f"{files} (apply then gives {'each' if len(adopters) > 1 else 'that'} customer a "
            f"subaccount of its own); if it is "
            f"customer {adopters[0].customer}'s, rename it in the Twilio Console (any "
            f"FriendlyName but {account.friendly_name!r}), and apply creates customer "
            f"{owner} one"
        )
    count = len(claimants)
    return f"subaccount {sid}{named} would be managed by {count} customers: {who}\n  fix: {fix}"
