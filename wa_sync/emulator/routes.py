"""The endpoints served (SPEC §5), as (method, path pattern, template, handler)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from wa_sync.emulator import accounts, content, senders, sync
from wa_sync.emulator.wire import Request, Response

Handler = Callable[[Request], Response]
_SID = r"(?P<Sid>{prefix}[0-9a-fA-F]{{32}})"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    template: str
    handler: Handler


# A Sync Document is named by its SID or its unique name: any one path segment.
_SYNC_SERVICE = r"(?P<ServiceSid>IS[0-9a-fA-F]{32})"
_DOCUMENT = r"(?P<Sid>[^/]+)"


def _route(method: str, template: str, prefix: str, handler: Handler) -> Route:
    sid = _DOCUMENT if prefix == "ET" else _SID.format(prefix=prefix)
    regex = re.escape(template).replace(re.escape("{Sid}"), sid)
    regex = regex.replace(re.escape("{ServiceSid}"), _SYNC_SERVICE)
    return Route(method, re.compile(f"^{regex}$"), template, handler)


ROUTES = (
    _route("GET", "/2010-04-01/Accounts.json", "AC", accounts.list_accounts),
    _route("POST", "/2010-04-01/Accounts.json", "AC", accounts.create_account),
    _route("GET", "/2010-04-01/Accounts/{Sid}.json", "AC", accounts.fetch_account),
    _route("POST", "/2010-04-01/Accounts/{Sid}.json", "AC", accounts.update_account),
    _route("GET", "/v1/Content", "HX", content.list_contents),
    _route("POST", "/v1/Content", "HX", content.create_content),
    _route("GET", "/v1/Content/{Sid}", "HX", content.fetch_content),
    _route("PUT", "/v1/Content/{Sid}", "HX", content.update_content),
    _route("DELETE", "/v1/Content/{Sid}", "HX", content.delete_content),
    _route("POST", "/v1/Content/{Sid}/ApprovalRequests/whatsapp", "HX", content.submit_whatsapp),
    _route("GET", "/v1/Content/{Sid}/ApprovalRequests", "HX", content.fetch_approvals),
    _route("GET", "/v1/ContentAndApprovals", "HX", content.list_content_and_approvals),
    _route("GET", "/v2/Channels/Senders", "XE", senders.list_senders),
    _route("POST", "/v2/Channels/Senders", "XE", senders.create_sender),
    _route("GET", "/v2/Channels/Senders/{Sid}", "XE", senders.fetch_sender),
    _route("POST", "/v2/Channels/Senders/{Sid}", "XE", senders.update_sender),
    _route("DELETE", "/v2/Channels/Senders/{Sid}", "XE", senders.delete_sender),
    # the apply lock (docs/reliability.md)
    _route("GET", "/v1/Services", "IS", sync.list_services),
    _route("POST", "/v1/Services", "IS", sync.create_service),
    _route("GET", "/v1/Services/{Sid}", "IS", sync.fetch_service),
    _route("GET", "/v1/Services/{ServiceSid}/Documents", "ET", sync.list_documents),
    _route("POST", "/v1/Services/{ServiceSid}/Documents", "ET", sync.create_document),
    _route("GET", "/v1/Services/{ServiceSid}/Documents/{Sid}", "ET", sync.fetch_document),
    _route("POST", "/v1/Services/{ServiceSid}/Documents/{Sid}", "ET", sync.update_document),
    _route("DELETE", "/v1/Services/{ServiceSid}/Documents/{Sid}", "ET", sync.delete_document),
)

# Any SID-shaped path segment, for request-count templates of unmatched paths.
_ANY_SID = re.compile(r"(?<=/)[A-Z]{2}[0-9a-fA-F]{32}(?=[/.]|$)")


@dataclass(frozen=True)
class Match:
    route: Route | None  # None: no route for this method (see `allowed`)
    template: str
    params: dict[str, str]
    allowed: tuple[str, ...]  # methods the path takes; empty when the path is unknown


def _by_literal_path() -> dict[str, list[Route]]:
    """The routes of each path without a SID: no SID pattern matches such a path, so
    these are all the routes it can match (listings, most requests, try only these)."""
    routes: dict[str, list[Route]] = {}
    for route in ROUTES:
        if "{" not in route.template:
            routes.setdefault(route.template, []).append(route)
    return routes


_LITERAL = _by_literal_path()


def match(method: str, path: str) -> Match:
    allowed: list[str] = []
    found: Match | None = None
    for route in _LITERAL.get(path) or ROUTES:
        m = route.pattern.match(path)
        if m is None:
            continue
        allowed.append(route.method)
        if route.method == method:
            found = Match(route, route.template, m.groupdict(), ())
    if found is not None:
        return found
    templates = [r.template for r in ROUTES if r.pattern.match(path)]
    template = templates[0] if templates else _ANY_SID.sub("{Sid}", path)
    return Match(None, template, {}, tuple(allowed))
