"""Security review: secrets. The parent's auth token, a Main API key's secret and every
subaccount's auth token are absent from every output format, saved plan, report,
written file, exception message and -vv log line, also when Twilio fails; the gateway's
objects never show one in repr(); a credential pasted into YAML is an error that never
echoes it."""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.helpers import ISV, customer_doc
from tests.security.conftest import REPO_ROOT, assert_clean_error, run_offline
from tests.security.echoing_proxy import EchoingProxy


@pytest.fixture
def estate(repo):
    repo.write("wa-sync.yaml", ISV)
    repo.customer("clinic-one", customer_doc(1))
    repo.customer("clinic-two", customer_doc(2))
    repo.customer("newbie", customer_doc(3, onboarded=False))
    return repo


@pytest.fixture(params=["auth token", "api key"])
def credentials(request, emulator, env) -> dict[str, str]:
    """The environment for one way of authenticating as the parent."""
    if request.param == "auth token":
        return dict(env)
    key, secret = emulator.create_api_key(main=True)
    environ = {k: v for k, v in env.items() if k != "TWILIO_AUTH_TOKEN"}
    return {**environ, "TWILIO_API_KEY": key, "TWILIO_API_SECRET": secret}


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    """Retries go again at once: the faults below would otherwise cost minutes of sleep."""
    from wa_sync.gateway import http

    monkeypatch.setattr(http, "BACKOFF_FACTOR", 0.0)
    monkeypatch.setattr(http, "BACKOFF_JITTER", 0.0)


@pytest.fixture
def logs(caplog):
    """Every log record of every logger, at DEBUG (what -vv would show and more)."""
    caplog.set_level(logging.DEBUG)
    return caplog


def secrets_of(emulator, environ: dict[str, str]) -> list[str]:
    found = [emulator.parent_token]
    found += [environ[k] for k in ("TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET") if k in environ]
    found += [a["auth_token"] for a in emulator.state()["accounts"] if a.get("auth_token")]
    return sorted({s for s in found if s})


