"""Small adapters from recorded HTTP exchanges to openapi-core's request/response protocols.

The emulator is reached on http://127.0.0.1:PORT, but the specs' servers are
https://api.twilio.com, https://content.twilio.com, https://messaging.twilio.com and
https://sync.twilio.com:
the request adapter names the product host that serves the path, as the SDK would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

PRODUCT_HOSTS = (
    ("/2010-04-01/", "https://api.twilio.com"),
    ("/v1/Services", "https://sync.twilio.com"),
    ("/v1/", "https://content.twilio.com"),
    ("/v2/", "https://messaging.twilio.com"),
)


def product_host(path: str) -> str:
    for prefix, host in PRODUCT_HOSTS:
        if path.startswith(prefix):
            return host
    raise ValueError(f"no Twilio product serves {path}")


@dataclass
class Exchange:
    """One request the SDK sent and the response it got."""

    method: str
    url: str
    params: dict[str, Any] | None
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        pairs = parse_qsl(urlsplit(self.url).query, keep_blank_values=True)
        pairs += [(k, str(v)) for k, v in (self.params or {}).items() if v is not None]
        return pairs


class OpenAPIRequest:
    """openapi_core.protocols.Request for a recorded exchange (the body is not needed)."""

    def __init__(self, exchange: Exchange) -> None:
        self.host_url = product_host(exchange.path)
        self.path = exchange.path
        self.method = exchange.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(exchange.query), header=Headers(), cookie=ImmutableMultiDict()
        )
        self.body: bytes | None = None
        self.content_type = "application/json"


class OpenAPIResponse:
    """openapi_core.protocols.Response for a recorded exchange."""

    def __init__(self, exchange: Exchange) -> None:
        self.status_code = exchange.status
        self.headers = Headers(list(exchange.headers.items()))
        raw_type = exchange.headers.get("Content-Type") or exchange.headers.get("content-type")
        self.content_type = (raw_type or "").lower()
        self.data: bytes | None = exchange.body.encode("utf-8") if exchange.body else None
