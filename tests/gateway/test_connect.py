"""open_gateway without Twilio: credentials from the environment, URL checks, `emulated`."""

from __future__ import annotations

import pytest

from wa_sync.connect import is_emulated_url, open_gateway, parent_credentials
from wa_sync.errors import CredentialsMissing, UsageError, WaSyncError

SID = "AC" + "a" * 32
TOKEN = "parent-token-0123456789abcdef0123"
SECRET = "api-secret-0123456789abcdef012345"


def open_with(environ: dict[str, str], tmp_path, emulator: bool = False):
    return open_gateway(environ=environ, root=str(tmp_path), emulator=emulator, parallelism=2)


def test_no_credentials_and_no_emulator_names_both_options(tmp_path):
    with pytest.raises(CredentialsMissing) as caught, open_with({}, tmp_path):
        pass
    message = str(caught.value)
    for option in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "--emulator"):
        assert option in message


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({"TWILIO_AUTH_TOKEN": TOKEN}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": SID}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_ACCOUNT_SID": SID, "TWILIO_API_KEY": "SK" + "1" * 32}, "TWILIO_API_SECRET"),
        ({"TWILIO_ACCOUNT_SID": SID, "TWILIO_API_SECRET": SECRET}, "TWILIO_API_KEY"),
        ({"TWILIO_ACCOUNT_SID": " ", "TWILIO_AUTH_TOKEN": ""}, "TWILIO_ACCOUNT_SID"),
    ],
)
def test_partial_credentials_say_what_is_missing(environ, missing):
    with pytest.raises(CredentialsMissing) as caught:
        parent_credentials(environ)
    assert missing in str(caught.value)
    assert "--emulator" in str(caught.value)
    for secret in (TOKEN, SECRET):
        assert secret not in str(caught.value)


def test_an_api_key_in_the_account_sid_is_refused():
    with pytest.raises(UsageError, match="TWILIO_API_KEY"):
        parent_credentials({"TWILIO_ACCOUNT_SID": "SK" + "1" * 32, "TWILIO_AUTH_TOKEN": TOKEN})


def test_auth_token_credentials():
    creds = parent_credentials({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN})
    assert (creds.account_sid, creds.username, creds.uses_api_key) == (SID, SID, False)
    assert creds.secret.reveal() == TOKEN
    assert TOKEN not in repr(creds)
    assert TOKEN not in str(creds)


def test_api_key_credentials_win_over_an_auth_token():
    key = "SK" + "1" * 32
    creds = parent_credentials(
        {
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_API_KEY": key,
            "TWILIO_API_SECRET": SECRET,
        }
    )
    assert (creds.account_sid, creds.username, creds.uses_api_key) == (SID, key, True)
    assert creds.secret.reveal() == SECRET
    assert SECRET not in repr(creds)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:4010", "127.0.0.1:4010", "file:///tmp/x"])
def test_a_non_http_twilio_url_is_refused_before_anything_is_sent(tmp_path, url):
    environ = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "WA_SYNC_TWILIO_URL": url}
    refused = pytest.raises(WaSyncError, match="WA_SYNC_TWILIO_URL must be an http:// or https://")
    with refused, open_with(environ, tmp_path):
        pass


@pytest.mark.parametrize("value", ["-1", "inf", "nan"])  # inf: a traceback; nan: all "slow"
@pytest.mark.parametrize("name", ["WA_SYNC_TWILIO_TIMEOUT", "WA_SYNC_TWILIO_CONCURRENCY"])
def test_bad_tuning_values_are_usage_errors(tmp_path, name, value):
    environ = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, name: value}
    with pytest.raises(UsageError, match=name), open_with(environ, tmp_path):
        pass


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WA_SYNC_TWILIO_RATE_LIMITS", "lists=20"),
        ("WA_SYNC_TWILIO_RATE_LIMITS", "list=fast"),
        ("HTTPS_PROXY", "ftp://ops:s3cr3t@proxy.example.com:21"),
        # were an internal error (no host, a broken IPv6 address) or "the connection
        # dropped" after five attempts (a bad port, a space in the host)
        ("HTTPS_PROXY", "http://ops:s3cr3t@"),
        ("HTTPS_PROXY", "http://ops:s3cr3t@[::1:3128"),
        ("HTTP_PROXY", "http://ops:s3cr3t@proxy.example.com:abc"),
        ("ALL_PROXY", "socks5://ops:s3cr3t@proxy.example.com:99999"),
        ("HTTPS_PROXY", "http://ops:s3cr3t@proxy example.com:3128"),
    ],
)
def test_bad_network_settings_are_usage_errors_that_show_no_password(tmp_path, name, value):
    environ = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, name: value}
    with pytest.raises(UsageError, match=name) as caught, open_with(environ, tmp_path):
        pass
    assert "s3cr3t" not in str(caught.value)


def test_emulated_follows_the_twilio_url(tmp_path):
    base = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}
    with open_with({**base, "WA_SYNC_TWILIO_URL": "http://127.0.0.1:9"}, tmp_path) as gateway:
        assert gateway.emulated is True
        assert gateway.parent_sid == SID
        assert TOKEN not in repr(gateway)
    with open_with(base, tmp_path) as gateway:
        assert gateway.emulated is False
    assert is_emulated_url("https://api.twilio.com") is False
    assert is_emulated_url("http://localhost:4010") is True
    assert is_emulated_url(None) is False
