"""A plan through an https proxy and against a TLS server whose certificate comes from a
custom CA bundle (issue #18): the transport's library does both, from the environment
the command is given."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.e2e.helpers import ISV, customer_doc
from tests.gateway.relays import TLS, ConnectProxy, SocksProxy, TlsFront

BUNDLE = str(TLS / "localhost.pem")


@pytest.fixture
def tls(emulator) -> Iterator[TlsFront]:
    front = TlsFront(emulator.port)
    yield front
    front.close()


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    relay = ConnectProxy()
    yield relay
    relay.close()


@pytest.fixture
def estate(repo, cli, env):
    repo.write("wa-sync.yaml", ISV)
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    return repo


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_plan_against_tls_with_a_custom_ca_bundle(estate, cli, env, emulator, tls, variable):
    emulator.clear_request_log()
    environ = {**env, "WA_SYNC_TWILIO_URL": tls.url, variable: BUNDLE}
    result = cli("plan", "--detailed-exitcode", environ=environ)
    assert result.code == 0, result.err
    assert "handshake" in tls.seen
    assert emulator.request_log()  # Twilio's answers came through the TLS front


def test_without_the_bundle_the_certificate_is_refused_before_any_request(
    estate, cli, env, emulator, tls
):
    emulator.clear_request_log()
    result = cli("plan", environ={**env, "WA_SYNC_TWILIO_URL": tls.url})
    assert result.code == 1
    assert "TLS certificate verification failed" in result.err
    assert emulator.request_log() == []


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_a_plan_through_an_https_proxy(estate, cli, env, emulator, tls, proxy, variable):
    emulator.clear_request_log()
    environ = {
        **env,
        "WA_SYNC_TWILIO_URL": tls.url,
        "REQUESTS_CA_BUNDLE": BUNDLE,
        variable: f"http://127.0.0.1:{proxy.port}",
    }
    result = cli("plan", "--detailed-exitcode", environ=environ)
    assert result.code == 0, result.err
    assert proxy.seen
    assert set(proxy.seen) == {f"CONNECT localhost:{tls.port}"}
    assert emulator.request_log()


def test_no_proxy_sends_a_host_direct(estate, cli, env, tls, proxy):
    environ = {
        **env,
        "WA_SYNC_TWILIO_URL": tls.url,
        "REQUESTS_CA_BUNDLE": BUNDLE,
        "HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}",
        "NO_PROXY": "example.com,localhost",
    }
    assert cli("plan", "--detailed-exitcode", environ=environ).code == 0
    assert proxy.seen == []


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_a_plan_through_a_socks_proxy(estate, cli, env, emulator, tls, scheme):
    socks = SocksProxy()
    emulator.clear_request_log()
    environ = {
        **env,
        "WA_SYNC_TWILIO_URL": tls.url,
        "REQUESTS_CA_BUNDLE": BUNDLE,
        "HTTPS_PROXY": f"{scheme}://127.0.0.1:{socks.port}",
    }
    result = cli("plan", "--detailed-exitcode", environ=environ)
    socks.close()
    assert result.code == 0, result.err
    target = "localhost" if scheme == "socks5h" else "127.0.0.1"
    assert set(socks.seen) == {f"CONNECT {target}:{tls.port}"}
    assert emulator.request_log()


@pytest.mark.parametrize(
    "value", ["http://[bad", "http://ops:s3cr3t@[::1", "http://proxy.example.com:99999"]
)
def test_a_proxy_url_that_cannot_be_parsed_is_a_usage_error(estate, cli, env, emulator, value):
    emulator.clear_request_log()
    result = cli("plan", environ={**env, "HTTPS_PROXY": value})
    assert result.code == 1
    assert "internal error" not in result.err
    assert "s3cr3t" not in result.err
    assert "HTTPS_PROXY must be a proxy URL" in result.err
    assert "such as http://proxy.example.com:3128" in result.err
    assert emulator.request_log() == []


@pytest.mark.parametrize(
    ("bundle", "wrong"),
    [("/nonexistent/ca.pem", "no such file or directory"), (__file__, "holds no certificate")],
    ids=["missing", "not-a-certificate"],
)
@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_a_ca_bundle_that_cannot_serve_is_named_before_any_request(
    estate, cli, env, emulator, tls, variable, bundle, wrong
):
    emulator.clear_request_log()
    result = cli("plan", environ={**env, "WA_SYNC_TWILIO_URL": tls.url, variable: bundle})
    assert result.code == 1
    assert f"{variable}={bundle}: {wrong}" in result.err
    assert "point it at a file of CA certificates in PEM form" in result.err
    assert "Retrying" not in result.err
    assert emulator.request_log() == []


def test_the_embedded_emulator_needs_no_ca_bundle(estate, cli, env):
    result = cli("--emulator", "plan", environ={"REQUESTS_CA_BUNDLE": "/nonexistent/ca.pem"})
    assert result.code == 0, result.err


@pytest.mark.parametrize("name", ["WA_SYNC_TWILIO_CONCURRENCY", "WA_SYNC_TWILIO_TIMEOUT"])
def test_a_tuning_value_of_400_digits_is_a_usage_error(estate, cli, env, emulator, name):
    emulator.clear_request_log()
    result = cli("plan", environ={**env, name: "9" * 400})
    assert result.code == 1
    assert "internal error" not in result.err
    assert f"{name} must be a positive number" in result.err
    assert emulator.request_log() == []


@pytest.mark.parametrize(
    ("name", "value"),
    [("TWILIO_EDGE", "[::1"), ("TWILIO_REGION", "bad region"), ("TWILIO_EDGE", "a/b")],
)
def test_an_edge_or_region_that_is_no_name_is_a_usage_error(
    estate, cli, env, emulator, name, value
):
    emulator.clear_request_log()
    result = cli("plan", environ={**env, name: value})
    assert result.code == 1
    assert "internal error" not in result.err
    assert f"{name} must be" in result.err
    assert emulator.request_log() == []


def plan_through_a_proxy_with_a_login(cli, env, tls, port: int):
    """A plan through the proxy at `port` on loopback, its URL carrying a login."""
    environ = {
        **env,
        "WA_SYNC_TWILIO_URL": tls.url,
        "REQUESTS_CA_BUNDLE": BUNDLE,
        "HTTPS_PROXY": f"http://ops:s3cr3t@127.0.0.1:{port}",
    }
    result = cli("plan", environ=environ)
    assert result.code == 1
    assert "s3cr3t" not in result.err
    return result


def test_a_proxy_that_cannot_be_reached_is_named_without_its_password(estate, cli, env, tls):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    result = plan_through_a_proxy_with_a_login(cli, env, tls, port)
    assert f"the proxy 127.0.0.1:{port} failed: no connection could be made" in result.err


def test_a_proxy_that_refuses_the_tunnel_is_named_with_its_answer(estate, cli, env, tls, proxy):
    proxy.refusal = b"HTTP/1.1 407 Proxy Authentication Required"
    result = plan_through_a_proxy_with_a_login(cli, env, tls, proxy.port)
    told = f"the proxy 127.0.0.1:{proxy.port} failed: 407 Proxy Authentication Required"
    assert told in result.err
