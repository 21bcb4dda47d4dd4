"""The command line's parser: every command, its options, help and examples (SPEC §3).

Global options are accepted before or after a command's name; each command's help shows
only those that mean something to it. A mistyped command or choice gets a did-you-mean.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Sequence
from typing import Any, NoReturn

from wa_sync import __version__
from wa_sync.cli_onboarding import (
    TEXT_OR_JSON,
    Command,
    define_emulator_controls,
    define_flow,
    define_verify,
)
from wa_sync.cli_types import parallelism, positive_int, revision, shard
from wa_sync.commands.init import DEFAULT_ACTION

# The options every command takes, before or after its name (SPEC §3): name -> flags,
# argparse keywords, help. Each command's help shows only those that mean something to
# it; the others are accepted and hidden.
GLOBAL_OPTIONS: dict[str, tuple[tuple[str, ...], dict[str, Any], str]] = {
    "root": (("--root",), {"metavar": "DIR"}, "the estate's directory (default: .)"),
    "customer": (
        ("--customer",),
        {"metavar": "ID", "action": "append"},
        "only this customer; repeat it for more",
    ),
    "emulator": (
        ("--emulator",),
        {"action": "store_true"},
        "use the embedded Twilio emulator instead of Twilio (state in <root>/.wa-sync/emulator.db)",
    ),
    "no_color": (("--no-color",), {"action": "store_true"}, "never colour (also: NO_COLOR=1)"),
    "verbose": (
        ("-v", "--verbose"),
        {"action": "count"},
        "more detail on stderr: -v every field of a change, -vv each HTTP request",
    ),
}


def _global_options(parser: argparse.ArgumentParser, shown: Sequence[str]) -> None:
    """Add the global options to `parser`, with help for those in `shown`. SUPPRESS as
    the default keeps a command's default from overwriting a value given before it."""
    s = argparse.SUPPRESS
    group = parser.add_argument_group("global options (also before the command name)")
    for name, (flags, kwargs, text) in GLOBAL_OPTIONS.items():
        group.add_argument(*flags, default=s, help=text if name in shown else s, **kwargs)


class _Parser(argparse.ArgumentParser):
    """argparse with a did-you-mean for a mistyped command or choice, and the value an
    option takes when it has none."""

    def error(self, message: str) -> NoReturn:
        missing = re.fullmatch(r"argument (?:\S+/)?(\S+): expected one argument", message)
        if missing:
            message += self._value_hint(missing[1])
        super().error(message)

    def _value_hint(self, option: str) -> str:
        """What `option` takes, from its help and this command's examples: argparse says
        only "expected one argument" when the word after it is missing or starts with '-'
        (`--changed-since --`, an unset CI variable before the next option)."""
        action = self._option_string_actions.get(option)
        if action is None or not action.help or action.help == argparse.SUPPRESS:
            return ""
        told = self._get_formatter()._expand_help(action)  # as --help: %(default)s filled
        hint = f"\n{option} needs a value, {action.metavar or action.dest.upper()}: {told}"
        example = re.search(rf"wa-sync\b[^\n]*?{re.escape(option)}[ =][^-\s]\S*", self.epilog or "")
        if example:
            hint += f"; for example `{example[0]}`"
        return f"{hint} (a value that starts with '-' is written {option}=VALUE)"

    def _check_value(self, action: argparse.Action, value: object) -> None:
        choices = action.choices
        if choices is not None and value not in choices and isinstance(value, str):
            names = [str(choice) for choice in choices]
            close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
            what = "command" if isinstance(action, argparse._SubParsersAction) else "choice"
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise argparse.ArgumentError(
                action, f"unknown {what} {value!r}{hint} (choose from {', '.join(names)})"
            )
        super()._check_value(action, value)


COMMON_DEFAULTS = {
    "root": ".",
    "customer": None,
    "no_color": False,
    "verbose": 0,
    "emulator": False,
}

_TWILIO = tuple(GLOBAL_OPTIONS)  # the commands that read Twilio mean every one

