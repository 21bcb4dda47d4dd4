"""Usage errors exit 1: with `plan --detailed-exitcode`, 2 means only "changes" (SPEC §3)."""

from __future__ import annotations

import pytest

from wa_sync.cli import main
from wa_sync.cli_parser import DEFAULT_ACTION


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--fromat", "json"], "unrecognized arguments: --fromat"),
        (["plan", "--detailed-exitcode", "--shard", "3/2"], "'3/2' is not K/N"),
        (["plna"], "unknown command 'plna'; did you mean 'plan'?"),
        (["apply", "--parallelism", "0"], "'0' is not a whole number from 1 to 64"),
        (["apply", "--parallelism", "65"], "'65' is not a whole number from 1 to 64"),
        (["apply", "--parallelism", "1" + "0" * 30], "is not a whole number from 1 to 64"),
    ],
    ids=[
        "misspelt-option",
        "bad-shard",
        "unknown-command",
        "bad-parallelism",
        "parallelism-past-the-settings-maximum",
        "parallelism-that-would-exhaust-memory",  # the HTTP pool held one slot per worker
    ],
)
def test_a_usage_error_exits_1_with_argparse_message(argv, message, capsys, tmp_path):
    assert main([*argv, "--root", str(tmp_path)]) == 1
    assert message in capsys.readouterr().err


def test_a_misspelt_option_gets_a_did_you_mean(capsys, tmp_path):
    assert main(["plan", "--fromat=json", "--root", str(tmp_path)]) == 1
    assert "did you mean --format?" in capsys.readouterr().err


PLAN_EXAMPLE = "wa-sync plan --changed-since origin/main"


@pytest.mark.parametrize(
    ("argv", "example"),
    [
        (["plan", "--changed-since", "--"], PLAN_EXAMPLE),
        (["plan", "--changed-since", "--prune"], PLAN_EXAMPLE),
        (["plan", "--changed-since"], PLAN_EXAMPLE),
        (["apply", "--changed-since", "-v"], "wa-sync apply --changed-since HEAD~1"),
    ],
    ids=["end-of-options", "another-option", "last-word", "apply-a-short-option"],
)
def test_an_option_without_its_value_says_what_value_it_takes(argv, example, capsys, tmp_path):
    """`--changed-since --` (an unset CI variable before a `--`, say) suggested "did you
    mean --db?", an option of another command: the error says the option needs a git
    revision, and shows one."""
    assert main([*argv, "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "argument --changed-since: expected one argument" in err
    assert "did you mean" not in err
    assert "--changed-since needs a value, REF: only the customers whose files" in err
    assert "differ from REF, a git revision" in err
    assert f"for example `{example}`" in err


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["plan", "--shard"], "--shard needs a value, K/N: only the customers in shard K of N"),
        (["status", "--customer"], "for example `wa-sync status --customer acme-dental`"),
    ],
    ids=["shard", "a-global-option"],
)
def test_other_options_without_their_value_say_it_too(argv, hint, capsys, tmp_path):
    assert main(["--root", str(tmp_path), *argv]) == 1
    assert hint in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--version"], ["plan", "--help"]], ids=["version", "help"])
def test_help_and_version_still_exit_0(argv, capsys):
    assert main(argv) == 0
    assert capsys.readouterr().out


@pytest.mark.parametrize("command", [["validate"], ["plan", "--emulator"], ["status"]])
def test_a_root_that_is_no_estate_is_refused_not_valid(command, capsys, tmp_path):
    """A wrong directory (a CI step without the estate's `root:`) is not an empty estate:
    `validate` said "Valid: 0 customers", and plan had nothing to do."""
    assert main([*command, "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"--root {tmp_path}: not a wa-sync estate" in err
    assert "wa-sync init" in err
    assert not (tmp_path / ".wa-sync").exists()  # nothing made there


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["emulator", "--port"], "PORT: the port to listen on (default: 4010)"),
        (["init", "--action"], f"pinned to a tag or commit (default: {DEFAULT_ACTION})"),
    ],
    ids=["emulator-port", "init-action"],
)
def test_an_option_s_value_hint_shows_its_default_not_argparse_s_placeholder(
    argv, hint, capsys, tmp_path
):
    """The hint quoted the option's help as written for argparse: `(default:
    %(default)s)`, where `--help` says `(default: 4010)`."""
    assert main(["--root", str(tmp_path), *argv]) == 1
    err = capsys.readouterr().err
    assert hint in err
    assert "%(" not in err


def test_a_misspelt_option_of_an_emulator_control_command_gets_its_own_did_you_mean(
    capsys, tmp_path
):
    """The did-you-mean knew the options of the commands but not of `emulator`'s control
    commands: `emulator approve --url U --rejct R` said "did you mean --out?", an option
    of `plan`, and `emulator approve X --url U` offered `--out` for its own `--url`."""
    url = "http://127.0.0.1:9"
    argv = ["--root", str(tmp_path), "emulator", "approve", "--url", url, "--rejct", "spam"]
    assert main(argv) == 1
    assert "did you mean --reject?" in capsys.readouterr().err
    assert main(["--root", str(tmp_path), "emulator", "approve", "x", "--url", url]) == 1
    assert "did you mean" not in capsys.readouterr().err
