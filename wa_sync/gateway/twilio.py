"""The Twilio gateway: the Gateway protocol over RetryingHttpClient, writing through the
official twilio SDK and reading listings through PageReader (pages.py: one thread for
every read in flight, the SDK's paging and error reading kept).

Authentication follows SPEC §5: the parent's credentials (account SID and auth token, or
a Main API key) for the 2010 Accounts API only; each subaccount's own SID and auth token,
read from the parent's account listing and held in memory only, for its Content and
Senders. Twilio ignores `account_sid=` on those products and would act on the parent's
own data.

Reads take the fewest requests: one paged listing of the parent's subaccounts, then per
matched customer one Senders listing and one ContentAndApprovals listing, as many in
flight at once as the parallelism allows. Creates whose outcome is unknown
(`OutcomeUnknown`) are recovered by listing and matching by identity before anything is
sent again (SPEC §4.3).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property, partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlencode

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException

from wa_sync.errors import TwilioError, WaSyncError
from wa_sync.gateway.base import (
    AuthFailed,
    ContentLocked,
    CustomerHint,
    NotFound,
    RateLimited,
    TooManySubaccounts,
    Unavailable,
)
from wa_sync.gateway.http import OutcomeUnknown, RetryingHttpClient, Unreachable, pool_size
from wa_sync.gateway.pages import PageFailure, PageReader, Records
from wa_sync.model import (
    FRIENDLY_NAME_PREFIX,
    ApprovalStatus,
    Customer,
    LiveAccount,
    LiveContent,
    LiveCustomer,
    LiveEstate,
    LiveSender,
    Sender,
    Template,
    freeze,
    thaw,
)
from wa_sync.visible import visible

if TYPE_CHECKING:
    from twilio.http import HttpClient
    from twilio.rest import Client

_log = logging.getLogger("wa_sync.gateway")

PAGE_SIZE = 1000
CHANNEL = "whatsapp"
_ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

# The fields of Twilio's JSON the translations below read.
ACCOUNT_FIELDS = ("sid", "auth_token", "friendly_name", "status")
SENDER_FIELDS = (
    "sid",
    "sender_id",
    "status",
    "profile",
    "configuration",
    "webhook",
    "offline_reasons",
    "pending_display_name",
    "pending_display_name_status",
)
CONTENT_FIELDS = (
    "sid",
    "friendly_name",
    "language",
    "types",
    "variables",
    "approval_requests",
    "date_created",
)

# The profile keys of the model (YAML) and the webhook keys of Twilio's Senders API.
PROFILE_TEXT_KEYS = ("about", "description", "address", "vertical", "logo_url")
PROFILE_LIST_KEYS = {"emails": ("email", "Email"), "websites": ("website", "Website")}
WEBHOOK_URL_KEYS = ("callback_url", "fallback_url", "status_callback_url")
WEBHOOK_METHOD_KEYS = ("callback_method", "fallback_method", "status_callback_method")

MAIN_KEY_HINT = (
    "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN; an API key (TWILIO_API_KEY) must be a "
    "Main key, because a Standard key cannot read or create subaccounts"
)

T = TypeVar("T")
SubaccountState = tuple[tuple[LiveSender, ...], tuple[LiveContent, ...]]


class Secret:
    """A credential held in memory only: its repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class ParentCredentials:
    """The ISV's parent account: `username` is the account SID (with its auth token)
    or an API key SID (with its secret)."""

    account_sid: str
    username: str
    secret: Secret

    @property
    def uses_api_key(self) -> bool:
        return self.username != self.account_sid


class AmbiguousSubaccount(WaSyncError):
    """Two subaccounts carry the FriendlyName of one customer."""


class UnknownSubaccount(WaSyncError):
    """A customer's `account_sid` is not a subaccount of the parent."""


class NotAParent(WaSyncError):
    """The credentials are a subaccount's, not the ISV's parent account's."""


def _check_parent(account: Mapping[str, Any]) -> None:
    """The credentials' own account, as the accounts listing shows it, must be a parent:
    a subaccount's (its owner_account_sid another account) would plan a new
    subaccount for every customer, under the wrong account."""
    sid, owner = account.get("sid"), account.get("owner_account_sid")
    if owner and owner != sid:
        raise NotAParent(
            f"the Twilio credentials are those of {sid}, a subaccount of {owner}: wa-sync "
            f"manages customers' subaccounts from the ISV's parent account\n"
            f"  fix: set TWILIO_ACCOUNT_SID to the parent account {owner}, with its auth "
            f"token (or an API key of that account)"
        )


