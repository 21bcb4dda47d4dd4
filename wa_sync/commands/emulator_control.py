"""`wa-sync emulator CONTROL ...`: play Twilio's and Meta's part on an emulator (SPEC §6).

The embedded emulator (`--emulator`'s state in <root>/.wa-sync/emulator.db), or one
served by `wa-sync emulator` when `--url` gives its address. Objects are named as people
know them (a phone number, a template name and language), not by SID:

    approve                               decide every template in review, as WhatsApp would
    sender-status PHONE STATUS [--reason CODE]...   move a sender (OFFLINE with reasons)
    verification-code CODE                the one-time code senders now accept
    recategorise NAME LANGUAGE CATEGORY   Meta changes an approved template's category
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import urlsplit

from wa_sync.connect import embedded_emulator, emulator_state
from wa_sync.emulator import EmulatorControl, NotAnEmulator
from wa_sync.errors import UsageError
from wa_sync.model import FRIENDLY_NAME_PREFIX
from wa_sync.runtime import Runtime

IN_REVIEW = ("received", "pending")


class Controls(Protocol):
    """What the embedded Emulator and a remote EmulatorControl both offer."""

    def state(self) -> dict[str, Any]: ...
    def approve(self, content_sid: str) -> None: ...
    def reject(self, content_sid: str, reason: str = ...) -> None: ...
    def set_sender_status(
        self, sender_sid: str, status: str, reasons: Sequence[str] = ...
    ) -> None: ...
    def set_verification_code(self, code: str) -> None: ...
    def recategorise(self, content_sid: str, category: str) -> None: ...


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    with _controls(args.root, args.url) as emulator:
        try:
            message = _act(emulator, args)
        except NotAnEmulator as exc:
            raise UsageError(
                f"--url {args.url} is not a wa-sync emulator's control API ({exc}); "
                f"give the address `wa-sync emulator` prints"
            ) from exc
        except LookupError as exc:
            raise UsageError(str(exc).strip("'\"")) from exc
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        except OSError as exc:  # urllib's URLError: refused, unknown host, timeout
            why = getattr(exc, "reason", None) or exc
            why = getattr(why, "strerror", None) or why  # "Connection refused", no errno
            raise UsageError(
                f"--url {args.url}: no emulator answers there ({why}); start one with "
                "`wa-sync emulator`, or give the address it prints"
            ) from exc
    runtime.stdout.write(message + "\n")
    return 0


def _act(emulator: Controls, args: argparse.Namespace) -> str:
    only = set(args.customer or ())
    if args.control == "approve":
        return _approve(emulator, only, reject=args.reject)
    if args.control == "sender-status":
        sender = _sender(emulator.state(), args.phone, only)
        emulator.set_sender_status(sender["sid"], args.status, args.reason or ())
        reasons = f" ({', '.join(args.reason)})" if args.reason else ""
        return f"sender {args.phone} ({sender['sid']}) is now {args.status}{reasons}"
    if args.control == "verification-code":
        emulator.set_verification_code(args.code)
        return "senders in PENDING_VERIFICATION now accept the code given"  # never echo it
    content = _approved(emulator.state(), args.name, args.language, only)
    emulator.recategorise(content["sid"], args.category)
    was = content["approval"]["category"]
    return f"{args.name} [{args.language}] ({content['sid']}): category {was} -> {args.category}"


@contextmanager
def _controls(root: str, url: str | None) -> Iterator[Controls]:
    if url:
        yield EmulatorControl(_control_url(url))
        return
    db = emulator_state(root)
    if not db.exists():
        raise UsageError(
            f"no embedded emulator state at {db}: run a command with --emulator first "
            "(e.g. `wa-sync --emulator apply`), or give a served emulator's address with --url"
        )
    emulator = embedded_emulator(db)
    try:
        yield emulator
    finally:
        emulator.close()


def _control_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # "http://[bad": an unclosed IPv6 bracket
        usable = False
    if not usable:
        raise UsageError(
            f"--url must be the address `wa-sync emulator` prints, such as "
            f"http://127.0.0.1:4010, not {url!r}"
        )
    return url


def _accounts(state: dict[str, Any], only: set[str]) -> set[str]:
    """The subaccount SIDs of the customers in `only` (every account when empty)."""
    if not only:
        return set(state["senders"])
    names = {FRIENDLY_NAME_PREFIX + customer for customer in only}
    return {a["sid"] for a in state["accounts"] if a["friendly_name"] in names}


def _approve(emulator: Controls, only: set[str], *, reject: str | None) -> str:
    state = emulator.state()
    accounts = _accounts(state, only)
    decided = 0
    for account, contents in state["contents"].items():
        for content in contents:
            if account in accounts and content["approval"]["status"] in IN_REVIEW:
                if reject:
                    emulator.reject(content["sid"], reject)
                else:
                    emulator.approve(content["sid"])
                decided += 1
    return f"{'rejected' if reject else 'approved'} {decided} template(s) in review"


def _sender(state: dict[str, Any], phone: str, only: set[str]) -> dict[str, Any]:
    accounts = _accounts(state, only)
    found = [
        sender
        for account, senders in state["senders"].items()
        if account in accounts
        for sender in senders
        if sender["sender_id"] == f"whatsapp:{phone}"
    ]
    if not found:
        raise LookupError(f"no sender {phone} in the emulator (give the number as +E.164)")
    return found[0]  # a number registers once in the emulator


def _approved(state: dict[str, Any], name: str, language: str, only: set[str]) -> dict[str, Any]:
    accounts = _accounts(state, only)
    found = [
        content
        for account, contents in state["contents"].items()
        if account in accounts
        for content in contents
        if content["friendly_name"] == name
        and content["language"] == language
        and content["approval"]["status"] == "approved"
    ]
    if not found:
        raise LookupError(
            f"no approved template {name} [{language}] in the emulator: Meta re-categorises "
            "only approved templates"
        )
    if len(found) > 1:
        raise LookupError(
            f"{len(found)} customers have an approved {name} [{language}]: choose one with "
            "--customer ID"
        )
    return found[0]
