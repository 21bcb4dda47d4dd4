"""Request bodies the way wa-sync's gateway sends them (the SDK's typed models), and raw HTTP."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentInstance, ContentList
from twilio.rest.content.v1.content.approval_create import (
    ApprovalCreateInstance,
    ApprovalCreateList,
)
from twilio.rest.messaging.v2.channels_sender import (
    ChannelsSenderInstance,
    ChannelsSenderList,
)


def make_content(
    client: Client, name: str, language: str = "en", body: str = "Hi {{1}}, see you soon."
) -> ContentInstance:
    request = ContentList.ContentCreateRequest(
        {
            "friendly_name": name,
            "language": language,
            "variables": {"1": "Maria"},
            "types": {"twilio/text": {"body": body}},
        }
    )
    return client.content.v1.contents.create(request)


def submit(
    client: Client, sid: str, name: str, category: str = "UTILITY"
) -> ApprovalCreateInstance:
    request = ApprovalCreateList.ContentApprovalRequest({"name": name, "category": category})
    return client.content.v1.contents(sid).approval_create.create(request)


def make_sender(
    client: Client, phone: str = "+14155550100", **profile: Any
) -> ChannelsSenderInstance:
    request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
        {
            "sender_id": f"whatsapp:{phone}",
            "configuration": {"waba_id": "104000000000001"},
            "webhook": {"callback_url": "https://hooks.example/wa", "callback_method": "POST"},
            "profile": {"name": "Acme Dental", "about": "Family dentistry", **profile},
        }
    )
    return client.messaging.v2.channels_senders.create(request)


def page_error(exc: TwilioException) -> tuple[int, dict[str, Any]]:
    """Status and body of a list call's failure (the SDK raises a bare TwilioException)."""
    response = exc.args[1]
    return response.status_code, json.loads(response.text)


def raw(
    url: str,
    method: str,
    path: str,
    auth: tuple[str, str] | None,
    **kwargs: Any,
) -> requests.Response:
    """One plain HTTP request, for what the SDK hides (headers, envelopes, error bodies)."""
    return requests.request(method, url + path, auth=auth, timeout=10, **kwargs)


def assert_error(response: requests.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "more_info", "status"}
    assert body["code"] == code
    assert body["status"] == status
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    return body


class EmulatorHttpClient(TwilioHttpClient):
    """Sends `https://<product>.twilio.com/...` (and any absolute URL) to the emulator."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base = urlsplit(base_url.rstrip("/"))

    def request(
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        auth: Any = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        parts = urlsplit(url)
        url = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout if timeout is not None else 10,
            allow_redirects=allow_redirects,
        )