class _RawRequest:
    """What the SDK's typed request models are to `create()`: something with `to_dict`.
    The SDK's own models drop unknown keys (any Content type they do not know); this
    one sends the validated dict as is."""

    def __init__(self, body: Mapping[str, Any]):
        self._body = thaw(body)

    def to_dict(self) -> dict[str, Any]:
        return self._body


def _both(
    senders: Future[tuple[LiveSender, ...]],
    contents: Future[tuple[LiveContent, ...]],
    failure: Callable[[_Kind, BaseException], BaseException],
) -> Future[SubaccountState]:
    """A future of both reads: their results, or the first error (the senders' first),
    as `failure` makes it of the listing's kind and its error."""
    both: Future[SubaccountState] = Future()

    def settle(_done: Future[Any]) -> None:
        if not (senders.done() and contents.done()):
            return
        with _SETTLING:  # both callbacks may find both done: the first one settles
            if both.done():
                return
            for kind, part in ((SENDERS, senders), (CONTENTS, contents)):
                if part.cancelled():
                    both.cancel()
                    both.set_running_or_notify_cancel()
                    return
                error = part.exception()
                if error is not None:
                    both.set_exception(failure(kind, error))
                    return
            both.set_result((senders.result(), contents.result()))

    senders.add_done_callback(settle)
    contents.add_done_callback(settle)
    return both


_SETTLING = threading.Lock()


def twilio_url(path: str, *, edge: str | None, region: str | None) -> str:
    """The URL of `https://<product>.twilio.com/<path>` (path as `product/...`) with the
    edge and region applied as the twilio SDK applies them (ClientBase.get_hostname):
    `<product>.<edge>.<region>.twilio.com`, the region `us1` when only an edge is set."""
    product, _, rest = path.partition("/")
    region = region or (edge and "us1") or None
    host = ".".join(part for part in (product, edge, region, "twilio.com") if part)
    return f"https://{host}/{rest}"


def _page_error(status: int, text: str) -> tuple[int, str]:
    """Twilio's error code and message from a listing's failed answer, as the SDK
    reads them (the status for a code, "Unable to fetch page" for a message)."""
    body = _json_object(text)
    code = body.get("code")
    message = str(body.get("message") or "Unable to fetch page")
    return (code if isinstance(code, int) else status), message


