"""The command line of the Tech Provider flow (SPEC §1.1, §6): `wa-sync verify`, and
`wa-sync emulator CONTROL` that plays Twilio's and Meta's part. argparse only, apart
from cli.py to keep each module short; cli.py passes in what it shares."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

Command = Callable[[str, str, Sequence[str], str], argparse.ArgumentParser]
GlobalOptions = Callable[[argparse.ArgumentParser, Sequence[str]], None]
TEXT_OR_JSON = "text for people, json for scripts (default: text)"


def define_verify(command: Command, every: Sequence[str]) -> None:
    p = command(
        "verify",
        "submit the one-time code Meta sent to a sender's phone (never written anywhere)",
        every,
        "  wa-sync verify grachten-koffie +31205550123 483920\n"
        "  read -s CODE; echo $CODE | wa-sync verify grachten-koffie +31205550123 -",
    )
    p.add_argument("id", metavar="ID", help="the customer id")
    p.add_argument(
        "phone", metavar="PHONE", help="the sender's number, +E.164 (or whatsapp:+E.164)"
    )
    p.add_argument("code", metavar="CODE", help="the code, 4 to 8 digits; - reads it from stdin")
    p.add_argument("--format", choices=("text", "json"), default="text", help=TEXT_OR_JSON)


def define_emulator_controls(p: argparse.ArgumentParser, global_options: GlobalOptions) -> None:
    """`wa-sync emulator CONTROL`, on the --emulator state or a served emulator (--url)."""
    controls = p.add_subparsers(
        dest="control",
        metavar="CONTROL",
        help="play Twilio's and Meta's part instead of serving (`wa-sync emulator CONTROL -h`)",
    )
    p.epilog = (p.epilog or "") + (
        "\n  wa-sync emulator approve             WhatsApp approves what is in review"
        "\n  wa-sync emulator sender-status +31205550123 OFFLINE --reason 63101"
        "\n  wa-sync emulator verification-code 483920"
        "\n  wa-sync emulator recategorise order_update en MARKETING"
    )

    def control(name: str, summary: str) -> argparse.ArgumentParser:
        c = controls.add_parser(name, help=summary, description=summary[0].upper() + summary[1:])
        global_options(c, ("root", "customer", "verbose"))
        c.add_argument("--url", help="a served emulator (default: <root>/.wa-sync/emulator.db)")
        return c

    c = control("approve", "decide every template in review, as WhatsApp would")
    c.add_argument("--reject", metavar="REASON", help="reject them with this reason instead")
    c = control("sender-status", "move a sender to a status, OFFLINE with Twilio's reasons")
    c.add_argument("phone", metavar="PHONE", help="the sender's number, +E.164")
    c.add_argument("status", metavar="STATUS", help="ONLINE, OFFLINE, PENDING_VERIFICATION...")
    c.add_argument(
        "--reason", action="append", metavar="CODE", help="an offline reason: 63101, 63020..."
    )
    c = control("verification-code", "the one-time code senders now accept (default 123456)")
    c.add_argument("code", metavar="CODE")
    c = control("recategorise", "Meta changes an approved template's category")
    c.add_argument("name", metavar="NAME", help="the template's name as submitted (name_vN)")
    c.add_argument("language", metavar="LANGUAGE")
    c.add_argument("category", choices=("MARKETING", "UTILITY", "AUTHENTICATION"))


def define_flow(p: argparse.ArgumentParser) -> None:
    """`wa-sync new customer --flow`."""
    p.add_argument(
        "--flow",
        choices=("legacy", "embedded_signup"),
        help="a new customer's onboarding flow (default: asked on a terminal, else "
        "settings.onboarding_flow)",
    )
