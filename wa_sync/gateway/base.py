"""The Gateway protocol: the only door to Twilio. Model types in and out.

No SDK object or exception gets past a gateway: Twilio's refusals become the
`TwilioError` subclasses below, keeping Twilio's code and link.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Protocol

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
    from wa_sync.gateway.twilio import Secret


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


# A customer id and the account_sid its file declares, if any: enough to find its
# subaccount before the configuration is loaded (Gateway.prefetch).
CustomerHint = tuple[str, str | None]


class Gateway(Protocol):
    """What the reconciler needs from Twilio. Implementations are thread-safe."""

    @property
    def parent_sid(self) -> str: ...

    @property
    def emulated(self) -> bool:
        """True when the gateway talks to the wa-sync emulator rather than Twilio."""
        ...

    def set_parallelism(self, parallelism: int) -> None:
        """At most `parallelism` requests in flight from now on."""
        ...

    def prefetch(self, hints: Callable[[], Collection[CustomerHint]], customers: int = 0) -> None:
        """Start the reads `read` will make in the background, from hints available
        before the configuration is loaded (`hints()`, asked for once the listing of
        subaccounts has come; `customers`: how many it will name at most); `read`
        uses what matches its customers."""
        ...

    def read(
        self,
        customers: Collection[Customer],
        on_customer: Callable[[LiveCustomer], None] | None = None,
    ) -> LiveEstate:
        """One listing of the parent's subaccounts, then per matched customer one
        Senders listing and one ContentAndApprovals listing. `on_customer` is called,
        in the calling thread, with each customer's state as soon as it is read (the
        very objects the LiveEstate holds)."""
        ...

    def read_subaccount(
        self, account: LiveAccount
    ) -> tuple[tuple[LiveSender, ...], tuple[LiveContent, ...]]:
        """The senders and contents of one subaccount (used by import and after writes)."""
        ...

    def create_subaccount(self, customer: Customer) -> LiveAccount:
        """Create `wa-sync:<id>`; if the outcome of the POST is unknown, list by
        FriendlyName before re-sending so that no duplicate is made."""
        ...

    def create_sender(self, account: LiveAccount, sender: Sender, waba_id: str) -> LiveSender: ...

    def update_sender(
        self, account: LiveAccount, sid: str, sender: Sender, waba_id: str
    ) -> LiveSender: ...

    def delete_sender(self, account: LiveAccount, sid: str) -> None: ...

    def verify_sender(self, account: LiveAccount, sid: str, code: Secret) -> LiveSender:
        """Post the one-time code Meta sent to a sender's phone (SPEC §1.1 step 4); the
        sender as Twilio then reports it. The code is never logged or kept."""
        ...

    def create_content(
        self, account: LiveAccount, template: Template, friendly_name: str
    ) -> LiveContent:
        """Create a content named `friendly_name` (the template's name or name_vN);
        a lost response is recovered by listing and matching name, language and types."""
        ...

    def submit(self, account: LiveAccount, content_sid: str, name: str, category: str) -> None:
        """Submit a content for WhatsApp approval under `name` and `category`."""
        ...

    def delete_content(self, account: LiveAccount, sid: str) -> None: ...
