"""The command line: argparse and wiring only.

Each command lives in `wa_sync.commands.<name>` and exposes
`main(args, runtime) -> int`, an adapter that unpacks `args` into that module's
typed `run(...)`. Nothing below this module calls `sys.exit`.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import TextIO

from wa_sync.cli_parser import COMMON_DEFAULTS, build_parser
from wa_sync.commands import (
    access_request,
    apply,
    emulator,
    import_,
    init,
    new,
    output,
    plan,
    status,
    unlock,
    validate,
    verify,
)
from wa_sync.commands.common import signals_recorded
from wa_sync.errors import INTERNAL_ERROR, ConfigInvalid, UsageError, WaSyncError
from wa_sync.runtime import Runtime
from wa_sync.visible import visible

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130


# command name -> its adapter in wa_sync.commands ("import" is a Python keyword)
COMMANDS: dict[str, Callable[[argparse.Namespace, Runtime], int]] = {
    "init": init.main,
    "validate": validate.main,
    "plan": plan.main,
    "apply": apply.main,
    "status": status.main,
    "access-request": access_request.main,
    "import": import_.main,
    "output": output.main,
    "new": new.main,
    "emulator": emulator.main,
    "unlock": unlock.main,
    "verify": verify.main,
}
# The commands that talk to Twilio (the main thread's requests and their waits, a pool
# of reads): a first signal is recorded, and stops them as a customer is read, once Twilio
# is read, or at their end; their prompts stop at once (commands/common.py
# signals_recorded). Python's own handler raised where it landed, in a lock of
# `threading`'s, a pool's or a future's. apply has a policy of its own; the others keep
# Python's: they start no thread, or serve until Ctrl-C (the emulator).
TWILIO = frozenset({"plan", "status", "output", "import", "access-request", "verify", "unlock"})


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
    except KeyboardInterrupt as exc:  # Interrupted (interrupts.py) knows its signal's code
        runtime.stderr.write("Interrupted.\n")
        result[0] = getattr(exc, "exit_code", EXIT_INTERRUPTED)
    except Exception:  # the last line of defence
        runtime.stderr.write(f"Error: {INTERNAL_ERROR}")
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
        _suggest_option(parser, argv if argv is not None else sys.argv[1:], runtime.stderr)
        return EXIT_ERROR  # SPEC §3: a usage error is 1, since 2 means "changes"
    for key, value in COMMON_DEFAULTS.items():
        if not hasattr(args, key):
            setattr(args, key, value)
    runtime.no_color = runtime.no_color or bool(args.no_color)  # for progress (progress.py)
    handler = logging.StreamHandler(runtime.stderr)
    handler.setFormatter(_VisibleFormatter("%(message)s"))
    logging.basicConfig(
        handlers=[handler],
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
    )
    # urllib3 warns of each retry in its own words (its Retry's repr); the retry policy
    # (gateway/http.py) tells it as "attempt 1/5 GET /path: ..." at -v
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    with error_handler(runtime, verbose=args.verbose) as result:
        if args.command in TWILIO:
            with signals_recorded(runtime):
                result[0] = COMMANDS[args.command](args, runtime)
        else:
            result[0] = COMMANDS[args.command](args, runtime)
    return result[0]


class _VisibleFormatter(logging.Formatter):
    """Log lines with any control character from Twilio's text escaped (SPEC §4.8)."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


def _suggest_option(parser: argparse.ArgumentParser, argv: Sequence[str], err: TextIO) -> None:
    """After argparse's message: "did you mean" for an option no parser knows."""
    known = _options(parser)
    for word in argv:
        if word == "--":  # the end of options: what follows is no option
            return
        option = word.split("=", 1)[0]
        if option.startswith("--") and option not in known:
            close = difflib.get_close_matches(option, sorted(known), n=1)
            if close:
                err.write(f"wa-sync: did you mean {close[0]}?\n")
            return


def _options(parser: argparse.ArgumentParser) -> set[str]:
    """The options of `parser` and of its commands, theirs too (`emulator approve`)."""
    known = set(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                known |= _options(command)
    return known


def entry_point() -> None:
    """The `wa-sync` command, the process's: once a command's result is known, a signal
    changes nothing up to the process's exit (wa_sync/interrupts.py)."""
    code = main(runtime=replace(Runtime.from_os(), ends_process=True))
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            code = code or EXIT_ERROR
            _discard(stream)
    sys.exit(code)


def _discard(stream: TextIO) -> None:
    """Send what is left of a stream whose reader is gone to /dev/null, so that the
    interpreter's own flush at exit does not fail again (Python's documented way:
    the "Note on SIGPIPE" of the signal module)."""
    with suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


__all__ = ["EXIT_CHANGES", "EXIT_ERROR", "EXIT_OK", "UsageError", "build_parser", "main"]
