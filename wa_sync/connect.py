"""Open the gateway a command talks to: Twilio with the environment's credentials, a
Twilio-compatible server at WA_SYNC_TWILIO_URL, or the embedded emulator (--emulator).

Credentials come from the environment only (SPEC §5), never from YAML, and are never
printed. `emulated` is True with --emulator, and when WA_SYNC_TWILIO_URL points anywhere
but a twilio.com host: whatever answers there is not Twilio, so outputs must not claim
it is (this costs no request, and keeps a no-op plan at its minimum request count).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from wa_sync.credentials import ParentCredentials, Secret, parent_credentials
from wa_sync.emulator import Emulator, StateError
from wa_sync.errors import UsageError, WaSyncError
from wa_sync.gateway.base import Gateway
from wa_sync.gateway.http import (
    DEFAULT_PER_ACCOUNT,
    DEFAULT_TIMEOUT,
    PUBLISHED_LIMITS,
    Transport,
)
from wa_sync.gateway.twilio import TwilioGateway

_log = logging.getLogger("wa_sync")

STATE_DIR = ".wa-sync"
EMULATOR_DB = "emulator.db"


def http_client(
    environ: Mapping[str, str],
    *,
    base_url: str | None,
    parallelism: int,
    embedded: bool = False,
    checkpoint: Callable[[], None] = lambda: None,
) -> Transport:
    """The transport for every Twilio request of one command, from the environment:
    WA_SYNC_TWILIO_TIMEOUT (seconds a request may take in all, default 30),
    WA_SYNC_TWILIO_CONCURRENCY (requests in flight per account, default 10),
    WA_SYNC_TWILIO_RATE_LIMITS (Content API requests a second per account and endpoint
    class, Twilio's published figures by default), the proxies (HTTPS_PROXY, HTTP_PROXY,
    ALL_PROXY, NO_PROXY; never for the embedded emulator) and the CA bundle
    (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR; else certifi's)."""
    timeout = _number(environ, "WA_SYNC_TWILIO_TIMEOUT", DEFAULT_TIMEOUT, float)
    per_account = _number(environ, "WA_SYNC_TWILIO_CONCURRENCY", DEFAULT_PER_ACCOUNT, int)
    return Transport(
        base_url=base_url,
        timeout=timeout,
        parallelism=max(1, parallelism),
        per_account=int(per_account),
        proxies={} if embedded else proxies(environ),
        no_proxy=_variable(environ, "no_proxy"),
        verify=True if embedded else ca_bundle(environ),
        limits=rate_limits(environ),
        checkpoint=checkpoint,
    )


CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def ca_bundle(environ: Mapping[str, str]) -> str | bool:
    """The CA certificates to verify TLS with: the first of CA_VARIABLES that is set (a
    PEM file, or a directory of them), else True (certifi's bundle). One that cannot
    serve is a UsageError now: requests would only fail at the first request, as a
    dropped connection or a failed handshake that does not say why."""
    for name in CA_VARIABLES:
        path = _variable(environ, name)
        if path:
            _check_ca(name, path)
            return path
    return True


def _check_ca(name: str, path: str) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        if Path(path).is_dir():
            context.load_verify_locations(capath=path)
        else:
            context.load_verify_locations(cafile=path)
    except FileNotFoundError:
        wrong = "no such file or directory"
    except (OSError, ssl.SSLError):
        wrong = "holds no certificate in PEM form (or cannot be read)"
    else:
        return
    raise UsageError(
        f"{name}={path}: {wrong}; point it at a file of CA certificates in PEM form "
        "(your company's or proxy's root CA), or unset it to use the bundled ones"
    )


PROXY_SCHEMES = ("http", "https", "socks4", "socks4a", "socks5", "socks5h")


def proxies(environ: Mapping[str, str]) -> dict[str, str]:
    """requests' proxies from the environment as curl reads it (lower case first)."""
    found = {}
    for scheme in ("http", "https", "all"):
        proxy = _variable(environ, f"{scheme}_proxy")
        if not proxy:
            continue
        found[scheme] = proxy if "://" in proxy else f"http://{proxy}"
        if not _is_proxy_url(found[scheme]):
            raise UsageError(
                f"{scheme.upper()}_PROXY must be a proxy URL of {', '.join(PROXY_SCHEMES)}, "
                f"such as http://proxy.example.com:3128, not {_redacted(proxy)!r}"
            )
        _check_login(f"{scheme.upper()}_PROXY", found[scheme])
    return found


def _is_proxy_url(url: str) -> bool:
    """A URL of a proxy scheme with a host, and a port if any in range."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError when out of range or not a number
    except ValueError:  # "http://[bad": an unclosed IPv6 bracket
        return False
    return parts.scheme in PROXY_SCHEMES and bool(parts.hostname) and " " not in parts.netloc


def _check_login(name: str, proxy: str) -> None:
    """An http(s) proxy's user and password go in a Proxy-Authorization header, which
    requests writes in Latin-1: any other character is refused, without showing it."""
    parts = urlsplit(proxy)
    login = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    if parts.scheme in ("http", "https") and not login.isascii():
        try:
            login.encode("latin-1")
        except UnicodeEncodeError:  # no cause kept: it quotes the password's character
            raise UsageError(
                f"{name}: the proxy's user name or password holds a character that HTTP "
                "proxy authentication cannot carry (only Latin-1 can be sent); use a "
                "password without it, or a socks5:// proxy"
            ) from None


def _variable(environ: Mapping[str, str], *names: str) -> str:
    for name in names:
        for spelling in (name.lower(), name.upper()):
            value = (environ.get(spelling) or "").strip()
            if value:
                return value
    return ""


def rate_limits(environ: Mapping[str, str]) -> dict[str, float]:
    """WA_SYNC_TWILIO_RATE_LIMITS over Twilio's published figures (PUBLISHED_LIMITS)."""
    text = environ.get("WA_SYNC_TWILIO_RATE_LIMITS") or ""
    return parse_rate_limits(text, PUBLISHED_LIMITS, "WA_SYNC_TWILIO_RATE_LIMITS")


def parse_rate_limits(text: str, defaults: Mapping[str, float], name: str) -> dict[str, float]:
    """Requests a second by endpoint class, e.g. `list=20,create=100`, over `defaults`
    (`published` names them unchanged); `0` means no limit for a class."""
    limits = dict(defaults)
    for item in filter(None, text.replace(" ", "").split(",")):
        if item == "published":
            continue
        kind, _, rate = item.partition("=")
        try:
            value = float(rate)
        except ValueError:
            value = -1.0
        if kind not in limits or not value >= 0:
            raise UsageError(
                f"{name}: {item!r} is not CLASS=REQUESTS_PER_SECOND with a class among "
                f"{', '.join(limits)}, e.g. list=20,create=100"
            )
        limits[kind] = value
    return limits


def _number(environ: Mapping[str, str], name: str, default: float, kind: type) -> float:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
        usable = math.isfinite(value) and value > 0
    except (ValueError, OverflowError):  # OverflowError: an int too large for a float
        usable = False
    if not usable:
        raise UsageError(f"{name} must be a positive number, not {raw!r}")
    return value


def _location(environ: Mapping[str, str], name: str, what: str) -> str | None:
    """TWILIO_EDGE or TWILIO_REGION, which the SDK puts into the host name as it is."""
    value = (environ.get(name) or "").strip()
    if value and not re.fullmatch(r"[a-z0-9-]{1,32}", value):
        raise UsageError(f"{name} must be {what} (a-z, 0-9 and -), not {_redacted(value)!r}")
    return value or None


def is_emulated_url(base_url: str | None) -> bool:
    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").lower()
    return not (host == "twilio.com" or host.endswith(".twilio.com"))


@contextmanager
def open_gateway(
    *,
    environ: Mapping[str, str],
    root: str,
    emulator: bool,
    parallelism: int,
    checkpoint: Callable[[], None] = lambda: None,
) -> Iterator[Gateway]:
    """The gateway for one command; closed (and the emulator stopped) on exit.
    `checkpoint` raises to stop the requests for a signal the command recorded."""
    if emulator:
        with _embedded(environ, root, parallelism, checkpoint) as gateway:
            yield gateway
        return
    raw_url = (environ.get("WA_SYNC_TWILIO_URL") or "").strip()
    base_url = validate_base_url(raw_url) if raw_url else None
    credentials = parent_credentials(environ)
    warning = cleartext_warning(base_url) if base_url else None
    if warning:
        _log.warning(warning)
    gateway = TwilioGateway(
        credentials,
        http_client=http_client(
            environ, base_url=base_url, parallelism=parallelism, checkpoint=checkpoint
        ),
        parallelism=parallelism,
        emulated=is_emulated_url(base_url),
        edge=_location(environ, "TWILIO_EDGE", "a Twilio edge location such as sydney"),
        region=_location(environ, "TWILIO_REGION", "a Twilio region such as au1"),
    )
    try:
        yield gateway
    finally:
        gateway.close()


@contextmanager
def _embedded(
    environ: Mapping[str, str], root: str, parallelism: int, checkpoint: Callable[[], None]
) -> Iterator[TwilioGateway]:
    """The in-process emulator with its state in <root>/.wa-sync/emulator.db."""
    db = emulator_state(root)
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {db.parent} for the emulator's state: {exc}") from exc
    with embedded_emulator(db) as emu:
        credentials = ParentCredentials(
            account_sid=emu.parent_sid, username=emu.parent_sid, secret=Secret(emu.parent_token)
        )
        gateway = TwilioGateway(
            credentials,
            http_client=http_client(
                environ,
                base_url=emu.url,
                parallelism=parallelism,
                embedded=True,
                checkpoint=checkpoint,
            ),
            parallelism=parallelism,
            emulated=True,
        )
        try:
            yield gateway
        finally:
            gateway.close()


def emulator_state(root: str) -> Path:
    """The embedded emulator's database, <root>/.wa-sync/emulator.db; a UsageError when
    it, or its directory, is a link: the state belongs in the repository, and a link
    out of it is never followed."""
    state = Path(root) / STATE_DIR
    if state.is_symlink() or (state / EMULATOR_DB).is_symlink():
        raise UsageError(
            f"{state} is a symbolic link: remove it; the emulator keeps its state there"
        )
    return state / EMULATOR_DB


def embedded_emulator(db: Path) -> Emulator:
    """The emulator on the embedded state file `db`; a UsageError when that cannot be
    its database (the directory is wa-sync's own, so starting over loses nothing else)."""
    try:
        return Emulator(db=str(db))
    except StateError as exc:
        raise UsageError(
            f"{db}: cannot keep the emulator's state there ({exc}); the directory holds "
            f"only the embedded emulator's state: remove {STATE_DIR} to start over"
        ) from exc


def validate_base_url(base_url: str) -> str:
    """`base_url` without a trailing slash, or WaSyncError when it is not a plain
    http(s) base URL: another scheme, no host, a bad port, a query or fragment, or
    credentials in it are refused before any connection is made."""
    shown = _redacted(base_url)
    try:
        parts = urlsplit(base_url.strip())
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise WaSyncError(
            f"WA_SYNC_TWILIO_URL must be an http:// or https:// URL such as "
            f"http://127.0.0.1:4010, not {shown!r}"
        )
    if "@" in parts.netloc:
        raise WaSyncError(
            f"WA_SYNC_TWILIO_URL must not hold credentials (user:password@), not {shown!r}; "
            "wa-sync sends TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY with "
            "TWILIO_API_SECRET) from the environment"
        )
    if not port_ok:
        raise WaSyncError(f"WA_SYNC_TWILIO_URL has an invalid port: {shown!r}")
    if parts.query or parts.fragment:
        raise WaSyncError(
            f"WA_SYNC_TWILIO_URL must be a base URL without a query or fragment, not {shown!r}"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def cleartext_warning(base_url: str) -> str | None:
    """What to warn of when `base_url` (validated) would carry the credentials
    unencrypted beyond this machine: plain http:// to a host that is not loopback."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or _is_loopback(parts.hostname):
        return None
    return (
        f"warning: WA_SYNC_TWILIO_URL is plain http:// to {parts.hostname}: the Twilio"
        " credentials cross the network unencrypted; use https:// unless that network is"
        " only yours"
    )


def _redacted(url: str) -> str:
    """The URL safe to show: any user:password@ and the values of a query or fragment
    (where a token could hide) replaced."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "***" if parts.query else ""
    fragment = "***" if parts.fragment else ""
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return text
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return bool(host) and ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False
