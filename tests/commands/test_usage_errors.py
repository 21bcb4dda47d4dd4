"""Usage errors exit 1: with `plan --detailed-exitcode`, 2 means only "changes" (SPEC §3)."""

from __future__ import annotations

import pytest

from wa_sync.cli import main


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
