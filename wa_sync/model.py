"""The domain model: what the repository declares (desired) and what Twilio holds (live).

Every value is a frozen dataclass; mappings are read-only (`freeze`) so that a model
can be shared between threads and never changes under the diff. `thaw` gives plain
dicts and lists back for JSON, digests and deepdiff.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from wa_sync.errors import Location
from wa_sync.visible import one_line

FRIENDLY_NAME_PREFIX = "wa-sync:"
CUSTOMER_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,55}\Z")
ACCOUNT_SID_PATTERN = re.compile(r"^AC[0-9a-f]{32}\Z")  # as Twilio writes it, and the schema
TEMPLATE_NAME_PATTERN = re.compile(r"^[a-z0-9_]{1,512}\Z")  # a WhatsApp template name
VERSION_SUFFIX = re.compile(r"^(?P<base>.+)_v(?P<n>[2-9]|[1-9][0-9]+)\Z")
# The friendly name of wa-sync's record that it deleted an approved template, whose name
# WhatsApp then blocks for NAME_REUSE_DAYS (plan/retired.py): "wa-sync:deleted:<name>:<UTC time>".
# No template name can start so (names are a-z, 0-9 and _ only).
RETIRED_PREFIX = "wa-sync:deleted:"
NAME_REUSE_DAYS = 30

EMPTY: Mapping[str, Any] = MappingProxyType({})
NOWHERE = Location("")


def _empty() -> Mapping[str, Any]:
    return EMPTY


def _nowhere() -> Location:
    return NOWHERE


def freeze(value: Any) -> Any:
    """A deep read-only copy: dicts become MappingProxyType, lists become tuples."""
    kind = type(value)
    if kind is str or value is None or kind is int or kind is bool or kind is float:
        return value
    if kind is dict or kind is MappingProxyType or isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if kind is list or kind is tuple or isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The plain-JSON form of a frozen value: mappings become dicts, tuples lists."""
    kind = type(value)
    if kind is str or value is None or kind is int or kind is bool or kind is float:
        return value
    if kind is MappingProxyType or kind is dict or isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if kind is tuple or kind is list or isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


# --- desired state ---------------------------------------------------------------


class BusinessVerification(StrEnum):
    NOT_STARTED = "not_started"
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class AccessRequest(StrEnum):
    NOT_SUBMITTED = "not_submitted"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DENIED = "denied"


class Invitation(StrEnum):
    NOT_SENT = "not_sent"
    PENDING = "pending"
    APPROVED = "approved"


class Flow(StrEnum):
    """How a customer is onboarded: the seed's ISV flow (SPEC §1) or Twilio's Tech
    Provider Program with Meta's Embedded Signup (SPEC §1.1)."""

    LEGACY = "legacy"
    EMBEDDED_SIGNUP = "embedded_signup"


class Signup(StrEnum):
    NOT_STARTED = "not_started"
    COMPLETED = "completed"


class TechProviderStatus(StrEnum):
    NOT_APPLIED = "not_applied"
    PENDING = "pending"
    APPROVED = "approved"


@dataclass(frozen=True, kw_only=True, slots=True)
class Onboarding:
    """The manual onboarding steps (SPEC §1, steps 2-5 and 7; §1.1, step 2), as people
    recorded them. `flow` is the customer's own or, when it has none, the setting's."""

    flow: Flow = Flow.LEGACY
    signup: Signup = Signup.NOT_STARTED  # embedded_signup only
    signup_date: str | None = None  # ISO date the signup completed, embedded_signup only
    terms_accepted: bool = False
    business_verification: BusinessVerification = BusinessVerification.NOT_STARTED
    access_request: AccessRequest = AccessRequest.NOT_SUBMITTED
    invitation: Invitation = Invitation.NOT_SENT


@dataclass(frozen=True, kw_only=True, slots=True)
class TechProvider:
    """The ISV in Twilio's WhatsApp Tech Provider Program (SPEC §1.1, step 0)."""

    status: TechProviderStatus = TechProviderStatus.NOT_APPLIED
    business_verified: bool = False  # the ISV's own Meta business verification


