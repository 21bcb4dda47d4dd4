"""The emulator at the edges of HTTP, as Twilio behaves there: half a request is never
acted on, and a password of any UTF-8 is a 401, never a 500."""

from __future__ import annotations

import base64
import socket
from urllib.parse import urlsplit

import pytest

from tests.emulator.helpers import assert_error, raw


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def test_a_body_shorter_than_its_content_length_is_never_processed(emu):
    """A client killed mid-request left an orphan subaccount behind."""
    before = len(emu.state()["accounts"])
    url = urlsplit(emu.url)
    body = b"FriendlyName=wa-sync%3Ahalf-sent"
    head = (
        "POST /2010-04-01/Accounts.json HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\n"
        f"Authorization: {basic(emu.parent_sid, emu.parent_token)}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {2 * len(body)}\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(head.encode("ascii") + body)
        conn.shutdown(socket.SHUT_WR)  # the client is gone: no more of the body comes
        answer = b""
        while chunk := conn.recv(65536):  # until the emulator closes the connection
            answer += chunk
    assert answer == b""  # no answer to half a request
    assert len(emu.state()["accounts"]) == before
    assert all(a["friendly_name"] != "wa-sync:half-sent" for a in emu.state()["accounts"])


def test_a_whole_body_is_still_served(emu):
    response = raw(
        emu.url,
        "POST",
        "/2010-04-01/Accounts.json",
        (emu.parent_sid, emu.parent_token),
        data={"FriendlyName": "wa-sync:whole"},
    )
    assert response.status_code == 201, response.text


def test_a_content_length_that_is_not_a_number_is_a_400(emu):
    url = urlsplit(emu.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(b"POST /v1/Content HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
        assert conn.recv(65536).startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize("password", ["pässwörd", "\u202e", "密码", "\U0001f600"])
@pytest.mark.parametrize("user", ["parent", "key"])
def test_a_non_ascii_password_is_401_not_500(emu, password, user):
    username = emu.parent_sid if user == "parent" else emu.create_api_key()[0]
    response = raw(
        emu.url, "GET", "/v1/Content", None, headers={"Authorization": basic(username, password)}
    )
    assert_error(response, 401, 20003)