def _fields(instance: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The JSON-named attributes of an SDK instance (what create/update/fetch return)."""
    return {name: getattr(instance, name, None) for name in names}


class TwilioGateway:
    """The Gateway protocol over Twilio's REST API (or the emulator), thread-safe."""

    def __init__(
        self,
        credentials: ParentCredentials,
        *,
        http_client: RetryingHttpClient,
        parallelism: int = 8,
        emulated: bool = False,
        edge: str | None = None,
        region: str | None = None,
    ):
        self._credentials = credentials
        self._http = http_client
        self._parallelism = max(1, parallelism)
        self._emulated = emulated
        self._sdk_environment = {"TWILIO_EDGE": edge or "", "TWILIO_REGION": region or ""}
        self._pages = PageReader(http_client, width=self._parallelism)
        self._lock = threading.RLock()
        self._tokens: dict[str, Secret] = {}
        self._subclients: dict[str, Client] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._accounts: Future[tuple[LiveAccount, ...]] | None = None
        self._reads: dict[str, Future[SubaccountState]] = {}
        self._kind_urls: dict[tuple[_Kind, int], str] = {}  # the URL of each kind's first page
        self._closed = False

    def __repr__(self) -> str:
        return f"TwilioGateway(parent_sid={self.parent_sid!r}, emulated={self._emulated})"

    @property
    def parent_sid(self) -> str:
        return self._credentials.account_sid

    @property
    def emulated(self) -> bool:
        return self._emulated

    def set_parallelism(self, parallelism: int) -> None:
        """At most `parallelism` reads in flight, and as many connections kept, from now
        on (a command may know it only after its first request: commands/common.py)."""
        with self._lock:
            self._parallelism = max(1, parallelism)
        self._pages.set_width(self._parallelism)
        self._http.set_pool_size(pool_size(self._parallelism))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self._pages.close()
        self._http.close()

    # --- reads ---------------------------------------------------------------------------

    def prefetch(self, hints: Callable[[], Collection[CustomerHint]], customers: int = 0) -> None:
        """Start, in the background, the reads that `read` will make: the accounts
        listing and, as each page of it arrives, the subaccount of every hinted
        customer (by its `account_sid`, else by the FriendlyName `wa-sync:<id>`: the
        first open account of that name). `hints()` is asked for when the first page
        has arrived, so the caller may work them out while the listing is on its way;
        `customers`, how many it will name at most, has connections opened for their
        reads meanwhile.
        `read` takes what was fetched for the accounts it matches and reads the rest
        itself, so a wrong hint (or a name that a later page shows to be ambiguous)
        costs requests, never correctness. Errors surface when `read` needs the result."""
        named: set[str] = set()  # names whose first open account was seen

        @cache  # asked once, on the reading thread, as the account page is converted
        def wanted() -> tuple[set[str], set[str]]:
            found = hints()
            by_sid = {sid for _cid, sid in found if sid}
            return by_sid, {f"{FRIENDLY_NAME_PREFIX}{cid}" for cid, sid in found if not sid}

        def read_hinted(account: LiveAccount) -> None:
            by_sid, by_name = wanted()
            first_of_name = False
            if account.status != "closed" and account.friendly_name in by_name:
                first_of_name = account.friendly_name not in named
                named.add(account.friendly_name)
            if account.status == "active" and (account.sid in by_sid or first_of_name):
                with contextlib.suppress(WaSyncError):  # closed meanwhile: nobody reads it
                    self._subaccount_future(account)

        with self._lock:
            if self._accounts is not None:
                return
            self._accounts = self._accounts_listing(on_account=read_hinted)
        for kind in (SENDERS, CONTENTS):
            self._pages.expect(self._kind_url(kind), customers)

    def read(
        self,
        customers: Collection[Customer],
        on_customer: Callable[[LiveCustomer], None] | None = None,
    ) -> LiveEstate:
        try:
            return self._read(customers, on_customer)
        finally:
            with self._lock:  # a later read (after writes) reads afresh
                self._accounts = None
                self._reads.clear()

    def _read(
        self,
        customers: Collection[Customer],
        on_customer: Callable[[LiveCustomer], None] | None,
    ) -> LiveEstate:
        with self._lock:
            listing = self._accounts
        accounts = list(listing.result() if listing is not None else self._list_accounts())
        index = _AccountIndex(accounts)
        matched = {c.id: self._match(c, index) for c in customers}
        live: dict[str, LiveCustomer] = {}
        waiting: dict[Future[SubaccountState], list[tuple[str, LiveAccount]]] = {}
        for customer_id, account in matched.items():
            if account is None:
                live[customer_id] = LiveCustomer(customer_id=customer_id)
            elif account.status != "active":
                # Twilio refuses a suspended or closed account's own credentials.
                live[customer_id] = LiveCustomer(customer_id=customer_id, account=account)
            else:
                future = self._subaccount_future(account)
                waiting.setdefault(future, []).append((customer_id, account))
        if on_customer is not None:
            for known in live.values():
                on_customer(known)
        for future in as_completed(waiting):  # in the order Twilio answers
            senders, contents = future.result()
            for customer_id, account in waiting[future]:
                current = live[customer_id] = LiveCustomer(
                    customer_id=customer_id, account=account, senders=senders, contents=contents
                )
                if on_customer is not None:
                    on_customer(current)
        return LiveEstate(
            parent_sid=self.parent_sid,
            accounts=tuple(accounts),
            customers=MappingProxyType({cid: live[cid] for cid in matched}),
        )

    def _executor(self) -> ThreadPoolExecutor:
        """Worker threads for the reads of a subaccount whose auth token must first be
        fetched (through the SDK, which blocks): every other read is PageReader's."""
        with self._lock:
            if self._closed:
                raise WaSyncError("the Twilio gateway is closed")
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self._parallelism, thread_name_prefix="wa-sync-read"
                )
            return self._pool

    def _subaccount_future(self, account: LiveAccount) -> Future[SubaccountState]:
        """The read of one subaccount's senders and contents, started once. Without its
        auth token yet (fetched with a request of its own), on a worker thread."""
        with self._lock:
            future = self._reads.get(account.sid)
            if future is None:
                if account.sid in self._tokens:
                    senders = self._listing(account, SENDERS)
                    contents = self._listing(account, CONTENTS)
                    future = _both(senders, contents, partial(self._failure, account.sid))
                else:
                    future = self._executor().submit(self.read_subaccount, account)
                self._reads[account.sid] = future
            return future

    def read_subaccount(self, account: LiveAccount) -> SubaccountState:
        return self.list_senders(account), self.list_contents(account)

    def list_senders(self, account: LiveAccount) -> tuple[LiveSender, ...]:
        with self._errors(SENDERS.what(account.sid), account.sid):
            return cast("tuple[LiveSender, ...]", self._listing(account, SENDERS).result())

    def list_contents(self, account: LiveAccount) -> tuple[LiveContent, ...]:
        with self._errors(CONTENTS.what(account.sid), account.sid):
            return cast("tuple[LiveContent, ...]", self._listing(account, CONTENTS).result())

    def _listing(self, account: LiveAccount, kind: _Kind) -> Future[tuple[Any, ...]]:
        """A listing of subaccount `account`, as its own credentials; its failure as
        the reader gives it (see `_errors`, `_failure`)."""
        with self._errors(kind.what(account.sid), account.sid):
            auth = (account.sid, self._token(account.sid).reveal())
        return self._pages.listing(self._kind_url(kind), auth, convert=kind.convert)

    def _kind_url(self, kind: _Kind) -> str:
        """The URL of the first page of a listing of `kind` (the same for every
        subaccount: the credentials say whose)."""
        url = self._kind_urls.get((kind, PAGE_SIZE))
        if url is None:
            query = urlencode((*kind.filters, ("PageSize", PAGE_SIZE)))
            url = self._kind_urls[kind, PAGE_SIZE] = f"{self._url(kind.path)}?{query}"
        return url

    def _failure(self, subaccount: str, kind: _Kind, error: BaseException) -> BaseException:
        """`error` of a listing of `kind` of `subaccount`, translated (`_as_twilio_error`)."""
        return self._as_twilio_error(error, kind.what(subaccount), subaccount)

    def _as_twilio_error(
        self, error: BaseException, what: str, subaccount: str | None
    ) -> BaseException:
        """`error` as `_errors` turns it into the TwilioError family (or as it is)."""
        try:
            with self._errors(what, subaccount):
                raise error
        except BaseException as translated:
            return translated

    def _url(self, path: str) -> str:
        edge, region = self._sdk_environment["TWILIO_EDGE"], self._sdk_environment["TWILIO_REGION"]
        return twilio_url(path, edge=edge or None, region=region or None)

    def _translated(self, future: Future[T], what: str, subaccount: str | None) -> Future[T]:
        """`future`, its failure turned into the TwilioError family (see `_errors`)."""
        translated: Future[T] = Future()

        def settle(done: Future[T]) -> None:
            try:
                result = done.result()
            except BaseException as exc:
                translated.set_exception(self._as_twilio_error(exc, what, subaccount))
            else:
                translated.set_result(result)

        future.add_done_callback(settle)
        return translated

    # --- subaccounts -----------------------------------------------------------------------

    def create_subaccount(self, customer: Customer) -> LiveAccount:
        name = customer.friendly_name

        def send() -> LiveAccount:
            with self._errors(f"creating subaccount {name!r}"):
                created = self._parent.api.v2010.accounts.create(friendly_name=name)
            return self._remember(_fields(created, ACCOUNT_FIELDS))

        def find() -> LiveAccount | None:
            found = [a for a in self._list_accounts(friendly_name=name) if a.status != "closed"]
            if len(found) > 1:
                raise AmbiguousSubaccount(_ambiguity(customer, found))
            return found[0] if found else None

        return self._create_once(send, find, f"creating subaccount {name!r}")

    # --- senders -----------------------------------------------------------------------------

    def create_sender(self, account: LiveAccount, sender: Sender, waba_id: str) -> LiveSender:
        client = self._subclient(account.sid)
        what = f"creating sender {sender.sender_id} in subaccount {account.sid}"
        body = {"sender_id": sender.sender_id, **_sender_body(sender, waba_id, clear=False)}

        def send() -> LiveSender:
            with self._errors(what, account.sid):
                created = client.messaging.v2.channels_senders.create(_RawRequest(body))
            return _live_sender(_fields(created, SENDER_FIELDS))

        def find() -> LiveSender | None:
            return next(
                (s for s in self.list_senders(account) if s.sender_id == sender.sender_id), None
            )

        return self._create_once(send, find, what)

    def update_sender(
        self, account: LiveAccount, sid: str, sender: Sender, waba_id: str
    ) -> LiveSender:
        client = self._subclient(account.sid)
        what = f"updating sender {sender.sender_id} ({sid}) in subaccount {account.sid}"
        body = _sender_body(sender, waba_id, clear=True)

        def send() -> LiveSender:
            with self._errors(what, account.sid):
                updated = client.messaging.v2.channels_senders(sid).update(_RawRequest(body))
            return _live_sender(_fields(updated, SENDER_FIELDS))

        return self._idempotent(send, what)

    def delete_sender(self, account: LiveAccount, sid: str) -> None:
        client = self._subclient(account.sid)
        with self._errors(f"deleting sender {sid} in subaccount {account.sid}", account.sid):
            client.messaging.v2.channels_senders(sid).delete()

    # --- contents ------------------------------------------------------------------------------

    def create_content(
        self, account: LiveAccount, template: Template, friendly_name: str
    ) -> LiveContent:
        client = self._subclient(account.sid)
        what = f"creating content {friendly_name!r} [{template.language}] in {account.sid}"
        body: dict[str, Any] = {
            "friendly_name": friendly_name,
            "language": template.language,
            "types": thaw(template.types),
        }
        if template.variables:
            body["variables"] = thaw(template.variables)

        def send() -> LiveContent:
            with self._errors(what, account.sid):
                created = client.content.v1.contents.create(_RawRequest(body))
            return _live_content(thaw(_fields(created, CONTENT_FIELDS)))  # a copy to own

        def find() -> LiveContent | None:
            same = [
                c
                for c in self.list_contents(account)
                if c.friendly_name == friendly_name and c.language == template.language
            ]
            exact = [c for c in same if _same_json(c.types, template.types)]
            # The plan creates a (name, language) only when none exists, so a namesake
            # found now is the lost create even if Twilio normalised its types.
            found = exact or same
            return min(found, key=lambda c: (c.date_created, c.sid)) if found else None

        return self._create_once(send, find, what)

    def submit(self, account: LiveAccount, content_sid: str, name: str, category: str) -> None:
        client = self._subclient(account.sid)
        what = f"submitting content {content_sid} ({name}) for WhatsApp approval"
        body = {"name": name, "category": category}

        def send() -> bool:
            with self._errors(what, account.sid):
                client.content.v1.contents(content_sid).approval_create.create(
                    content_approval_request=_RawRequest(body)
                )
            return True

        def find() -> bool | None:
            with self._errors(f"reading the approval of content {content_sid}", account.sid):
                approval = client.content.v1.contents(content_sid).approval_fetch().fetch()
            status = str((approval.whatsapp or {}).get("status") or "").lower()
            return True if status and status != ApprovalStatus.UNSUBMITTED else None

        self._create_once(send, find, what)

    def delete_content(self, account: LiveAccount, sid: str) -> None:
        client = self._subclient(account.sid)
        with self._errors(f"deleting content {sid} in subaccount {account.sid}", account.sid):
            client.content.v1.contents(sid).delete()

    # --- recovery of lost responses ------------------------------------------------------------

    def _create_once(self, send: Callable[[], T], find: Callable[[], T | None], what: str) -> T:
        """Send a create; when its outcome is unknown, look for its result by identity
        and send again only when nothing was made."""
        attempts = self._http.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return send()
            except OutcomeUnknown as lost:
                _log.info("%s: %s; looking for the result before sending again", what, lost)
                self._http.pause(attempt, lost.retry_after)
                found = find()
                if found is not None:
                    return found
        raise Unavailable(f"{what}: Twilio's answer was lost {attempts} times; try again later")

    def _idempotent(self, send: Callable[[], T], what: str) -> T:
        """Send a request that may safely be repeated (an update to the same values)."""
        attempts = self._http.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return send()
            except OutcomeUnknown as lost:
                _log.info("%s: %s; sending again", what, lost)
                self._http.pause(attempt, lost.retry_after)
        raise Unavailable(f"{what}: Twilio's answer was lost {attempts} times; try again later")

    # --- accounts and credentials ----------------------------------------------------------------

    @cached_property
    def _parent(self) -> Client:
        """The SDK's client as the parent (its writes to the 2010 Accounts API)."""
        credentials = self._credentials
        return self._client(credentials.username, credentials.secret, credentials.account_sid)

    def _client(self, username: str, secret: Secret, account_sid: str) -> Client:
        # Imported when a write needs it: a plan's reads do not (pages.py), and the SDK's
        # client is a twentieth of a second of imports before the first request.
        from twilio.rest import Client

        return Client(
            username,
            secret.reveal(),
            account_sid=account_sid,
            http_client=cast("HttpClient", self._http),
            environment=self._sdk_environment,
        )

    def _list_accounts(self, friendly_name: str | None = None) -> tuple[LiveAccount, ...]:
        return self._accounts_listing(friendly_name).result()

    def _accounts_listing(
        self,
        friendly_name: str | None = None,
        on_account: Callable[[LiveAccount], None] | None = None,
    ) -> Future[tuple[LiveAccount, ...]]:
        """The parent's subaccounts; `on_account` sees each as its page arrives, before
        the next page is requested (on the reading thread)."""
        query: dict[str, object] = {"PageSize": PAGE_SIZE}
        if friendly_name is not None:
            query["FriendlyName"] = friendly_name

        def accounts(records: Records) -> list[LiveAccount]:
            for record in records:
                if record.get("sid") == self.parent_sid:
                    _check_parent(record)
            found = [self._remember(r) for r in records if r.get("sid") != self.parent_sid]
            if on_account is not None:
                for account in found:
                    on_account(account)
            return found

        credentials = self._credentials
        auth = (credentials.username, credentials.secret.reveal())
        url = self._url("api/2010-04-01/Accounts.json")
        found = self._pages.listing(url, auth, query, accounts)
        return self._translated(found, "listing the parent's subaccounts", None)

    def _remember(self, account: Mapping[str, Any]) -> LiveAccount:
        """A LiveAccount from Twilio's account JSON; its auth token kept in memory."""
        sid = str(account.get("sid") or "")
        token = account.get("auth_token")
        if token:
            with self._lock:
                old = self._tokens.get(sid)
                if old is None or old.reveal() != token:
                    self._tokens[sid] = Secret(token)
                    self._subclients.pop(sid, None)
        return LiveAccount(
            sid=sid,
            friendly_name=account.get("friendly_name") or "",
            status=str(account.get("status") or "active"),
        )

    def _subclient(self, sid: str) -> Client:
        """A client that authenticates as subaccount `sid` (its SID and auth token)."""
        with self._lock:
            client = self._subclients.get(sid)
        if client is not None:
            return client
        client = self._client(sid, self._token(sid), sid)
        with self._lock:
            return self._subclients.setdefault(sid, client)

    def _token(self, sid: str) -> Secret:
        """Subaccount `sid`'s auth token: from the accounts listing, else fetched."""
        with self._lock:
            token = self._tokens.get(sid)
        if token is None:
            with self._errors(f"reading subaccount {sid}"):
                fetched = self._parent.api.v2010.accounts(sid).fetch()
                self._remember(_fields(fetched, ACCOUNT_FIELDS))
            with self._lock:
                token = self._tokens.get(sid)
        if not token:
            raise AuthFailed(
                f"Twilio returned no auth token for subaccount {sid}, so wa-sync cannot act "
                f"on its senders and templates; use the parent's TWILIO_ACCOUNT_SID and "
                f"TWILIO_AUTH_TOKEN (a Main API key may not reveal subaccount tokens)",
                status=401,
            )
        return token

    def _match(self, customer: Customer, index: _AccountIndex) -> LiveAccount | None:
        if customer.account_sid:
            found = index.by_sid.get(customer.account_sid)
            if found is None:
                raise UnknownSubaccount(
                    f"{_who(customer)}: account_sid {customer.account_sid} is "
                    f"not a subaccount of the parent account {self.parent_sid}\n"
                    f"  fix: correct account_sid, or remove it to match the subaccount "
                    f"named {customer.friendly_name!r}"
                )
            return found
        named = index.open_by_name.get(customer.friendly_name, [])
        # Several: unmatched here; plan.ownership refuses them all at once (SPEC §4.3).
        return named[0] if len(named) == 1 else None

    # --- errors -----------------------------------------------------------------------------------

    def _secrets(self) -> list[str]:
        with self._lock:
            tokens = [t.reveal() for t in self._tokens.values()]
        return [s for s in (self._credentials.secret.reveal(), *tokens) if s]

    def _scrub(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return one_line(text)

    @contextmanager
    def _errors(self, what: str, subaccount: str | None = None) -> Iterator[None]:
        """Turn SDK and transport exceptions into the TwilioError family of base.py."""
        try:
            yield
        except (TwilioRestException, TwilioServiceException) as exc:
            message = getattr(exc, "msg", None) or getattr(exc, "detail", None)
            message = message or getattr(exc, "title", "") or ""
            raise self._translate(what, exc.status, exc.code, str(message), subaccount) from None
        except PageFailure as exc:
            code, text = _page_error(exc.status, exc.text)
            raise self._translate(what, exc.status, code, text, subaccount) from None
        except Unreachable as exc:
            raise Unavailable(f"{what}: Twilio could not be reached: {exc.reason}") from None
        except TwilioException as exc:
            response = exc.args[1] if len(exc.args) > 1 else None
            status = getattr(response, "status_code", None)
            if status is None:
                raise TwilioError(f"{what}: {self._scrub(str(exc.args[0]))}") from None
            code, message = _page_error(status, getattr(response, "text", ""))
            raise self._translate(what, status, code, message, subaccount) from None

    def _translate(
        self, what: str, status: int | None, code: int | None, message: str, subaccount: str | None
    ) -> TwilioError:
        message = self._scrub(message.split(": ", 1)[1] if ": " in message else message)
        more_info = f"https://www.twilio.com/docs/errors/{code}" if code and code >= 10000 else ""
        text = f"{what}: {message}" if message else what
        kw: dict[str, Any] = {"status": status, "code": code, "more_info": more_info}
        if code == 20404 or status == 404:
            return NotFound(text, **kw)
        if code == 20005:
            return AuthFailed(f"{text}; the account is suspended or closed", **kw)
        if code == 20003 or status in (401, 403):
            hint = (
                f"the subaccount {subaccount} refused its own credentials"
                if subaccount
                else MAIN_KEY_HINT
                if self._credentials.uses_api_key or status == 403
                else "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )
            return AuthFailed(f"{text}; {hint}", **kw)
        if code == 20429 or status == 429:
            return RateLimited(f"{text}; Twilio kept rate-limiting, try again later", **kw)
        if code == 92009:
            return ContentLocked(text, **kw)
        if code == 21480:
            return TooManySubaccounts(
                f"{text}; the parent account reached its subaccount limit (1,000 by default): "
                f"close unused subaccounts or ask Twilio support to raise it",
                **kw,
            )
        if status is not None and status >= 500:
            return Unavailable(f"{text}; Twilio is unavailable, try again later", **kw)
        return TwilioError(text, **kw)


# --- translation between Twilio's shapes and the model's ----------------------------------------


def _sender_body(sender: Sender, waba_id: str, *, clear: bool) -> dict[str, Any]:
    """The Senders API body for `sender`. With `clear`, keys the sender does not declare
    are sent empty so that an update removes them (the SDK can never send null)."""
    declared = thaw(sender.profile)
    profile: dict[str, Any] = {"name": sender.display_name}
    for key in PROFILE_TEXT_KEYS:
        value = declared.get(key)
        if value not in (None, ""):
            profile[key] = value
        elif clear:
            profile[key] = ""
    for key, (field, label) in PROFILE_LIST_KEYS.items():
        values = declared.get(key) or []
        if values or clear:
            profile[key] = [{field: v, "label": label} for v in values]
    webhook = {k: v for k, v in thaw(sender.webhook).items() if v not in (None, "")}
    if clear:
        for key in WEBHOOK_URL_KEYS:
            webhook.setdefault(key, "")
    body: dict[str, Any] = {"configuration": {"waba_id": waba_id}, "profile": profile}
    if webhook:
        body["webhook"] = webhook
    return body


def _profile(raw: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Twilio's profile in the model's shape: emails and websites as lists of strings,
    only the keys the model knows, nothing empty."""
    raw = raw or {}
    out: dict[str, Any] = {}
    for key in PROFILE_TEXT_KEYS:
        value = raw.get(key)
        if value not in (None, ""):
            out[key] = value
    for key, (field, _label) in PROFILE_LIST_KEYS.items():
        items = raw.get(key) or []
        values = [
            str(item.get(field)) if isinstance(item, Mapping) else str(item)
            for item in items
            if item not in (None, "") and not (isinstance(item, Mapping) and not item.get(field))
        ]
        if values:
            out[key] = values
    return freeze(out)


def _webhook(raw: Mapping[str, Any] | None) -> Mapping[str, Any]:
    raw = raw or {}
    keys = (*WEBHOOK_URL_KEYS, *WEBHOOK_METHOD_KEYS)
    return freeze({k: raw[k] for k in keys if raw.get(k) not in (None, "")})


def _live_sender(data: Mapping[str, Any]) -> LiveSender:
    profile = data.get("profile") or {}
    configuration = data.get("configuration") or {}
    reasons = data.get("offline_reasons") or []
    return LiveSender(
        sid=data["sid"],
        sender_id=data.get("sender_id") or "",
        status=str(data.get("status") or ""),
        display_name=str(profile.get("name") or ""),
        profile=_profile(profile),
        webhook=_webhook(data.get("webhook")),
        waba_id=configuration.get("waba_id") or None,
        pending_display_name=data.get("pending_display_name") or None,
        pending_display_name_status=data.get("pending_display_name_status") or None,
        offline_reasons=tuple(_reason(r) for r in reasons),
    )


def _live_senders(records: Records) -> tuple[LiveSender, ...]:
    return tuple(map(_live_sender, records))


def _live_contents(records: Records) -> tuple[LiveContent, ...]:
    return tuple(map(_live_content, records))


@dataclass(frozen=True)
class _Kind:
    """A listing a subaccount is read with: where, with which query, made into what."""

    noun: str
    path: str  # <product>/<version>/<resource>
    filters: tuple[tuple[str, str], ...]  # of the query, besides the PageSize
    convert: Callable[[Records], tuple[Any, ...]]

    def what(self, subaccount: str) -> str:
        return f"listing the {self.noun} of subaccount {subaccount}"


SENDERS = _Kind("senders", "messaging/v2/Channels/Senders", (("Channel", CHANNEL),), _live_senders)
CONTENTS = _Kind("contents", "content/v1/ContentAndApprovals", (), _live_contents)


def one_line(text: str) -> str:
    """Twilio's free text (error messages, rejection and offline reasons) on one line: a
    line break in it must not start a line of wa-sync's output, where a CI log could
    read `::command::` (GitHub Actions) or a comment could read markup; a control
    character is shown escaped (`visible`), never obeyed. Such text is only shown."""
    return visible(" ".join(text.split()))


def _reason(reason: Any) -> str:
    if isinstance(reason, Mapping):
        code, message = reason.get("code"), reason.get("message")
        return one_line(": ".join(str(p) for p in (code, message) if p))
    return one_line(str(reason))


def _live_content(data: Mapping[str, Any]) -> LiveContent:
    """A content from Twilio's JSON, which it takes over: the JSON's dicts become the
    content's read-only mappings in place, not copied. Called for every content of
    every listing, on the reading thread (every answer waits for it): the common
    shapes take the short paths."""
    approval = data.get("approval_requests") or {}
    reason = approval.get("rejection_reason")
    return LiveContent(
        sid=data["sid"],
        friendly_name=data.get("friendly_name") or "",
        language=data.get("language") or "",
        types=_frozen(data.get("types") or {}),
        variables=_texts(data.get("variables") or {}),
        approval_status=_approval_status(approval.get("status")),
        approval_name=str(approval.get("name") or ""),
        approval_category=str(approval.get("category") or ""),
        rejection_reason=one_line(str(reason)) if reason else "",
        date_created=_iso(data.get("date_created")),
    )


def _frozen(value: Any) -> Any:
    """`freeze` for what json.loads made and nothing else holds (plain dicts with
    string keys, lists, scalars): each dict is frozen in place and wrapped, not
    copied. Strings, most of the leaves, are taken as they are without a call each;
    no comprehension (a function call each in Python 3.11)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(item) is not str:
                value[key] = _frozen(item)  # a new value for a key: iterating stays valid
        return MappingProxyType(value)
    if kind is list:
        for index, item in enumerate(value):
            if type(item) is not str:
                value[index] = _frozen(item)
        return tuple(value)
    return freeze(value)


def _texts(values: Mapping[str, Any]) -> Mapping[str, str]:
    """Variables as the model holds them, strings to strings, read-only: a JSON dict
    of strings (nearly always) wrapped as it is, anything else copied as strings."""
    if type(values) is dict:
        for key, value in values.items():
            if type(key) is not str or type(value) is not str:
                break
        else:
            return MappingProxyType(values)
    return MappingProxyType({str(k): v if type(v) is str else str(v) for k, v in values.items()})


_STATUSES = {status.value: status for status in ApprovalStatus}


def _approval_status(value: Any) -> ApprovalStatus:
    known = _STATUSES.get(value) if isinstance(value, str) else None
    if known is not None:
        return known
    text = str(value or "").strip().lower()
    if not text:
        return ApprovalStatus.UNSUBMITTED
    try:
        return ApprovalStatus(text)
    except ValueError:
        # A status this version does not know is treated as "in review": submitted,
        # hence locked, and never re-submitted.
        _log.warning("unknown WhatsApp approval status %r, treated as pending", text)
        return ApprovalStatus.PENDING


def _iso(value: Any) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` from a datetime (an SDK instance's) or Twilio's ISO text."""
    if isinstance(value, str):
        if _ISO_UTC.match(value):  # a listing's: already so
            return value
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value or "")


def _same_json(a: Any, b: Any) -> bool:
    return _drop_empty(thaw(a)) == _drop_empty(thaw(b))


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class _AccountIndex:
    """The parent's subaccounts by SID (the first listed wins, as a scan would find it)
    and, of those not closed, by friendly name in listing order: matching each
    customer is a lookup, not a scan of every account."""

    def __init__(self, accounts: list[LiveAccount]):
        self.by_sid: dict[str, LiveAccount] = {}
        self.open_by_name: dict[str, list[LiveAccount]] = {}
        for account in accounts:
            self.by_sid.setdefault(account.sid, account)
            if account.status != "closed":
                self.open_by_name.setdefault(account.friendly_name, []).append(account)


def _ambiguity(customer: Customer, accounts: list[LiveAccount]) -> str:
    sids = " and ".join(a.sid for a in accounts)
    return (
        f"{_who(customer)}: {len(accounts)} subaccounts are named "
        f"{customer.friendly_name!r}: {sids}\n"
        f"  fix: set account_sid to the one to manage, and rename or close the other"
    )


def _who(customer: Customer) -> str:
    return f"{customer.where}: customer {customer.id}" if customer.where.file else customer.id
