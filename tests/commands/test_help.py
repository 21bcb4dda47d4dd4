"""`--help` that teaches: every option described, examples for every command, only the
global options that mean something to it, and a did-you-mean for a mistyped name."""

from __future__ import annotations

import argparse
import re

import pytest

from wa_sync.cli import COMMANDS as WIRED
from wa_sync.cli import build_parser, main

PARSER = build_parser()
SUBPARSERS = next(a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction))
COMMANDS = dict(SUBPARSERS.choices)


def test_every_command_is_wired() -> None:
    assert set(COMMANDS) == set(WIRED)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_is_described_and_the_command_has_examples(name: str) -> None:
    parser = COMMANDS[name]
    for action in parser._actions:
        assert action.help, (name, action.option_strings or action.dest)
        assert not action.help.startswith("("), (name, action.help)  # says what it is
    assert parser.epilog
    examples = [line for line in parser.epilog.splitlines() if line.startswith("  wa-sync ")]
    assert examples, name
    for line in examples:  # each example parses as written
        argv = re.split(r"\s{2,}", line.strip())[0].split()[1:]
        if "&&" in argv:
            argv = argv[: argv.index("&&")]
        PARSER.parse_args(argv)


@pytest.mark.parametrize(
    ("name", "shown", "hidden"),
    [
        ("plan", {"--root", "--customer", "--emulator"}, set()),
        ("validate", {"--root", "--customer"}, {"--emulator"}),
        ("new", {"--root"}, {"--customer", "--emulator"}),
        ("init", {"--root"}, {"--customer", "--emulator"}),
        ("emulator", set(), {"--root", "--customer", "--emulator"}),
    ],
)
def test_global_options_only_where_they_mean_something(
    name: str, shown: set[str], hidden: set[str]
) -> None:
    text = COMMANDS[name].format_help()
    for option in shown:
        assert f"{option} " in text, option
    for option in hidden:
        assert f"{option} " not in text, option


POSITIONALS = {
    "access-request": ["x"],
    "import": ["x", "--account-sid", "AC1"],
    "new": ["customer", "x"],
    "verify": ["x", "+31205550123", "123456"],
}


@pytest.mark.parametrize("name", sorted(WIRED))
def test_every_command_accepts_the_global_options(name: str) -> None:
    """SPEC §3: all commands take them, shown or not."""
    argv = [name, *POSITIONALS.get(name, []), "--root", "r", "--customer", "a", "--emulator"]
    argv += ["--no-color", "-v"]
    args = PARSER.parse_args(argv)
    assert (args.root, args.customer, args.emulator, args.no_color) == ("r", ["a"], True, True)


def test_global_options_still_go_before_the_command() -> None:
    args = PARSER.parse_args(["--emulator", "--root", "estate", "plan", "--customer", "a"])
    assert (args.emulator, args.root, args.customer) == (True, "estate", ["a"])


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["plna"], "unknown command 'plna'; did you mean 'plan'?"),
        (["statsu"], "did you mean 'status'?"),
        (["access-requets", "x"], "did you mean 'access-request'?"),
        (["validate", "--format", "jsn"], "unknown choice 'jsn'; did you mean 'json'?"),
    ],
)
def test_did_you_mean(argv: list[str], hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) != 0
    assert hint in capsys.readouterr().err


def test_no_guess_for_a_name_like_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["xyzzy"]) != 0
    err = capsys.readouterr().err
    assert "unknown command 'xyzzy' (choose from init, validate, plan" in err
    assert "did you mean" not in err
