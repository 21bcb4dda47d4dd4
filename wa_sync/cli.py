"""The command line: argparse and wiring only.

Each command lives in `wa_sync.commands.<name>` and exposes
`main(args, runtime) -> int`, an adapter that unpacks `args` into that module's
typed `run(...)`. Nothing below this module calls `sys.exit`.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from wa_sync import __version__
from wa_sync.errors import ConfigInvalid, UsageError, WaSyncError
from wa_sync.runtime import Runtime
from wa_sync.visible import visible

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130


def _shard(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", value)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise argparse.ArgumentTypeError(f"{value!r} is not K/N with 1 <= K <= N, e.g. 2/4")
    return int(match[1]), int(match[2])


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


def _common_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after the command name. SUPPRESS keeps a
    subparser's default from overwriting a value given before the command."""
    common = argparse.ArgumentParser(add_help=False)
    s = argparse.SUPPRESS
    common.add_argument("--root", metavar="DIR", default=s, help="repository root (default: .)")
    common.add_argument(
        "--customer",
        metavar="ID",
        action="append",
        default=s,
        help="limit the work to this customer (repeatable)",
    )
    common.add_argument("--no-color", action="store_true", default=s, help="never colour output")
    common.add_argument("-v", "--verbose", action="count", default=s, help="more detail on stderr")
    common.add_argument(
        "--emulator",
        action="store_true",
        default=s,
        help="use the embedded Twilio emulator (state in .wa-sync/emulator.db)",
    )
    return common


# command name -> module in wa_sync.commands ("import" is a Python keyword)
COMMAND_MODULES = {
    "validate": "validate",
    "plan": "plan",
    "apply": "apply",
    "status": "status",
    "access-request": "access_request",
    "import": "import_",
    "output": "output",
    "new": "new",
    "emulator": "emulator",
}

COMMON_DEFAULTS = {
    "root": ".",
    "customer": None,
    "no_color": False,
    "verbose": 0,
    "emulator": False,
}


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="wa-sync",
        parents=[common],
        description="WhatsApp onboarding as code: plan and apply customers, senders and "
        "templates to Twilio.",
    )
    parser.add_argument("--version", action="version", version=f"wa-sync {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help_text, description=help_text)

    p = command("validate", "check the repository offline: YAML, schema, templates, WhatsApp rules")
    p.add_argument("--format", choices=("text", "json", "github"), default="text")
    p.add_argument("--strict", action="store_true", help="fail on warnings too")

    p = command("plan", "show what apply would change in Twilio")
    p.add_argument("--out", metavar="FILE", help="save the plan for `apply FILE`")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 with no changes, 2 with changes, 1 on error",
    )
    _reconcile_options(p)

    p = command("apply", "make Twilio match the configuration")
    p.add_argument("planfile", nargs="?", metavar="PLANFILE", help="a plan saved by `plan --out`")
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    p.add_argument("--parallelism", type=_positive_int, help="customers reconciled at once")
    p.add_argument("--report", metavar="FILE", help="write one JSON line per change (audit trail)")
    _reconcile_options(p)

    p = command("status", "each customer's onboarding stage, senders and template approvals")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = command("access-request", "print and check the WhatsApp access-request form fields")
    p.add_argument("id", metavar="ID", help="the customer id")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = command("import", "write customers/ID.yaml from an existing subaccount")
    p.add_argument("id", metavar="ID", help="the customer id to create")
    p.add_argument("--account-sid", required=True, metavar="AC...", help="the subaccount to import")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")

    p = command("output", "the ContentSid to send with, per customer, template and language")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = command("new", "scaffold a customer or template file")
    p.add_argument("kind", choices=("customer", "template"))
    p.add_argument("name", metavar="ID_OR_NAME")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")

    p = command("emulator", "run the local Twilio emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4010)
    p.add_argument("--db", metavar="FILE", help="SQLite file (default: in memory)")
    p.add_argument(
        "--latency-ms", type=int, default=0, help="the time to answer each request, work included"
    )
    p.add_argument("--fault-rate", type=float, default=0.0, help="share of requests answered 5xx")
    p.add_argument("--approve-after", type=float, help="seconds until submissions are approved")
    p.add_argument(
        "--subaccount-limit", type=_positive_int, default=1000, help="Twilio's limit (21480)"
    )
    p.add_argument("--show-token", action="store_true", help="print the parent's auth token")
    return parser


def _reconcile_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shard", type=_shard, metavar="K/N", help="only customers in shard K of N")
    p.add_argument("--prune", action="store_true", default=None, help="delete undeclared objects")
    p.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help="prune even past max_delete_fraction",
    )


@contextmanager
def error_handler(runtime: Runtime, *, verbose: int) -> Iterator[list[int]]:
    """One place turns exceptions into messages and exit codes."""
    result = [EXIT_OK]
    try:
        yield result
    except ConfigInvalid as exc:
        runtime.stderr.write(f"{visible(str(exc))}\n")
        result[0] = EXIT_ERROR
    except WaSyncError as exc:
        runtime.stderr.write(f"Error: {visible(str(exc))}\n")
        result[0] = EXIT_ERROR
    except KeyboardInterrupt:
        runtime.stderr.write("Interrupted.\n")
        result[0] = EXIT_INTERRUPTED
    except Exception:  # the last line of defence
        runtime.stderr.write("Error: internal error in wa-sync, please report it")
        runtime.stderr.write(" (run with -v for the traceback).\n" if not verbose else ":\n")
        if verbose:
            runtime.stderr.write(visible(traceback.format_exc()))
        result[0] = EXIT_ERROR


def main(argv: Sequence[str] | None = None, runtime: Runtime | None = None) -> int:
    runtime = runtime or Runtime.from_os()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its message (--help, --version: 0)
        if not exc.code:
            return EXIT_OK
        _suggest_option(parser, argv if argv is not None else sys.argv[1:])
        return EXIT_ERROR  # SPEC §3: a usage error is 1, since 2 means "changes"
    for key, value in COMMON_DEFAULTS.items():
        if not hasattr(args, key):
            setattr(args, key, value)
    handler = logging.StreamHandler(runtime.stderr)
    handler.setFormatter(_VisibleFormatter("%(message)s"))
    logging.basicConfig(
        handlers=[handler],
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
    )
    with error_handler(runtime, verbose=args.verbose) as result:
        module = importlib.import_module(f"wa_sync.commands.{COMMAND_MODULES[args.command]}")
        result[0] = module.main(args, runtime)
    return result[0]


class _VisibleFormatter(logging.Formatter):
    """Log lines with any control character from Twilio's text escaped (SPEC §4.8)."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


def _suggest_option(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """After argparse's message: "did you mean" for an option no parser knows."""
    known = set(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                known |= set(command._option_string_actions)
    for word in argv:
        option = word.split("=", 1)[0]
        if option.startswith("--") and option not in known:
            close = difflib.get_close_matches(option, sorted(known), n=1)
            if close:
                sys.stderr.write(f"wa-sync: did you mean {close[0]}?\n")
            return


def entry_point() -> None:
    runtime = Runtime.from_os()
    code = main(None, runtime)
    # End here, with `runtime` (and what its command kept) still held: the objects of a
    # large plan are not freed one by one, nor the interpreter torn down, for a process
    # that is over. Output is flushed first; nothing else runs at exit (the commands
    # close their own resources, and their worker threads are idle).
    logging.shutdown()
    for stream in (runtime.stdout, runtime.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            code = code or EXIT_ERROR
    os._exit(code)


__all__ = ["EXIT_CHANGES", "EXIT_ERROR", "EXIT_OK", "UsageError", "build_parser", "main"]