EPILOG = """\
examples:
  wa-sync init my-estate && cd my-estate   scaffold a new estate repository
  wa-sync validate                         check the files offline
  wa-sync --emulator plan                  plan against the local Twilio emulator
  wa-sync plan --out plan.json             plan against Twilio, saved for apply
  wa-sync apply plan.json                  carry out the reviewed plan

Twilio credentials: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and
TWILIO_API_SECRET of a Main key), the parent (ISV) account's. `wa-sync COMMAND -h`
describes a command; docs/commands/ in wa-sync's repository has a page for each."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="wa-sync",
        description="WhatsApp onboarding as code: plan and apply customers, senders and "
        "templates to Twilio.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(parser, _TWILIO)
    parser.add_argument("--version", action="version", version=f"wa-sync {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, globals_: Sequence[str], example: str) -> _Parser:
        p: _Parser = sub.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog="examples:\n" + example,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _global_options(p, globals_)
        return p

    for define in (_init, _validate, _plan, _apply, _status, _access_request, _import):
        define(command)
    for define in (_output, _new, _emulator, _unlock):
        define(command)
    define_verify(command, _TWILIO)
    return parser


def _init(command: Command) -> None:
    p = command(
        "init",
        "scaffold a new estate repository: settings, an example customer and template, "
        "JSON Schemas, editor settings, pre-commit and GitHub workflows",
        ("root", "verbose"),
        "  wa-sync init my-estate              a new directory\n"
        "  wa-sync init .                      the current, empty repository\n"
        "  wa-sync init . --action my-org/wa-sync@v0.1.0   workflows use your fork's action\n"
        "  wa-sync init . --force              after an upgrade: refresh wa-sync's own files",
    )
    p.add_argument(
        "directory", nargs="?", metavar="DIR", help="where to write it (default: --root, or .)"
    )
    p.add_argument(
        "--action",
        metavar="OWNER/REPO@REF",
        default=DEFAULT_ACTION,
        help="the wa-sync action the workflows use, pinned to a tag or commit "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite files that exist; in an estate (DIR has a wa-sync.yaml) only those "
        "wa-sync owns: schemas, workflows, pre-commit and editor settings",
    )


def _validate(command: Command) -> None:
    p = command(
        "validate",
        "check the estate offline: YAML, JSON Schema, templates, WhatsApp rules, cross-file checks",
        ("root", "customer", "no_color", "verbose"),
        "  wa-sync validate\n"
        "  wa-sync validate --format github    one ::error annotation per problem (CI)\n"
        "  wa-sync validate --strict           warnings fail too",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text for people, json for scripts, github for workflow annotations (default: text)",
    )
    p.add_argument("--strict", action="store_true", help="fail on warnings too")


def _plan(command: Command) -> None:
    p = command(
        "plan",
        "show what apply would change in Twilio",
        _TWILIO,
        "  wa-sync plan\n"
        "  wa-sync plan --out plan.json        save it; then: wa-sync apply plan.json\n"
        "  wa-sync plan --format markdown --detailed-exitcode   a pull-request comment\n"
        "  wa-sync plan --shard 2/4            the second of four slices of the customers\n"
        "  wa-sync plan --changed-since origin/main   only what this branch changes",
    )
    p.add_argument("--out", metavar="FILE", help="also save the plan (JSON) for `apply FILE`")
    p.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text for a terminal, markdown for a pull request, json for scripts (default: text)",
    )
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 with no changes, 2 with changes, 1 on error",
    )
    _reconcile_options(p)


def _apply(command: Command) -> None:
    p = command(
        "apply",
        "make Twilio match the configuration",
        _TWILIO,
        "  wa-sync apply                       plan, show it, ask for yes\n"
        "  wa-sync apply plan.json             carry out a saved plan (refused if stale)\n"
        "  wa-sync apply --auto-approve --report apply-report.jsonl   in CI\n"
        "  wa-sync apply --changed-since HEAD~1   only what the last commit (a merge) changed",
    )
    p.add_argument(
        "planfile",
        nargs="?",
        metavar="PLANFILE",
        help="a plan saved by `plan --out`; without it, apply plans afresh",
    )
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation (CI)")
    p.add_argument(
        "--parallelism",
        type=parallelism,
        metavar="N",
        help="customers reconciled at once (default: settings.parallelism)",
    )
    p.add_argument(
        "--report", metavar="FILE", help="write one JSON line per change: the audit trail"
    )
    p.add_argument(
        "--lock-timeout",
        metavar="DURATION",
        help="wait this long for another apply's lock (0, 30s, 5m, 1h; default: "
        "settings.lock_timeout, else 0: refuse at once)",
    )
    _reconcile_options(p)


def _unlock(command: Command) -> None:
    p = command(
        "unlock",
        "remove the apply lock of an apply that is no longer running",
        ("root", "emulator", "no_color", "verbose"),
        "  wa-sync unlock                      show who holds it, ask, remove it\n"
        "  wa-sync unlock --yes                without asking (no terminal)",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _status(command: Command) -> None:
    p = command(
        "status",
        "each customer's onboarding stage, senders and template approvals",
        _TWILIO,
        "  wa-sync status\n  wa-sync status --customer acme-dental --format json",
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help=TEXT_OR_JSON)


def _access_request(command: Command) -> None:
    p = command(
        "access-request",
        "print and check the WhatsApp access-request form fields",
        ("root", "emulator", "no_color", "verbose"),
        "  wa-sync access-request acme-dental\n  wa-sync access-request acme-dental --format json",
    )
    p.add_argument("id", metavar="ID", help="the customer id (its file is customers/ID.yaml)")
    p.add_argument("--format", choices=("text", "json"), default="text", help=TEXT_OR_JSON)


def _import(command: Command) -> None:
    p = command(
        "import",
        "write customers/ID.yaml from an existing subaccount",
        ("root", "emulator", "no_color", "verbose"),
        "  wa-sync import contoso --account-sid AC0123456789abcdef0123456789abcdef",
    )
    p.add_argument("id", metavar="ID", help="the customer id: the file customers/ID.yaml")
    p.add_argument("--account-sid", required=True, metavar="AC...", help="the subaccount to import")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")


def _output(command: Command) -> None:
    p = command(
        "output",
        "the ContentSid to send with, per customer, template and language",
        _TWILIO,
        "  wa-sync output\n  wa-sync output --customer acme-dental --format json",
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help=TEXT_OR_JSON)


def _new(command: Command) -> None:
    p = command(
        "new",
        "scaffold a customer or library template file",
        ("root", "verbose"),
        "  wa-sync new customer acme-dental    writes customers/acme-dental.yaml\n"
        "  wa-sync new template order_update   writes templates/order_update.yaml",
    )
    p.add_argument("kind", choices=("customer", "template"), help="customer or template")
    p.add_argument(
        "name", metavar="ID_OR_NAME", help="the customer id, or the template's WhatsApp name"
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    define_flow(p)


def _emulator(command: Command) -> None:
    p = command(
        "emulator",
        "run the local Twilio emulator until Ctrl-C",
        ("verbose",),
        "  wa-sync emulator --port 4010\n"
        "  WA_SYNC_TWILIO_URL=http://127.0.0.1:4010 wa-sync plan   (in another terminal)",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: %(default)s)"
    )
    p.add_argument(
        "--port", type=int, default=4010, help="the port to listen on (default: %(default)s)"
    )
    p.add_argument(
        "--db", metavar="FILE", help="keep the state in this SQLite file (default: in memory)"
    )
    p.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        metavar="MS",
        help="the time to answer each request, work included (default: 0)",
    )
    p.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of requests answered with a 5xx, 0 to 1 (default: 0)",
    )
    p.add_argument(
        "--approve-after",
        type=float,
        metavar="SECONDS",
        help="approve each template submission this long after it (default: never by itself)",
    )
    p.add_argument(
        "--subaccount-limit",
        type=positive_int,
        default=1000,
        metavar="N",
        help="subaccounts before Twilio's error 21480 (default: %(default)s)",
    )
    p.add_argument(
        "--rate-limits",
        nargs="?",
        const="published",
        metavar="CLASS=RPS,...",
        help="enforce Twilio's Content API limits per account, 429 past them: the published "
        "ones, or e.g. list=20,create=100 (docs/emulator.md)",
    )
    p.add_argument(
        "--show-token", action="store_true", help="print the parent's auth token (never by default)"
    )
    define_emulator_controls(p, _global_options)


def _reconcile_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--shard", type=shard, metavar="K/N", help="only the customers in shard K of N (CI matrix)"
    )
    p.add_argument(
        "--changed-since",
        type=revision,
        metavar="REF",
        help="only the customers whose files, or the library templates they use, differ from "
        "REF, a git revision (all when wa-sync.yaml does)",
    )
    p.add_argument(
        "--prune",
        action="store_true",
        default=None,
        help="delete templates and senders no longer declared (default: settings.prune)",
    )
    p.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help="prune even past settings.max_delete_fraction",
    )