def assert_no_secret(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret appears in {where}"
        assert secret[:16] not in text, f"half a secret appears in {where}"


def everything(cli, repo, environ: dict[str, str], tmp: Path) -> dict[str, str]:
    """Run every command in every format; map a description to all it wrote."""
    seen: dict[str, str] = {}

    def run(*args: str) -> None:
        result = cli(*args, "-vv", environ=environ)
        seen[" ".join(args)] = result.out + result.err

    for fmt in ("text", "json", "github"):
        run("validate", "--format", fmt)
    plan_file = tmp / "plan.json"
    for fmt in ("text", "markdown", "json"):
        run("plan", "--format", fmt)
    run("plan", "--out", str(plan_file))
    report = tmp / "report.jsonl"
    run("apply", "--auto-approve", "--report", str(report))
    run("plan", "--out", str(plan_file))
    run("apply", "--auto-approve", str(plan_file))
    for fmt in ("text", "json"):
        run("status", "--format", fmt)
        run("output", "--format", fmt)
        run("access-request", "clinic-one", "--format", fmt)
    state = json.loads(cli("status", "--format", "json", environ=environ).out)
    assert state["customers"]
    for name in ("plan.json", "report.jsonl"):
        path = tmp / name
        seen[f"file {name}"] = path.read_text(encoding="utf-8") if path.exists() else ""
    return seen


def test_no_secret_in_any_output_file_or_log(estate, cli, emulator, credentials, logs, tmp_path):
    seen = everything(cli, estate, credentials, tmp_path)
    assert seen["file report.jsonl"]
    assert seen["file plan.json"]
    account = next(a for a in emulator.state()["accounts"] if a["friendly_name"].endswith("two"))
    # re-import clinic-two's own file (import refuses a subaccount another file manages)
    imported = cli(
        "import",
        "clinic-two",
        "--account-sid",
        account["sid"],
        "--force",
        "-vv",
        environ=credentials,
    )
    assert imported.code == 0, imported.err
    seen["import"] = imported.out + imported.err
    seen["file customers/clinic-two.yaml"] = (estate.root / "customers/clinic-two.yaml").read_text()
    secrets = secrets_of(emulator, credentials)
    assert len(secrets) >= 4  # the parent's, and one per subaccount
    for where, text in seen.items():
        assert_no_secret(text, secrets, where)
    assert_no_secret(logs.text, secrets, "the log")
    for record in logs.records:
        assert_no_secret(record.getMessage(), secrets, f"a log record of {record.name}")
    assert_no_secret(_tree_text(estate.root), secrets, "a file in the repository")


def _tree_text(root: Path) -> str:
    parts = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and ".wa-sync" not in path.parts:
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


FAULTS = {
    "500 on every content create": lambda e: e.fail_next("POST", r"^/v1/Content$", 500, 50),
    "lost responses on subaccount creates": lambda e: e.fail_next(
        "POST", r"^/2010-04-01/Accounts\.json$", 500, 3, "commit_then_drop"
    ),
    "dropped connections on sender reads": lambda e: e.fail_next(
        "GET", r"^/v2/Channels/Senders$", 500, 50, "drop"
    ),
    "400 on submissions": lambda e: e.fail_next("POST", r"ApprovalRequests/whatsapp$", 400, 50),
    "401 on every account read": lambda e: e.fail_next("GET", r"^/2010-04-01/Accounts", 401, 50),
    "429 storm": lambda e: e.set_faults(rate_limit_rate=0.9, retry_after=0),
    "5xx and drops everywhere": lambda e: e.set_faults(error_rate=0.4, drop_rate=0.2),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_no_secret_when_twilio_fails(estate, cli, emulator, credentials, logs, fault, tmp_path):
    assert cli("apply", "--auto-approve", environ=credentials).code == 0  # subaccounts exist
    estate.customer("clinic-four", customer_doc(4))
    fault(emulator)
    report = tmp_path / "report.jsonl"
    texts = []
    for args in (
        ("plan", "--format", "markdown"),
        ("plan", "--format", "json"),
        ("apply", "--auto-approve", "--report", str(report)),
        ("status",),
        ("output", "--format", "json"),
    ):
        result = cli(*args, "-vv", environ=credentials)
        texts.append(result.out + result.err)
    emulator.set_faults()
    secrets = secrets_of(emulator, credentials)
    for text in texts:
        assert_no_secret(text, secrets, "a command's output under faults")
    if report.exists():
        assert_no_secret(report.read_text(encoding="utf-8"), secrets, "the report")
    assert_no_secret(logs.text, secrets, "the log under faults")


def test_a_wrong_token_is_not_echoed(estate, cli, env, logs):
    wrong = "f" * 32
    result = cli("plan", "-vv", environ={**env, "TWILIO_AUTH_TOKEN": wrong})
    output = assert_clean_error(result)
    assert wrong not in output
    assert wrong not in logs.text
    assert "20003" in output or "authenticat" in output.lower()


def test_a_wrong_api_secret_is_not_echoed(estate, cli, emulator, env, logs):
    key, _ = emulator.create_api_key(main=True)
    wrong = "Ab3" + "x" * 29
    environ = {k: v for k, v in env.items() if k != "TWILIO_AUTH_TOKEN"}
    result = cli(
        "status", "-vv", environ={**environ, "TWILIO_API_KEY": key, "TWILIO_API_SECRET": wrong}
    )
    output = assert_clean_error(result)
    assert wrong not in output
    assert wrong not in logs.text


def test_verbose_output_of_a_child_process_holds_no_secret(estate, emulator, credentials):
    """The real -vv: logging configured by the CLI, to the real stderr."""
    commands = [["plan", "-vv"], ["apply", "--auto-approve", "-vv"], ["status", "-vv"]]
    emulator.set_faults(error_rate=0.05, retry_after=0)
    outputs = []
    for command in commands:
        done = subprocess.run(
            [sys.executable, "-m", "wa_sync", *command, "--root", str(estate.root)],
            cwd=REPO_ROOT,
            env={
                **credentials,
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "PYTHONPATH": str(REPO_ROOT),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        outputs.append(done.stdout + done.stderr)
    emulator.set_faults()
    assert any("/2010-04-01/Accounts" in text for text in outputs)  # -vv did log requests
    secrets = secrets_of(emulator, credentials)
    for text in outputs:
        assert_no_secret(text, secrets, "-vv output")


def test_an_internal_error_traceback_holds_no_secret(estate, cli, emulator, env, monkeypatch):
    """Even the last-resort traceback (-v) shows no credential."""
    from wa_sync.gateway import twilio

    def boom(self, *args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(twilio.TwilioGateway, "read", boom)
    result = cli("plan", "-v")
    assert result.code == 1
    assert "Traceback" in result.err
    assert_no_secret(result.out + result.err, secrets_of(emulator, env), "a traceback")


def test_gateway_objects_never_show_a_secret(estate, cli, emulator, credentials):
    from wa_sync.connect import open_gateway, parent_credentials

    assert cli("apply", "--auto-approve", environ=credentials).code == 0
    creds = parent_credentials(credentials)
    with open_gateway(
        environ=credentials, root=str(estate.root), emulator=False, parallelism=2
    ) as gateway:
        live = gateway.read([])
        account = live.accounts[0]
        gateway.list_senders(account)  # makes a subaccount client with its token
        objects = [
            creds,
            creds.secret,
            gateway,
            gateway._http,
            live,
            account,
            *gateway._tokens.values(),
        ]
        texts = [repr(o) for o in objects] + [str(o) for o in objects]
        texts += [f"{o!r:>10}" for o in objects]
        secrets = secrets_of(emulator, credentials)
        for text in texts:
            assert_no_secret(text, secrets, "a repr")
        with pytest.raises(TypeError):
            pickle.dumps(creds.secret)
        with pytest.raises(TypeError):
            pickle.dumps(creds)


# --- credentials pasted into YAML ---------------------------------------------------------

TOKEN = "0123456789abcdef0123456789abcdef"
API_SECRET = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE"
API_KEY_SID = "SK" + "0123456789abcdef" * 2

PASTED = {
    "token as a value": ("customers/clinic-one.yaml", "name: {secret}\n", TOKEN),
    "token in a comment": ("customers/clinic-one.yaml", "# token {secret}\nname: Clinic\n", TOKEN),
    "token under a made-up key": (
        "customers/clinic-one.yaml",
        "name: Clinic\nauth_token: {secret}\n",
        TOKEN,
    ),
    "token in a template body": (
        "templates/appointment_reminder.yaml",
        "name: appointment_reminder\ncategory: UTILITY\nlocalizations:\n  en:\n"
        "    body: 'Hi {{{{1}}}} {secret}'\n",
        TOKEN,
    ),
    "api secret in wa-sync.yaml": ("wa-sync.yaml", "isv:\n  name: {secret}\n", API_SECRET),
    "api key sid": ("customers/clinic-one.yaml", "name: Clinic\napi_key: {secret}\n", API_KEY_SID),
    "token in a list": ("customers/clinic-one.yaml", "name: Clinic\nsenders: [{secret}]\n", TOKEN),
    "token as a key": ("customers/clinic-one.yaml", "name: Clinic\n{secret}: 1\n", TOKEN),
    "quoted and flow style": ("customers/clinic-one.yaml", 'name: "x {secret} y"\n', TOKEN),
}


@pytest.mark.parametrize(("where", "text", "secret"), PASTED.values(), ids=PASTED.keys())
def test_a_pasted_credential_is_an_error_that_never_echoes_it(estate, cli, where, text, secret):
    (estate.root / where).write_text(text.format(secret=secret), encoding="utf-8")
    outputs = []
    for fmt in ("text", "json", "github"):
        result = run_offline("validate", "--root", str(estate.root), "--format", fmt)
        outputs.append(assert_clean_error(result))
    for fmt in ("text", "json", "markdown"):
        outputs.append(assert_clean_error(cli("plan", "--format", fmt, "-vv")))
    for output in outputs:
        assert secret not in output
        assert secret[:12] not in output
        assert where in output
    assert "credential" in outputs[0] or "token" in outputs[0]


# --- credentials echoed back by a proxy or server ------------------------------------------

PROXY_USER, PROXY_PASSWORD = "ci-runner", "Prx-pa55word-7f3e9c"


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def credential_forms(emulator, environ: dict[str, str]) -> list[str]:
    """Every credential as wa-sync sends it: raw, and in Basic form (base64 of USER:SECRET),
    for the parent, each subaccount and the proxy."""
    user = environ.get("TWILIO_API_KEY") or environ["TWILIO_ACCOUNT_SID"]
    secret = environ.get("TWILIO_API_SECRET") or environ["TWILIO_AUTH_TOKEN"]
    pairs = [(user, secret), (PROXY_USER, PROXY_PASSWORD)]
    pairs += [(a["sid"], a["auth_token"]) for a in emulator.state()["accounts"] if a["auth_token"]]
    return [form for user, secret in pairs for form in (secret, basic(user, secret))]


ECHOED = {
    "parent's, in Twilio's error": ("GET /2010-04-01/Accounts", False),
    "subaccount's, in Twilio's error": ("GET /v1/ContentAndApprovals", False),
    "subaccount's, on a proxy's html page": ("GET /v2/Channels/Senders", True),
}


@pytest.mark.parametrize(("echo", "as_html"), ECHOED.values(), ids=ECHOED.keys())
def test_credentials_echoed_back_by_a_proxy_are_not_shown(
    estate, cli, emulator, credentials, logs, tmp_path, echo, as_html
):
    """A proxy (or a server) that quotes the request's headers in its error sends back the
    Authorization and Proxy-Authorization headers: the credentials in Basic form."""
    assert cli("apply", "--auto-approve", environ=credentials).code == 0  # subaccounts exist
    estate.customer("clinic-four", customer_doc(4))  # changes for apply to report
    proxy = EchoingProxy(echo, as_html=as_html)
    environ = {**credentials, "HTTP_PROXY": proxy.url(PROXY_USER, PROXY_PASSWORD)}
    report = tmp_path / "report.jsonl"
    texts = []
    try:
        for args in (
            ("plan",),
            ("plan", "--format", "json"),
            ("plan", "--format", "markdown"),
            ("apply", "--auto-approve", "--report", str(report)),
            ("status", "--format", "json"),
        ):
            result = cli(*args, "-vv", environ=environ)
            texts.append(result.out + result.err)
    finally:
        proxy.close()
    assert proxy.echoed
    assert "Unable to process" in "".join(texts) or "502 Bad Gateway" in texts[0]
    if report.exists():
        texts.append(report.read_text(encoding="utf-8"))
    texts.append(logs.text)
    forms = credential_forms(emulator, credentials)
    for text in texts:
        assert_no_secret(text, forms, "an echo of the request's headers")


PASTED_BADLY = {
    "a typographic quote in the token": (
        "TWILIO_AUTH_TOKEN",
        "’",
        "0123456789abcdef’0123456789abcde",
    ),
    "a non-breaking space in the token": (
        "TWILIO_AUTH_TOKEN",
        "\u00a0",
        "0123456789abcdef\u00a0123456789abcde",
    ),
    "a zero-width space in the API secret": (
        "TWILIO_API_SECRET",
        "\u200b",
        "aB3dE5gH7jK9mN1p\u200bsT5vW7yZ9bC1d",
    ),
}


@pytest.mark.parametrize(
    ("variable", "odd", "value"), PASTED_BADLY.values(), ids=PASTED_BADLY.keys()
)
def test_a_secret_with_a_character_pasted_with_it_is_refused_without_showing_it(
    estate, cli, emulator, env, variable, odd, value
):
    """A character that HTTP Basic cannot carry (what a copy from a web page or a chat
    brings along) was an internal error whose traceback showed it and where it was."""
    environ = {**env, variable: value}
    if variable == "TWILIO_API_SECRET":
        key, _ = emulator.create_api_key(main=True)
        environ = {**environ, "TWILIO_API_KEY": key}
        del environ["TWILIO_AUTH_TOKEN"]
    result = cli("plan", "-vv", environ=environ)
    output = assert_clean_error(result)
    assert variable in output
    for shown in (odd, repr(odd)[1:-1], value[:12], value[-12:]):
        assert shown not in output


@pytest.mark.parametrize("password", ["pass€word-7f3e9c", "пароль-7f3e9c", "%E2%82%AC-7f3e9c"])
def test_a_proxy_password_http_cannot_carry_is_refused_without_showing_it(
    estate, cli, env, password
):
    """HTTP Basic sends a proxy's USER:PASSWORD in Latin-1 (requests, urllib3): any other
    character was an internal error whose traceback showed it and where it was."""
    for variable in ("HTTP_PROXY", "https_proxy", "ALL_PROXY"):
        proxy = f"http://ci-runner:{password}@127.0.0.1:3128"
        result = cli("plan", "-vv", environ={**env, variable: proxy})
        output = assert_clean_error(result)
        assert variable.upper() in output
        for shown in ("€", "\\u20ac", "пароль", "\\u043f", "%E2", "7f3e9c"):
            assert shown not in output
