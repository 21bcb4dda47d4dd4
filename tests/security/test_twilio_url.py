"""Security review: WA_SYNC_TWILIO_URL, the base URL every Twilio request goes to.

Only a plain http(s) base URL is accepted. Another scheme (file:, ftp:, gopher:,
javascript:, data:), a URL without a host, with a bad port, a query, a fragment or
credentials (user:password@) is refused before any connection is made, so the
parent's credentials are never sent to it; the message never shows a password or a
query value.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.e2e.helpers import customer_doc
from tests.security.conftest import assert_clean_error, run_offline

PASSWORD = "hunter2-url-password"
TOKEN = "0123456789abcdef0123456789abcdef"
SID = "AC" + "1" * 32


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port on loopback that records whether anything connected to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.05)  # a connection made by the command is already queued
    yield server
    server.close()


def connected(server: socket.socket) -> bool:
    try:
        client, _ = server.accept()
    except TimeoutError:
        return False
    client.close()
    return True


REFUSED = [
    "file:///etc/passwd",
    "file://127.0.0.1:{port}/etc/passwd",
    "ftp://127.0.0.1:{port}/",
    "gopher://127.0.0.1:{port}/_POST%20/",
    "javascript:alert(1)",
    "data:text/plain,hello",
    "ws://127.0.0.1:{port}",
    "127.0.0.1:{port}",
    "localhost:{port}",
    "http:///path-only",
    "http://[::1",
    "http://127.0.0.1:notaport",
    "http://127.0.0.1:{port}/?token=" + PASSWORD,
    "http://127.0.0.1:{port}/#" + PASSWORD,
    "http://user:" + PASSWORD + "@127.0.0.1:{port}",
    "https://" + PASSWORD + "@127.0.0.1:{port}",
    "HTTP://user:" + PASSWORD + "@127.0.0.1:{port}",
]


@pytest.mark.parametrize("template", REFUSED)
@pytest.mark.parametrize("command", ["plan", "status", "output"])
def test_a_refused_url_is_never_contacted_and_never_shown_with_secrets(
    repo, listener, template, command
):
    repo.customer("clinic-1", customer_doc(1))
    url = template.format(port=listener.getsockname()[1])
    environ = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "WA_SYNC_TWILIO_URL": url}
    output = assert_clean_error(run_offline(command, "--root", str(repo.root), environ=environ))
    assert "WA_SYNC_TWILIO_URL" in output
    assert PASSWORD not in output
    assert TOKEN not in output
    assert not connected(listener)


def test_a_plain_http_url_is_used(repo, env, emulator):
    """The control: the same command with an accepted URL reaches the server there."""
    repo.customer("clinic-1", customer_doc(1))
    result = run_offline("plan", "--root", str(repo.root), environ=env)
    assert result.code == 0, result.err
    assert sum(emulator.request_counts().values()) > 0


def test_the_url_is_checked_before_the_credentials_are_read(repo, listener):
    url = f"gopher://127.0.0.1:{listener.getsockname()[1]}/"
    output = assert_clean_error(
        run_offline("plan", "--root", str(repo.root), environ={"WA_SYNC_TWILIO_URL": url})
    )
    assert "WA_SYNC_TWILIO_URL must be an http:// or https:// URL" in output


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://twilio-mock.internal:4010", "twilio-mock.internal"),
        ("http://10.0.0.7:4010/base", "10.0.0.7"),
        ("http://127.0.0.1:4010", None),
        ("http://127.9.9.9:4010", None),
        ("http://localhost:4010", None),
        ("http://[::1]:4010", None),
        ("https://twilio-mock.internal", None),
    ],
)
def test_plain_http_beyond_loopback_is_warned_of(url, warned, tmp_path, caplog):
    """Plain http:// is meant for loopback: elsewhere the credentials cross the network
    unencrypted, so the command says so (without them) before any request."""
    from wa_sync.connect import open_gateway

    environ = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "WA_SYNC_TWILIO_URL": url}
    with (
        caplog.at_level("WARNING", logger="wa_sync"),
        open_gateway(environ=environ, root=str(tmp_path), emulator=False, parallelism=1),
    ):
        pass  # opening sends nothing
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    if warned is None:
        assert warnings == []
    else:
        (message,) = warnings
        assert f"plain http:// to {warned}:" in message
        assert "use https://" in message
        assert TOKEN not in message
