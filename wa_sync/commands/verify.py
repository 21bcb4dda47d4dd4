"""`wa-sync verify ID PHONE CODE`: submit the one-time code Meta sent to a sender's phone
(SPEC §1.1 step 4, §3) and print the status Twilio then reports.

The code is a secret: it is held in a Secret from the command line on, sent once in the
request body, and never printed, logged or written (Twilio's answer and error texts
are scrubbed of it too).
"""

from __future__ import annotations

import argparse
import getpass
import json
import re

from wa_sync.commands.common import EMULATOR_BANNER, check_known, connect, load
from wa_sync.credentials import Secret
from wa_sync.errors import UsageError, WaSyncError
from wa_sync.gateway.base import BrokenAnswer, RateLimited, Unavailable
from wa_sync.health import PENDING_VERIFICATION
from wa_sync.model import Customer, LiveSender
from wa_sync.runtime import Runtime

CODE = re.compile(r"^[0-9]{4,8}\Z")  # Meta's codes are six digits; allow a little either side
WHAT_NEXT = {
    "VERIFYING": "Twilio and Meta are checking the code; the sender goes ONLINE when they are "
    "done (`wa-sync status` shows it).",
    "ONLINE": "The sender is online.",
}


class CodeRefused(WaSyncError):
    """Twilio refused the one-time code, or never answered it."""


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    # `-` reads the code from standard input: out of the shell's history and `ps`
    with runtime.at_once():  # a signal at the prompt stops it there
        code = Secret(_read_code(runtime).strip() if args.code == "-" else args.code)
    args.code = None  # nothing after this point can print it by accident
    return run(
        root=args.root,
        customer_id=args.id,
        phone=args.phone,
        code=code,
        fmt=args.format,
        emulator=args.emulator,
        runtime=runtime,
    )


def _read_code(runtime: Runtime) -> str:
    """The code from standard input; on a terminal asked for without echo (getpass, on
    the terminal itself), so that it is not on the screen, in its scrollback or in a
    recording of it."""
    if not runtime.stdin_isatty:
        return runtime.stdin.readline()
    try:
        return getpass.getpass("One-time code (not shown as you type): ")
    except EOFError:  # Ctrl-D: no code, refused as such below
        return ""


def run(
    *,
    root: str,
    customer_id: str,
    phone: str,
    code: Secret,
    fmt: str,
    emulator: bool,
    runtime: Runtime,
) -> int:
    if not CODE.match(code.reveal()):
        raise UsageError("CODE is the one-time code Meta sent by SMS or voice: 4 to 8 digits")
    check_known(root, customer_id)
    phone = _number(phone)
    loaded = load(root, only=[customer_id], err=runtime.stderr)
    customer = loaded.config.customer(customer_id)
    assert customer is not None  # load() refused unknown ids
    _declared(customer, phone)
    with connect(runtime, root=root, emulator=emulator, parallelism=1) as gateway:
        live = gateway.read([customer]).customers[customer_id]
        account = live.account
        sender = next((s for s in live.senders if s.phone_number == phone), None)
        if account is None or sender is None:
            raise UsageError(
                f"sender {phone} of {customer_id} is not registered in Twilio yet: run "
                "`wa-sync apply` first; Meta sends the code once it is registered"
            )
        _waiting(sender)
        runtime.checkpoint()  # a signal while it read: the code is not sent
        try:
            after = gateway.verify_sender(account, sender.sid, code)
        except WaSyncError as exc:
            # no cause kept: Twilio's error may quote the one-time code, which is a secret
            told = str(exc).replace(code.reveal(), "***")
            unanswered = isinstance(exc, Unavailable | RateLimited | BrokenAnswer)
            raise CodeRefused((_unanswered if unanswered else _refused)(phone, told)) from None
        runtime.finishing()  # the code was sent: a signal from now on changes nothing
        emulated = gateway.emulated
    runtime.stdout.write(_report(customer_id, after, fmt, emulated))
    return 0


def _number(phone: str) -> str:
    """PHONE as customer files declare it, +E.164: also given as the sender's address
    (`whatsapp:+14155550123`), the form the Twilio Console and Twilio's messages show."""
    prefix = "whatsapp:"
    return phone[len(prefix) :] if phone[: len(prefix)].lower() == prefix else phone


def _declared(customer: Customer, phone: str) -> None:
    if any(s.phone_number == phone for s in customer.senders):
        return
    declared = ", ".join(s.phone_number for s in customer.senders) or "none"
    raise UsageError(
        f"customer {customer.id} declares no sender {phone} (give it as +E.164); its "
        f"senders: {declared}"
    )


def _waiting(sender: LiveSender) -> None:
    if sender.status != PENDING_VERIFICATION:
        raise UsageError(
            f"sender {sender.phone_number} is {sender.status}, not waiting for a one-time "
            f"code (Twilio shows {PENDING_VERIFICATION} when it is): nothing was sent"
        )


def _refused(phone: str, twilio: str) -> str:
    return (
        f"Twilio refused the one-time code for {phone}: {twilio}. Check the newest code "
        "Meta sent to that phone (by SMS, or a call with `verification: voice`) and run the "
        "command again"
    )


def _unanswered(phone: str, twilio: str) -> str:
    """The code may be right: Twilio kept failing, or its answer was lost."""
    return (
        f"The one-time code for {phone} did not reach Twilio, or its answer was lost: "
        f"{twilio}. Run `wa-sync status` to see whether the sender left "
        f"{PENDING_VERIFICATION}; if it did not, run this command again with the same code, "
        "unless Meta has sent a newer one"
    )


def _report(customer_id: str, sender: LiveSender, fmt: str, emulated: bool) -> str:
    if fmt == "json":
        doc = {
            "customer": customer_id,
            "phone_number": sender.phone_number,
            "sid": sender.sid,
            "status": sender.status,
            "emulator": emulated,
        }
        return json.dumps(doc, indent=2) + "\n"
    lines = [EMULATOR_BANNER] if emulated else []
    lines.append(f"Code accepted for {sender.phone_number} ({sender.sid}): {sender.status}.")
    lines.append(WHAT_NEXT.get(sender.status, "`wa-sync status` shows what comes next."))
    return "\n".join(lines) + "\n"