@dataclass(frozen=True, kw_only=True, slots=True)
class Isv:
    name: str = ""
    email: str = ""
    facebook_business_manager_id: str = ""
    tech_provider: TechProvider = field(default_factory=TechProvider)


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    parallelism: int = 8
    prune: bool = False
    max_delete_fraction: float = 0.25
    lock_timeout: str | int = 0  # how long apply waits for another's lock: 0, 30s, 5m, 1h
    onboarding_flow: Flow = Flow.LEGACY  # the flow of customers that name none
    on_category_change: str = "report"  # report | fail: plan exits 1 on a re-categorisation


@dataclass(frozen=True, kw_only=True, slots=True)
class Sender:
    """A WhatsApp sender as declared. `profile` uses the YAML's shape (emails and websites
    are lists of strings); the gateway translates to and from Twilio's shape."""

    phone_number: str  # E.164, e.g. "+14155550123"
    display_name: str
    # about, description, address, emails, websites, vertical, logo_url
    profile: Mapping[str, Any] = field(default_factory=_empty)
    # callback_url, callback_method, status_callback_url, fallback_url, ...
    webhook: Mapping[str, Any] = field(default_factory=_empty)
    verification: str | None = None  # sms | voice: how Meta sends the one-time code
    ignore: tuple[str, ...] = ()  # fields the customer may edit in WhatsApp Manager
    where: Location = field(default_factory=_nowhere)  # the file and line of the entry
    path: str = ""  # the entry's key path in its file, e.g. "senders[0]"
    # key path relative to the entry (e.g. "profile.about") -> line in `where.file`
    lines: Mapping[str, int] = field(default_factory=_empty)
    protect: bool = False  # never deleted by any plan (SPEC §4.8)

    @property
    def sender_id(self) -> str:
        """Identity within a subaccount (SPEC §4.3)."""
        return f"whatsapp:{self.phone_number}"

    @property
    def address(self) -> str:
        return f"sender.{self.sender_id}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Template:
    """One WhatsApp template in one language, as a Twilio Content `types` object."""

    name: str
    language: str
    category: str  # MARKETING | UTILITY | AUTHENTICATION
    types: Mapping[str, Any]  # e.g. {"twilio/text": {"body": "Hi {{1}}"}}
    variables: Mapping[str, str] = field(default_factory=_empty)  # sample values, "1" -> "Maria"
    library: str = ""  # the `use:` library template it was rendered from, "" when inline
    # Where the template is written: an inline entry in the customer file, or the
    # localization in the library file it was rendered from.
    where: Location = field(default_factory=_nowhere)
    path: str = ""  # the entry's key path in its file: "templates[1]" or "localizations.es"
    # key path relative to the entry, in the model's terms ("types.twilio/text.body",
    # "variables.1", "category") -> line in `where.file`
    lines: Mapping[str, int] = field(default_factory=_empty)
    # no live version of this name, in any language, is ever deleted (SPEC §4.8)
    protect: bool = False
    ignore: tuple[str, ...] = ()  # "category": a re-categorisation is only an info note

    @property
    def key(self) -> tuple[str, str]:
        """Identity within a subaccount (SPEC §4.3): (name, language)."""
        return (self.name, self.language)

    @property
    def address(self) -> str:
        return f"template.{self.name}[{self.language}]"


