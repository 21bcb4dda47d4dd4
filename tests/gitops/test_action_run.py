"""action/run.sh as the action runs it, with a wa-sync that answers what the test needs:
every input reaches the command, and no output of the command changes how the job
summary reads."""

from __future__ import annotations

import re
from pathlib import Path

from tests.gitops.test_action import ACTION, ROOT, estate, run_action  # noqa: F401 (a fixture)


def fake_wa_sync(tmp_path: Path, script: str) -> Path:
    fake = tmp_path / "fake" / "wa-sync"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    fake.chmod(0o755)
    return fake


def test_every_line_of_args_reaches_the_command(estate: Path, tmp_path: Path) -> None:  # noqa: F811
    fake = fake_wa_sync(tmp_path, f'printf "%s\\n" "$@" > {tmp_path}/args')
    # a YAML block (`args: |`) gives one flag a line
    run_action(estate, fake, "validate", args="--strict\n--format json\n")
    args = (tmp_path / "args").read_text().splitlines()
    assert args[args.index("validate") :] == [
        "validate",
        "--format",
        "github",
        "--strict",
        "--format",
        "json",
    ]


def test_the_output_cannot_end_its_code_block_in_the_job_summary(
    estate: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    hostile = "Error: Twilio said no\n````\n<details><summary>all fine</summary>\n"
    fake = fake_wa_sync(tmp_path, f"printf '{hostile}' >&2; exit 1")
    _, out, summary = run_action(estate, fake, "plan")
    assert out["exit_code"] == "1"
    opening = re.search(r"^(`{4,})text$", summary, re.MULTILINE)
    assert opening, summary
    fences = re.findall(rf"^ {{0,3}}`{{{len(opening[1])},}} *$", summary, re.MULTILINE)
    assert len(fences) == 1, summary  # the block's own end, after the text
    assert summary.rindex(fences[0]) > summary.index("<details>")


def test_the_customer_input_is_never_expanded_into_file_names(
    estate: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = fake_wa_sync(tmp_path, f'printf "%s\\n" "$@" > {tmp_path}/args')
    run_action(estate, fake, "plan", customer="clinic-1 *\nclinic-2")
    args = (tmp_path / "args").read_text().splitlines()
    ids = [args[n + 1] for n, arg in enumerate(args) if arg == "--customer"]
    assert ids == ["clinic-1", "*", "clinic-2"]


def test_a_sharded_plan_job_cannot_post_the_one_comment(
    estate: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`comment: true` on each job of a shard matrix: every job would replace the pull
    request's one comment with its own shard, the last to finish winning. The action
    refuses before planning, naming the comment job that gathers every shard's result."""
    fake = fake_wa_sync(tmp_path, f'printf "%s\\n" "$@" > {tmp_path}/args')
    proc, out, _ = run_action(estate, fake, "plan", shard="2/3", comment="true")
    assert proc.returncode == 1
    (error,) = [line for line in proc.stdout.splitlines() if line.startswith("::error::")]
    assert "comment: true cannot be given with shard" in error
    assert "command: comment" in error
    assert "A sharded pull-request plan" in error
    assert not (tmp_path / "args").exists()  # nothing planned, nothing for a comment
    assert out == {}

    # the combinations that keep one comment whole still run
    for inputs in ({"comment": "true"}, {"shard": "2/3", "comment": "false"}):
        proc, out, _ = run_action(estate, fake, "plan", **inputs)
        assert (proc.returncode, out["exit_code"]) == (0, "0"), inputs


def test_every_input_run_sh_reads_is_given_by_the_action() -> None:
    """The action's `Run wa-sync` step sets each INPUT_* variable that run.sh reads from
    the input of that name: one left out is an input silently ignored."""
    read = set(re.findall(r"\bINPUT_[A-Z_]+", (ROOT / "action" / "run.sh").read_text()))
    step = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "run")
    for name in sorted(read):
        input_name = name.removeprefix("INPUT_").lower().replace("_", "-")
        assert step["env"].get(name) == f"${{{{ inputs.{input_name} }}}}", name
