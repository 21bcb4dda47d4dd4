"""Which subaccount is a customer's (SPEC §4.3): the `account_sid` its file names, or
else the one open subaccount named `wa-sync:<id>`. Pure: the gateway lists, this decides.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from wa_sync.errors import WaSyncError
from wa_sync.model import FRIENDLY_NAME_PREFIX, Customer, LiveAccount


class AmbiguousSubaccount(WaSyncError):
    """Two subaccounts carry the FriendlyName of one customer."""


class UnknownSubaccount(WaSyncError):
    """A customer's `account_sid` is not a subaccount of the parent."""


class AccountIndex:
    """The parent's subaccounts by SID and, of those not closed, by name in listing order."""

    def __init__(self, accounts: Collection[LiveAccount]):
        self.by_sid: dict[str, LiveAccount] = {}
        self.open_by_name: dict[str, list[LiveAccount]] = {}
        for account in accounts:
            self.by_sid.setdefault(account.sid, account)
            if account.status != "closed":
                self.open_by_name.setdefault(account.friendly_name, []).append(account)

    def match(self, customer: Customer, parent_sid: str) -> LiveAccount | None:
        """The customer's subaccount, None when there is none yet (or several by name:
        plan.ownership refuses those all at once); UnknownSubaccount for an `account_sid`
        that is not the parent's."""
        if customer.account_sid:
            found = self.by_sid.get(customer.account_sid)
            if found is None:
                raise UnknownSubaccount(
                    f"{customer_file(customer, 'account_sid')}: customer {customer.id}: "
                    f"account_sid {customer.account_sid} is "
                    f"not a subaccount of the parent account {parent_sid}\n"
                    f"  fix: correct account_sid, or remove it to match the subaccount "
                    f"named {customer.friendly_name!r}"
                )
            return found
        named = self.open_by_name.get(customer.friendly_name, [])
        return named[0] if len(named) == 1 else None

    def readable(
        self, customer_id: str, customer: Customer | None, parent_sid: str
    ) -> LiveAccount | None:
        """The active subaccount of a customer a plan does not diff (out of its scope),
        None when there is none: by `match` when its file loaded (an `account_sid` that
        is not the parent's is none), else by the name `wa-sync:<id>`. Twilio refuses a
        suspended or closed account's own credentials, so those are none either."""
        if customer is None:
            named = self.open_by_name.get(f"{FRIENDLY_NAME_PREFIX}{customer_id}", [])
            found = named[0] if len(named) == 1 else None
        else:
            try:
                found = self.match(customer, parent_sid)
            except UnknownSubaccount:
                return None
        return found if found is not None and found.status == "active" else None

    def only_by_name(self, customer: Customer) -> LiveAccount | None:
        """The one open subaccount named for `customer` (a lost create's result), None
        when there is none; AmbiguousSubaccount when there are several."""
        found = self.open_by_name.get(customer.friendly_name, [])
        if len(found) > 1:  # as plan.ownership says it
            raise AmbiguousSubaccount(duplicated(customer, found))
        return found[0] if found else None


def duplicated(customer: Customer, named: Sequence[LiveAccount]) -> str:
    """Several open subaccounts carry the customer's name: which, and what to do."""
    sids = ", ".join(a.sid for a in named)
    file = customer_file(customer)
    return (
        f"{file}: customer {customer.id}: {len(named)} subaccounts are named "
        f"{customer.friendly_name!r}: {sids}\n"
        f"  fix: set account_sid in {file} to the one to manage, and in the Twilio "
        f"console rename or close the other{'s' if len(named) > 2 else ''} (any FriendlyName "
        f"but {customer.friendly_name!r})"
    )


def customer_file(customer: Customer, key: str = "") -> str:
    """The customer's file, and the line of `key` in it where known."""
    file = customer.where.file or f"customers/{customer.id}.yaml"
    line = customer.lines.get(key) if key else None
    return f"{file}:{line}" if line else file