@dataclass(frozen=True, kw_only=True, slots=True)
class Customer:
    id: str
    name: str
    facebook_business_manager_id: str | None = None
    customer_account_sid: str | None = None
    account_sid: str | None = None  # adopt this subaccount instead of matching by FriendlyName
    waba_id: str | None = None
    onboarding: Onboarding = field(default_factory=Onboarding)
    senders: tuple[Sender, ...] = ()
    templates: tuple[Template, ...] = ()
    where: Location = field(default_factory=_nowhere)  # the customer file
    lines: Mapping[str, int] = field(default_factory=_empty)  # key path -> line in the file
    protect: bool = False  # nothing in its subaccount is ever deleted (SPEC §4.8)
    # (library template, language) -> the key path of the `use:` entry that renders it
    uses: Mapping[tuple[str, str], str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def friendly_name(self) -> str:
        """The subaccount FriendlyName that identifies this customer (SPEC §4.3)."""
        return f"{FRIENDLY_NAME_PREFIX}{self.id}"

    @property
    def address(self) -> str:
        return f"customer.{self.id}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    """The whole repository, loaded, rendered and validated."""

    root: str
    isv: Isv = field(default_factory=Isv)
    settings: Settings = field(default_factory=Settings)
    customers: tuple[Customer, ...] = ()

    # customer id -> Customer, filled on first use (the model stays read-only)
    _by_id: dict[str, Customer] = field(default_factory=dict, init=False, repr=False, compare=False)

    def customer(self, customer_id: str) -> Customer | None:
        if not self._by_id and self.customers:
            index = {c.id: c for c in reversed(self.customers)}  # the first one wins
            self._by_id.update(index)  # one step, for other threads
        return self._by_id.get(customer_id)


def rollout_name_clash(name: str) -> tuple[str, str] | None:
    """What is wrong and what to do, when `name` ends like a rollout version (SPEC
    §4.4): its live content would be taken for a version of the shorter name."""
    match = VERSION_SUFFIX.match(name)
    if match is None:
        return None
    return (
        f"{name!r} ends like a rollout version of {match['base']!r}: wa-sync names new "
        f"versions of a changed template <name>_v2, <name>_v3…",
        f"choose a name that does not end in _v{match['n']}",
    )


def split_version(name: str) -> tuple[str, int]:
    """("reminder", 3) for "reminder_v3"; ("reminder", 1) for "reminder" (SPEC §4.4)."""
    match = VERSION_SUFFIX.match(name)
    if match:
        return match["base"], int(match["n"])
    return name, 1


# --- live state --------------------------------------------------------------------


class ApprovalStatus(StrEnum):
    """Twilio's WhatsApp approval status for a content (lowercase, as Twilio sends it)."""

    UNSUBMITTED = "unsubmitted"
    RECEIVED = "received"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAUSED = "paused"
    DISABLED = "disabled"

    @property
    def in_review(self) -> bool:
        return self in (ApprovalStatus.RECEIVED, ApprovalStatus.PENDING)

    @property
    def locked(self) -> bool:
        """Submitted content can no longer change (Twilio error 92009)."""
        return self is not ApprovalStatus.UNSUBMITTED

    @property
    def was_approved(self) -> bool:
        """Approved by WhatsApp (perhaps paused or disabled since): deleting it blocks
        its name for NAME_REUSE_DAYS."""
        return self in (ApprovalStatus.APPROVED, ApprovalStatus.PAUSED, ApprovalStatus.DISABLED)


@dataclass(frozen=True, kw_only=True, slots=True)
class LiveAccount:
    """A subaccount as Twilio holds it. `friendly_name` is Twilio's text exactly: it
    identifies a customer's subaccount (SPEC §4.3); what people read is `shown_name`."""

    sid: str
    friendly_name: str
    status: str = "active"  # active | suspended | closed

    @property
    def shown_name(self) -> str:
        """The FriendlyName for display: on one line, control characters escaped."""
        return one_line(self.friendly_name)

    @property
    def shown_customer_id(self) -> str:
        """The customer id its FriendlyName encodes, for display ("" when none)."""
        return one_line(self.customer_id or "")

    @property
    def customer_id(self) -> str | None:
        """The customer id encoded in a wa-sync FriendlyName, or None."""
        if self.friendly_name.startswith(FRIENDLY_NAME_PREFIX):
            return self.friendly_name[len(FRIENDLY_NAME_PREFIX) :]
        return None


@dataclass(frozen=True, kw_only=True, slots=True)
class LiveSender:
    sid: str
    sender_id: str  # "whatsapp:+14155550123"
    status: str  # CREATING | ONLINE | OFFLINE | PENDING_VERIFICATION | ...
    display_name: str
    profile: Mapping[str, Any] = field(
        default_factory=_empty
    )  # the model's shape (see Sender.profile)
    webhook: Mapping[str, Any] = field(default_factory=_empty)
    waba_id: str | None = None
    verification: str | None = None  # configuration.verification_method: sms | voice
    pending_display_name: str | None = None
    pending_display_name_status: str | None = None
    offline_reasons: tuple[str, ...] = ()
    quality_rating: str | None = None  # properties.quality_rating: HIGH, MEDIUM, LOW
    messaging_limit: str | None = None  # properties.messaging_limit, e.g. "1K Customers/24hr"

    @property
    def phone_number(self) -> str:
        return self.sender_id.removeprefix("whatsapp:")


@dataclass(frozen=True, kw_only=True, slots=True)
class LiveContent:
    """A template's content as Twilio holds it. The names are Twilio's text exactly: they
    identify the template (SPEC §4.3) and are compared with the configuration, so what
    people read is their display form (`shown_name`, `shown_language`...); Twilio's
    rejection reason is only shown, and is on one line when read (gateway/shapes.py)."""

    sid: str
    friendly_name: str  # the WhatsApp name: <name> or <name>_vN
    language: str
    types: Mapping[str, Any]
    variables: Mapping[str, str] = field(default_factory=_empty)
    approval_status: ApprovalStatus = ApprovalStatus.UNSUBMITTED
    approval_name: str = ""
    approval_category: str = ""
    rejection_reason: str = ""
    date_created: str = ""

    @property
    def created_at(self) -> datetime | None:
        """When Twilio created it (UTC when Twilio gives no zone), None without a date."""
        try:
            created = datetime.fromisoformat(self.date_created)
        except ValueError:
            return None
        return created if created.tzinfo else created.replace(tzinfo=UTC)

    @property
    def retired_name(self) -> str | None:
        """The template name this content records as deleted (RETIRED_PREFIX), or None
        for a template's content."""
        if not self.friendly_name.startswith(RETIRED_PREFIX):
            return None
        return self.friendly_name[len(RETIRED_PREFIX) :].partition(":")[0]

    @property
    def whatsapp_name(self) -> str:
        """The name WhatsApp knows the template by: the one it was submitted under (a
        Console template's FriendlyName may differ), else the FriendlyName wa-sync submits."""
        return self.approval_name or self.friendly_name

    @property
    def shown_name(self) -> str:
        """The FriendlyName for display: on one line, control characters escaped."""
        return one_line(self.friendly_name)

    @property
    def shown_language(self) -> str:
        """The language for display: on one line, control characters escaped."""
        return one_line(self.language)

    @property
    def shown_whatsapp_name(self) -> str:
        """`whatsapp_name` for display: on one line, control characters escaped."""
        return one_line(self.whatsapp_name)

    @property
    def shown_retired_name(self) -> str:
        """`retired_name` for display: on one line, control characters escaped."""
        return one_line(self.retired_name or "")

    @property
    def base_name_and_version(self) -> tuple[str, int]:
        """("reminder", 3) for "reminder_v3"; ("reminder", 1) for "reminder"."""
        return split_version(self.friendly_name)


@dataclass(frozen=True, kw_only=True, slots=True)
class LiveCustomer:
    """What Twilio holds for one customer; `account` is None when no subaccount exists."""

    customer_id: str
    account: LiveAccount | None = None
    senders: tuple[LiveSender, ...] = ()
    contents: tuple[LiveContent, ...] = ()  # the templates' contents
    # wa-sync's records of deleted approved templates (LiveContent.retired_name), taken
    # out of `contents` when given there: they are no template
    retired: tuple[LiveContent, ...] = ()
    # (base name, language) -> versions, filled on first use (the model stays read-only)
    _versions: dict[tuple[str, str], tuple[LiveContent, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if any(c.friendly_name.startswith(RETIRED_PREFIX) for c in self.contents):
            records = tuple(c for c in self.contents if c.retired_name is not None)
            contents = tuple(c for c in self.contents if c.retired_name is None)
            object.__setattr__(self, "contents", contents)
            object.__setattr__(self, "retired", self.retired + records)

    def versions(self, name: str, language: str) -> tuple[LiveContent, ...]:
        """The live versions of template (name, language), oldest first: `name`, then
        `name_v2`, `name_v3`... (SPEC §4.4)."""
        if not self._versions and self.contents:
            found: dict[tuple[str, str], list[tuple[int, int, LiveContent]]] = {}
            for position, content in enumerate(self.contents):
                base, version = content.base_name_and_version
                found.setdefault((base, content.language), []).append((version, position, content))
            index = {key: tuple(c for _, _, c in sorted(items)) for key, items in found.items()}
            self._versions.update(index)  # one step, for other threads
        return self._versions.get((name, language), ())


@dataclass(frozen=True, kw_only=True, slots=True)
class LiveEstate:
    parent_sid: str
    accounts: tuple[LiveAccount, ...] = ()  # every subaccount of the parent
    customers: Mapping[str, LiveCustomer] = field(default_factory=_empty)
