"""The Twilio gateway: the Gateway protocol through the twilio SDK over http.py. The
parent's credentials act on the 2010 Accounts API, each subaccount's own (from the listing,
in memory only) on its Content and Senders (SPEC §5). Listings go through the SDK's
paging, guarded (SPEC §4.8): one of subaccounts, then two per customer, on one pool.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from functools import cached_property, partial
from types import MappingProxyType, SimpleNamespace
from typing import Any, TypeVar
from urllib.parse import urlsplit

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.base.page import Page
from twilio.base.version import Version
from twilio.rest import Client

from wa_sync import credentials, model
from wa_sync.credentials import ParentCredentials, Secret
from wa_sync.errors import TwilioError
from wa_sync.gateway import base, http
from wa_sync.gateway.errors import twilio_error
from wa_sync.gateway.lock import SyncLockStore
from wa_sync.gateway.shapes import (
    NotTwilios,
    account_record,
    live_account,
    live_content,
    live_sender,
    one_line,
    same_json,
    sender_body,
)
from wa_sync.identity import AccountIndex
from wa_sync.lockdoc import LockStore

_log = logging.getLogger("wa_sync.gateway")

PAGE_SIZE = 1000
MAX_PAGES = 10_000  # of one listing: 10 million records, far beyond any estate
T = TypeVar("T")


class _Records(Page):
    """The SDK's paging, each record as Twilio sent it: the SDK's models drop keys, and
    parsing dates no plan needs was a quarter of a listing's CPU."""

    def get_instance(self, payload: Any) -> Any:
        return payload


def _first_page(version: Version, uri: str, **params: str) -> Page:
    """The first page of the listing at `uri` (Twilio's path under `version`)."""
    params = {**params, "PageSize": str(PAGE_SIZE)}
    answer = version.page("GET", uri, params=params, headers={"Accept": "application/json"})
    return _Records(version, answer)


def _converted(convert: Callable[[dict], T], records: Iterator[dict], what: str) -> tuple[T, ...]:
    """The records of a listing converted; one of another shape is a BrokenAnswer."""
    try:
        return tuple(map(convert, records))
    except NotTwilios as exc:
        raise base.BrokenAnswer(f"{what}: a record is not in Twilio's shape: {exc}") from exc


def _raw(body: Mapping[str, Any]) -> Any:  # the body as is: the SDK's models drop keys
    return SimpleNamespace(to_dict=lambda: model.thaw(body))


