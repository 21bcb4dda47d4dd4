"""What a handler gets and returns, and Twilio's wire formats: dates, bodies, list envelopes."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

from wa_sync.emulator.errors import bad_request
from wa_sync.emulator.store import Slice, Store

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_PAGE_SIZE = 1000


@lru_cache(maxsize=4096)  # many rows share a second: a listing formats each once
def rfc2822(ts: float) -> str:
    """`Thu, 30 Jul 2015 20:00:00 +0000` (2010 API), locale-independent."""
    t = time.gmtime(ts)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


@lru_cache(maxsize=4096)
def iso(ts: float) -> str:
    """`2015-07-30T19:00:00Z` (v1/v2 APIs): no fraction, no offset; the SDK parses it strictly."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def stored_json(rows: Sequence[sqlite3.Row], columns: Sequence[str]) -> list[dict[str, Any]]:
    """The JSON kept in `columns` of each row, parsed: {column: value} per row.

    All of them in one parse, as the items of one list: one json.loads per value was
    most of a listing's decoding (the values were written by json.dumps, so each is
    one whole JSON value)."""
    texts = [row[column] for row in rows for column in columns]
    values = iter(json.loads("[" + ",".join(texts) + "]"))
    return [{column: next(values) for column in columns} for _ in rows]


@dataclass
class Settings:
    """Behaviour fixed per emulator instance."""

    parent_sid: str = ""
    parent_token: str = field(default="", repr=False)
    approve_after: float | None = None
    sender_online_after: float = 0.0
    subaccount_limit: int = 1000


@dataclass
class Principal:
    """The account a request authenticated as, and the API key it used if any."""

    account_sid: str
    key_sid: str | None = None
    main_key: bool = False

    @property
    def standard_key(self) -> bool:
        return self.key_sid is not None and not self.main_key


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able; None means no body (204)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    content_type: str
    host: str
    store: Store
    settings: Settings
    params: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case

    @property
    def account_sid(self) -> str:
        assert self.principal is not None
        return self.principal.account_sid

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def form(self) -> dict[str, str]:
        """A form-encoded body (2010 API); JSON there is refused, as Twilio does."""
        if self.body and "json" in self.content_type:
            raise bad_request("The 2010 API takes application/x-www-form-urlencoded bodies")
        text = self.body.decode("utf-8", errors="replace")
        return dict(parse_qsl(text, keep_blank_values=True))

    def json(self) -> dict[str, Any]:
        """A JSON object body (Content and Senders APIs)."""
        if "application/json" not in self.content_type:
            raise bad_request("Content-Type must be application/json")
        try:
            value = json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as exc:
            raise bad_request(f"Invalid JSON body: {exc}") from exc
        if not isinstance(value, dict):
            raise bad_request("The request body must be a JSON object")
        return value


@dataclass
class Paging:
    size: int
    page: int
    token: str | None


def paging(req: Request, default_size: int = 50) -> Paging:
    """PageSize 1..1000, Page >= 0 (client state, needs a PageToken past 0), PageToken."""
    size = _int_param(req, "PageSize", default_size)
    page = _int_param(req, "Page", 0)
    token = req.query.get("PageToken") or None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_request(f"PageSize must be between 1 and {MAX_PAGE_SIZE}")
    if page < 0:
        raise bad_request("Page must be 0 or more")
    if page > 0 and token is None:
        raise bad_request("Page past 0 needs the PageToken of a previous response")
    return Paging(size, page, token)


def _int_param(req: Request, name: str, default: int) -> int:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise bad_request(f"{name} must be an integer") from exc


def _link(path: str, query: dict[str, str], size: int, page: int, token: str | None) -> str:
    return _encoded_link(path, tuple(query.items()), size, page, token)


@lru_cache(maxsize=1024)  # every subaccount's listing has the same links
def _encoded_link(
    path: str, query: tuple[tuple[str, str], ...], size: int, page: int, token: str | None
) -> str:
    params = {**dict(query), "PageSize": str(size), "Page": str(page)}
    if token:
        params["PageToken"] = token
    return f"{path}?{urlencode(params)}"


def list_2010(
    req: Request, key: str, items: list[Any], pg: Paging, sl: Slice, filters: dict[str, str]
) -> dict[str, Any]:
    """The 2010 envelope: relative `*_uri` links and exactly these keys (the SDK needs that)."""
    start = pg.page * pg.size
    return {
        key: items,
        "end": start + len(items) - 1 if items else start,
        "first_page_uri": _link(req.path, filters, pg.size, 0, None),
        "next_page_uri": None
        if sl.next_token is None
        else _link(req.path, filters, pg.size, pg.page + 1, sl.next_token),
        "page": pg.page,
        "page_size": pg.size,
        "previous_page_uri": None
        if sl.previous_token is None
        else _link(req.path, filters, pg.size, max(pg.page - 1, 0), sl.previous_token),
        "start": start,
        "uri": _link(req.path, filters, pg.size, pg.page, pg.token),
    }


def list_meta(
    req: Request, key: str, items: list[Any], pg: Paging, sl: Slice, filters: dict[str, str]
) -> dict[str, Any]:
    """The v1/v2 envelope: `meta` with absolute URLs on the request's host."""
    return {
        key: items,
        "meta": {
            "page": pg.page,
            "page_size": pg.size,
            "first_page_url": req.base_url + _link(req.path, filters, pg.size, 0, None),
            "previous_page_url": None
            if sl.previous_token is None
            else req.base_url
            + _link(req.path, filters, pg.size, max(pg.page - 1, 0), sl.previous_token),
            "url": req.base_url + _link(req.path, filters, pg.size, pg.page, pg.token),
            "next_page_url": None
            if sl.next_token is None
            else req.base_url + _link(req.path, filters, pg.size, pg.page + 1, sl.next_token),
            "key": key,
        },
    }
