"""The Gateway protocol: the only door to Twilio. Model types in and out.

No SDK object or exception gets past a gateway: Twilio's refusals become the
`TwilioError` subclasses below, keeping Twilio's code and link.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Protocol

from wa_sync.credentials import Secret
from wa_sync.errors import TwilioError
from wa_sync.model import (
    Customer,
    LiveAccount,
    LiveContent,
    LiveCustomer,
    LiveEstate,
    LiveSender,
    Sender,
    Template,
)

if TYPE_CHECKING:
    from wa_sync.lockdoc import LockStore


class NotFound(TwilioError):
    """HTTP 404 / Twilio 20404."""


class AuthFailed(TwilioError):
    """HTTP 401 / Twilio 20003: wrong credentials, or a Standard API key on /Accounts."""


class RateLimited(TwilioError):
    """HTTP 429 / Twilio 20429 after the retries ran out."""


class ContentLocked(TwilioError):
    """Twilio 92009: content already submitted for approval cannot change."""


class TooManySubaccounts(TwilioError):
    """Twilio 21480: the parent reached its subaccount limit (1,000 by default)."""


class Unavailable(TwilioError):
    """5xx, timeouts or dropped connections after the retries ran out."""


class BrokenAnswer(TwilioError):
    """An answer that cannot be Twilio's: not JSON, cut off, too slow or too large, or
    a listing whose pages loop, repeat an object or lead to another host."""


class Gateway(Protocol):
    """What the reconciler needs from Twilio. Implementations are thread-safe."""

    @property
    def parent_sid(self) -> str: ...

    @property
    def emulated(self) -> bool:
        """True when the gateway talks to the wa-sync emulator rather than Twilio."""

    def read(
        self,
        customers: Collection[Customer],
        on_customer: Callable[[LiveCustomer], None] | None = None,
        on_unread: Callable[[str, TwilioError], None] | None = None,
    ) -> LiveEstate:
        """One listing of subaccounts, then per matched customer one Senders and one
        ContentAndApprovals listing; `on_customer(state)` in this thread as each is read.
        A subaccount that cannot be read raises, or with `on_unread` is told as
        `on_unread(customer_id, error)` and left out of the estate's customers, and the
        read goes on (SPEC §4.2: one customer's failure does not stop the others)."""

    def read_subaccount(
        self, account: LiveAccount
    ) -> tuple[tuple[LiveSender, ...], tuple[LiveContent, ...]]:
        """The senders and contents of one subaccount (used by import and after writes)."""

    def read_senders(
        self,
        accounts: Collection[LiveAccount],
        on_answer: Callable[[str], None] | None = None,
    ) -> dict[str, tuple[LiveSender, ...] | TwilioError]:
        """The senders of each subaccount by SID (one listing each, on `read`'s pool and
        pacing), or the error Twilio gave for it after the retries: a scoped plan that
        registers a number asks who else holds it (plan/registrations.py). `on_answer(sid)`
        in this thread as each subaccount is answered for, or not."""

    def create_subaccount(self, customer: Customer) -> LiveAccount:
        """Create `wa-sync:<id>`; a lost answer is looked for by name before re-sending."""

    def create_sender(self, account: LiveAccount, sender: Sender, waba_id: str) -> LiveSender: ...

    def update_sender(self, account: LiveAccount, sid: str, sender: Sender) -> LiveSender:
        """Its profile and webhook as declared; never its WhatsApp Business Account."""

    def delete_sender(self, account: LiveAccount, sid: str) -> None: ...

    def verify_sender(self, account: LiveAccount, sid: str, code: Secret) -> LiveSender:
        """Post Meta's one-time code (SPEC §1.1 step 4), never logged or kept; the sender."""

    def create_content(
        self, account: LiveAccount, template: Template, friendly_name: str
    ) -> LiveContent:
        """Create `friendly_name` (name or name_vN); a lost answer is found by identity."""

    def submit(self, account: LiveAccount, content_sid: str, name: str, category: str) -> None:
        """Submit a content for WhatsApp approval under `name` and `category`."""

    def delete_content(self, account: LiveAccount, sid: str) -> None: ...

    def lock_store(self, *, stoppable: bool = False) -> LockStore:
        """Where the apply lock lives (SPEC §4.8; docs/reliability.md): the parent
        account's Sync Documents (gateway/lock.py); `stoppable`: its requests stop for a
        signal the command recorded."""
        ...