class TwilioGateway:
    """The Gateway protocol over Twilio's REST API (or the emulator), thread-safe."""

    def __init__(
        self,
        credentials: ParentCredentials,
        *,
        http_client: http.Transport,
        parallelism: int = 8,
        emulated: bool = False,
        edge: str | None = None,
        region: str | None = None,
    ):
        self._credentials = credentials
        self._http = http_client
        self._parallelism = max(1, parallelism)
        self._emulated = emulated
        self._edge, self._region = edge, region
        self._lock = threading.Lock()
        self._tokens: dict[str, Secret] = {}
        self._subclients: dict[str, Client] = {}
        self._lock_http: http.Transport | None = None  # the apply lock's own (lock_store)

    @property
    def parent_sid(self) -> str:
        return self._credentials.account_sid

    @property
    def emulated(self) -> bool:
        return self._emulated

    def close(self) -> None:
        self._http.close()
        if self._lock_http is not None:
            self._lock_http.close()

    def read(
        self,
        customers: Collection[model.Customer],
        on_customer: Callable[[model.LiveCustomer], None] | None = None,
        on_unread: Callable[[str, TwilioError], None] | None = None,
    ) -> model.LiveEstate:
        accounts = self._list_accounts()
        index = AccountIndex(accounts)
        matched = {c.id: index.match(c, self.parent_sid) for c in customers}
        live: dict[str, model.LiveCustomer] = {}
        sharing: dict[str, list[str]] = {}  # an active subaccount's customers

        def found(customer_id: str, **state: Any) -> None:
            live[customer_id] = model.LiveCustomer(customer_id=customer_id, **state)
            if on_customer is not None:
                on_customer(live[customer_id])

        for customer_id, account in matched.items():
            if account is not None and account.status == "active":
                sharing.setdefault(account.sid, []).append(customer_id)
            else:  # Twilio refuses a suspended or closed account's own credentials
                found(customer_id, account=account)
        pool = ThreadPoolExecutor(self._parallelism, "wa-sync-read")
        reads = {pool.submit(self.read_subaccount, index.by_sid[sid]): sid for sid in sharing}
        try:
            for done in _answered(reads):  # in the order Twilio answers
                sid = reads[done]
                try:
                    senders, contents = done.result()
                except TwilioError as exc:
                    if on_unread is None:
                        raise
                    for customer_id in sharing[sid]:
                        on_unread(customer_id, exc)
                    continue
                for customer_id in sharing[sid]:
                    account = index.by_sid[sid]
                    found(customer_id, account=account, senders=senders, contents=contents)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        by_id = MappingProxyType({cid: live[cid] for cid in matched if cid in live})
        return model.LiveEstate(parent_sid=self.parent_sid, accounts=accounts, customers=by_id)

    def read_subaccount(
        self, account: model.LiveAccount
    ) -> tuple[tuple[model.LiveSender, ...], tuple[model.LiveContent, ...]]:
        return self.list_senders(account), self.list_contents(account)

    def read_senders(
        self,
        accounts: Collection[model.LiveAccount],
        on_answer: Callable[[str], None] | None = None,
    ) -> dict[str, tuple[model.LiveSender, ...] | TwilioError]:
        pool = ThreadPoolExecutor(self._parallelism, "wa-sync-read")
        reads = {pool.submit(self._senders_or_error, account): account.sid for account in accounts}
        answers: dict[str, tuple[model.LiveSender, ...] | TwilioError] = {}
        try:
            for done in _answered(reads):  # in the order Twilio answers
                answers[reads[done]] = done.result()
                if on_answer is not None:
                    on_answer(reads[done])
            return answers
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _senders_or_error(
        self, account: model.LiveAccount
    ) -> tuple[model.LiveSender, ...] | TwilioError:
        try:
            return self.list_senders(account)
        except TwilioError as exc:
            return exc

    def list_senders(self, account: model.LiveAccount) -> tuple[model.LiveSender, ...]:
        what = f"listing the senders of subaccount {account.sid}"
        client = self._subclient(account.sid)
        with self._errors(what, account.sid):
            first = _first_page(client.messaging.v2, "/Channels/Senders", Channel="whatsapp")
            return _converted(live_sender, self._all(client, first, what, "messaging"), what)

    def list_contents(self, account: model.LiveAccount) -> tuple[model.LiveContent, ...]:
        what = f"listing the contents of subaccount {account.sid}"
        client = self._subclient(account.sid)
        with self._errors(what, account.sid):
            first = _first_page(client.content.v1, "/ContentAndApprovals")
            return _converted(live_content, self._all(client, first, what, "content"), what)

    def _list_accounts(self) -> tuple[model.LiveAccount, ...]:
        what = "listing the parent's subaccounts"
        with self._errors(what):
            first = _first_page(self._parent.api.v2010, "/Accounts.json")
            records = _converted(account_record, self._all(self._parent, first, what, "api"), what)
        for record in records:  # the credentials' own account is listed too
            if record.get("sid") == self.parent_sid:
                credentials.check_parent(record)
        return tuple(self._remember(r) for r in records if r.get("sid") != self.parent_sid)

    def _all(self, client: Client, page: Page, what: str, product: str) -> Iterator[dict]:
        """Every record of a listing through the SDK's paging, guarded (SPEC §4.8)."""

        def origin(url: str) -> tuple[str, str]:  # where a request goes, edge and base URL
            return urlsplit(self._http.rewrite(client.get_hostname(url)))[:2]

        home = origin(f"https://{product}.twilio.com/")
        urls: set[str] = set()
        sids: set[str] = set()
        while True:
            for record in page:
                if not isinstance(record, dict):
                    raise base.BrokenAnswer(f"{what}: a page holds what is not a record")
                sid = record.get("sid")
                if not sid or not isinstance(sid, str):
                    raise base.BrokenAnswer(f"{what}: a page holds a record without a SID")
                if sid in sids:
                    raise base.BrokenAnswer(f"{what}: Twilio listed {sid} twice; run again")
                sids.add(sid)
                yield record
            url = page.next_page_url
            if not url:
                return
            if origin(url) != home:
                raise base.BrokenAnswer(
                    f"{what}: the next page is on another host ({urlsplit(url).hostname}); "
                    f"it was not asked for, so no credential went there"
                )
            if url in urls or len(urls) >= MAX_PAGES:
                raise base.BrokenAnswer(f"{what}: the pages of the listing go round in a loop")
            urls.add(url)
            page = page.next_page()

    def create_subaccount(self, customer: model.Customer) -> model.LiveAccount:
        name = customer.friendly_name

        def find() -> model.LiveAccount | None:
            return AccountIndex(self._list_accounts()).only_by_name(customer)

        accounts = self._parent.api.v2010.accounts
        send = lambda: self._remember(vars(accounts.create(friendly_name=name)))  # noqa: E731
        return self._create_once(send, find, f"creating subaccount {name!r}")

    def create_sender(
        self, account: model.LiveAccount, sender: model.Sender, waba_id: str
    ) -> model.LiveSender:
        senders = self._subclient(account.sid).messaging.v2.channels_senders
        body = {"sender_id": sender.sender_id, **sender_body(sender, waba_id)}
        return self._create_once(
            lambda: live_sender(vars(senders.create(_raw(body)))),
            lambda: next(
                (s for s in self.list_senders(account) if s.sender_id == sender.sender_id), None
            ),
            f"creating sender {sender.sender_id} in subaccount {account.sid}",
            account.sid,
        )

    def update_sender(
        self, account: model.LiveAccount, sid: str, sender: model.Sender
    ) -> model.LiveSender:
        found = self._subclient(account.sid).messaging.v2.channels_senders(sid)
        body = sender_body(sender, None)
        return self._create_once(  # the same values again are harmless: no find
            lambda: live_sender(vars(found.update(_raw(body)))),
            lambda: None,
            f"updating sender {sender.sender_id} ({sid}) in subaccount {account.sid}",
            account.sid,
        )

    def verify_sender(self, account: model.LiveAccount, sid: str, code: Secret) -> model.LiveSender:
        found = self._subclient(account.sid).messaging.v2.channels_senders(sid)
        body = {"configuration": {"verification_code": code.reveal()}}

        def find() -> model.LiveSender | None:  # a lost answer: did the code get there?
            with self._errors(f"reading sender {sid}", account.sid):
                sender = live_sender(vars(found.fetch()))
            return sender if sender.status != "PENDING_VERIFICATION" else None

        return self._create_once(
            lambda: live_sender(vars(found.update(_raw(body)))),
            find,
            f"submitting the one-time code of sender {sid} in subaccount {account.sid}",
            account.sid,
        )

    def delete_sender(self, account: model.LiveAccount, sid: str) -> None:
        client = self._subclient(account.sid)
        with self._errors(f"deleting sender {sid} in subaccount {account.sid}", account.sid):
            client.messaging.v2.channels_senders(sid).delete()

    def create_content(
        self, account: model.LiveAccount, template: model.Template, friendly_name: str
    ) -> model.LiveContent:
        contents = self._subclient(account.sid).content.v1.contents
        body: dict[str, Any] = {"friendly_name": friendly_name, "language": template.language}
        body["types"] = template.types
        if template.variables:
            body["variables"] = template.variables

        def find() -> model.LiveContent | None:
            same = [
                c
                for c in self.list_contents(account)
                if c.friendly_name == friendly_name and c.language == template.language
            ]
            exact = [c for c in same if same_json(c.types, template.types)]
            # The plan creates a (name, language) only when none exists, so a namesake
            # found now is the lost create even if Twilio normalised its types.
            found = exact or same
            return min(found, key=lambda c: (c.date_created, c.sid)) if found else None

        return self._create_once(
            lambda: live_content(vars(contents.create(_raw(body)))),
            find,
            f"creating content {friendly_name!r} [{template.language}] in {account.sid}",
            account.sid,
        )

    def submit(
        self, account: model.LiveAccount, content_sid: str, name: str, category: str
    ) -> None:
        content = self._subclient(account.sid).content.v1.contents(content_sid)
        body = {"name": name, "category": category}

        def find() -> bool | None:
            with self._errors(f"reading the approval of content {content_sid}", account.sid):
                status = (content.approval_fetch().fetch().whatsapp or {}).get("status")
            return True if str(status or "unsubmitted").lower() != "unsubmitted" else None

        self._create_once(
            lambda: bool(content.approval_create.create(content_approval_request=_raw(body))),
            find,
            f"submitting content {content_sid} ({name}) for WhatsApp approval",
            account.sid,
        )

    def delete_content(self, account: model.LiveAccount, sid: str) -> None:
        client = self._subclient(account.sid)
        with self._errors(f"deleting content {sid} in subaccount {account.sid}", account.sid):
            client.content.v1.contents(sid).delete()

    def lock_store(self, *, stoppable: bool = False) -> LockStore:
        """The apply lock's Sync Documents, as the parent (gateway/lock.py): on the lock's
        own connections (Transport.twin), whose requests go on whatever signal comes (the
        heartbeat, the release, a removal under way); `stoppable` on the command's, whose
        requests and waits stop for a signal it recorded (taking the lock, unlock's reads:
        a wait of Twilio's Retry-After held them for minutes). Their waits, too."""
        transport = self._http
        if not stoppable:
            transport = self._lock_http = self._lock_http or self._http.twin()
        parent = self._credentials
        client = self._client(parent.username, parent.secret, parent.account_sid, transport)
        return SyncLockStore(client, self._errors, partial(self._create_once, via=transport))

    def _create_once(
        self,
        send: Callable[[], T],
        find: Callable[[], T | None],
        what: str,
        sub: str | None = None,
        via: http.Transport | None = None,
    ) -> T:
        """Send a POST; when its outcome is unknown, send again only if `find` finds none;
        on the transport `via` (the lock's), by default the command's."""
        transport, lost = via or self._http, Counter[str]()
        for attempt in range(1, transport.attempts + 1):
            try:
                with self._errors(what, sub):
                    return send()
            except http.OutcomeUnknown as exc:
                _log.info("%s: %s; looking for the result before sending again", what, exc)
                lost[exc.reason] += 1
                with self._errors(what, sub):  # http.Closed: a write a stop at once left
                    transport.sleep(min(http.BACKOFF_MAX, http.BACKOFF_FACTOR * 2**attempt))
                try:
                    found = find()
                except TwilioError as lookup:  # the POST may have been carried out
                    raise base.Unavailable(
                        f"{what}: sent, but Twilio's answer was lost ({exc.reason}), and looking "
                        f"for what it made failed too ({lookup}): it may have been made; the "
                        "next apply finds it, or makes it"
                    ) from lookup
                if found is not None:
                    return found
        told = ", ".join(f"{reason} {n} time{'s' * (n > 1)}" for reason, n in lost.items())
        raise base.Unavailable(f"{what}: {told}; try again later")

    @cached_property
    def _parent(self) -> Client:
        parent = self._credentials
        return self._client(parent.username, parent.secret, parent.account_sid)

    def _client(
        self, username: str, secret: Secret, account_sid: str, via: http.Transport | None = None
    ) -> Client:
        # an empty environment, or the SDK reads TWILIO_EDGE and more from os.environ
        transport = via or self._http
        return Client(
            username, secret.reveal(), account_sid, self._region, transport, {}, self._edge
        )

    def _remember(self, account: Mapping[str, Any]) -> model.LiveAccount:
        """A LiveAccount from Twilio's account JSON; its auth token kept in memory."""
        sid = str(account.get("sid") or "")
        token = account.get("auth_token")
        if token:
            with self._lock:
                old = self._tokens.get(sid)
                if old is None or old.reveal() != token:
                    self._tokens[sid] = Secret(token)
                    self._subclients.pop(sid, None)
        return live_account(account)

    def _subclient(self, sid: str) -> Client:
        """A client that authenticates as subaccount `sid` (its SID and auth token)."""
        with self._lock:
            client = self._subclients.get(sid)
        if client is None:
            client = self._client(sid, self._token(sid), sid)
            with self._lock:
                client = self._subclients.setdefault(sid, client)
        return client

    def _token(self, sid: str) -> Secret:
        """Subaccount `sid`'s auth token: from the accounts listing, else fetched."""
        with self._lock:
            token = self._tokens.get(sid)
        if token is None:
            with self._errors(f"reading subaccount {sid}"):
                self._remember(vars(self._parent.api.v2010.accounts(sid).fetch()))
            with self._lock:
                token = self._tokens.get(sid)
        if not token:
            raise base.AuthFailed(f"subaccount {sid}: {credentials.UNREADABLE_HINT}", status=401)
        return token

    def _scrub(self, text: str) -> str:
        """Twilio's text without a credential: the parent's, a subaccount's or the proxy's,
        as they are or in the Basic form of a header quoted back."""
        parent = self._credentials
        with self._lock:
            tokens = [(sid, token.reveal()) for sid, token in self._tokens.items()]
        sent = [(parent.username, parent.secret.reveal()), *tokens, *self._http.proxy_logins]
        return one_line(credentials.hidden(text, sent))

    @contextmanager
    def _errors(self, what: str, subaccount: str | None = None) -> Iterator[None]:
        """Turn SDK and transport exceptions into the TwilioError family of base.py."""
        try:
            yield
        except (TwilioRestException, TwilioServiceException) as exc:
            message = str(getattr(exc, "msg", None) or getattr(exc, "detail", None) or "")
            message = message.split(": ", 1)[-1]  # "Unable to create record: <Twilio's>"
            raise self._twilio_error(what, exc.status, exc.code, message, subaccount) from exc
        except http.OutcomeUnknown:
            raise  # for _create_once
        except http.GaveUp as exc:
            raise self._twilio_error(what, exc.status, None, exc.reason, subaccount) from exc
        except http.BadAnswer as exc:
            told = self._scrub(exc.reason)
            raise base.BrokenAnswer(f"{what}: {told}", status=exc.status) from exc
        except http.TransportError as exc:
            raise base.Unavailable(f"{what}: Twilio could not be reached: {exc.reason}") from exc
        except TwilioException as exc:  # a listing's page that is not 200, or not a page
            if len(exc.args) < 2:
                raise base.BrokenAnswer(f"{what}: {self._scrub(str(exc.args[0]))}") from exc
            status, body = exc.args[1].status_code, json.loads(exc.args[1].text or "{}")
            code = body.get("code") if isinstance(body.get("code"), int) else None
            message = str(body.get("message") or "")
            raise self._twilio_error(what, status, code, message, subaccount) from exc

    def _twilio_error(
        self, what: str, status: int | None, code: int | None, message: str, subaccount: str | None
    ) -> TwilioError:
        text = f"{what}: {self._scrub(message)}" if message else what
        api_key = self._credentials.uses_api_key
        return twilio_error(text, status, code, subaccount=subaccount, uses_api_key=api_key)


def _answered(reads: Collection[Future[T]]) -> Iterator[Future[T]]:
    """The reads as they end (`as_completed`), the main thread's wait ending each half
    second: CPython runs a signal's handler only there, between its instructions, and a
    signal that comes just before a wait begins interrupts none (#106)."""
    pending = set(reads)
    while pending:
        done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        yield from done
