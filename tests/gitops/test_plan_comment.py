"""The plan comment (action/plan-comment.cjs, run on node against a fake GitHub API):
what a reviewer reads must never hide a shard, a failure or the fact that it was cut."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.gitops.test_workflows import ROOT, run_comment, write_shard

GITHUB_LIMIT = 65_536


def posted(tmp_path: Path, plans: Path) -> str:
    out = run_comment(tmp_path, [], plansDir=str(plans), validateResult="success")
    body: str = out["calls"][-1][1]["body"]
    return body


def test_an_error_text_cannot_end_its_code_block(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    hostile = "Twilio error 20001: bad\n````\n<details><summary>fine</summary>\n\n@acme/admins"
    write_shard(plans, 1, 1, 1, "", err=hostile)
    body = posted(tmp_path, plans)
    fence = re.search(r"^(`{4,})text$", body, re.MULTILINE)
    assert fence, body
    # the block ends only at a line of at least as many backticks as it opened with
    closing = [m.start() for m in re.finditer(rf"^`{{{len(fence[1])},}}$", body, re.MULTILINE)]
    assert len(closing) == 1, body
    assert closing[0] > body.index("@acme/admins"), body


def test_the_missing_shards_are_named_and_a_duplicate_does_not_stand_in(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    write_shard(plans, 1, 3, 0, "No changes.")
    write_shard(plans, 2, 3, 0, "No changes.")
    # a second result of shard 2 (a re-run job's artifact, downloaded with the first)
    (plans / "wa-sync-plan-2").rename(plans / "wa-sync-plan-2-attempt-1")
    write_shard(plans, 2, 3, 0, "No changes.")
    body = posted(tmp_path, plans)
    assert "No changes." not in body.split("###")[0], body
    assert "only 2 of 3 shards reported a result" in body
    assert "no result from shard 3/3" in body


def plan_markdown(customers: int, summary: str, unread: str = "") -> str:
    """A plan as `wa-sync plan --format markdown` writes it: marker, title, summary, the
    not-read line, the table, then a folded <details><pre> section per customer."""
    head = ["<!-- wa-sync-plan -->", "### wa-sync plan", "", f"**{summary}**", ""]
    if unread:
        head += [f"**Not read from Twilio, so nothing is planned for them:** {unread}", ""]
    head += ["| customer | create |", "|---|---|"]
    head += [f"| clinic\\-{n} | 3 |" for n in range(customers)] + [""]
    body = []
    for n in range(customers):
        body += ["<details>", f"<summary><b>clinic-{n}</b>: 3 create</summary>", "", "<pre>"]
        body += [f"+ customer.clinic-{n}.template.reminder_{t}" for t in range(3)]
        body += ["</pre>", "</details>", ""]
    return "\n".join(head + body + ["", f"**{summary}**", ""])


def balanced(body: str) -> None:
    """Every <details> and <pre> the body opens is closed, and no note that the plan is
    shortened is inside one (it would be folded away, or shown as code)."""
    notes = [m.start() for m in re.finditer("does not fit|too long for one comment", body)]
    assert notes, body
    for tag in ("details", "pre"):
        spans = []
        for opened in re.finditer(f"<{tag}>", body):
            closed = body.find(f"</{tag}>", opened.end())
            assert closed > 0, f"<{tag}> left open"
            spans.append((opened.start(), closed))
        assert len(spans) == body.count(f"</{tag}>")
        assert not [n for n in notes for start, end in spans if start < n < end]


def test_a_plan_that_fits_wa_syncs_limit_is_not_cut_into_an_open_fold(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    markdown = plan_markdown(275, "Plan: 825 to create.")
    assert 60_000 < len(markdown) < 65_000  # what render_markdown would post whole
    write_shard(plans, 1, 1, 2, markdown)
    body = posted(tmp_path, plans)
    assert len(body) <= GITHUB_LIMIT
    balanced(body)
    assert "**Plan: 825 to create.**" in body


def test_every_shard_is_shown_when_the_plans_are_too_long_for_one_comment(
    tmp_path: Path,
) -> None:
    plans = tmp_path / "plans"
    write_shard(plans, 1, 3, 2, plan_markdown(200, "Plan: 600 to create."))
    write_shard(
        plans,
        2,
        3,
        1,
        plan_markdown(200, "Plan: 600 to create.", unread="clinic\\-9"),
        err="Error: 1 customer was not read from Twilio: clinic-9 (Twilio error 20003)",
    )
    write_shard(plans, 3, 3, 2, plan_markdown(200, "Plan: 600 to create."))
    body = posted(tmp_path, plans)
    assert len(body) <= GITHUB_LIMIT
    balanced(body)
    for k, label in ((1, "changes"), (2, "error"), (3, "changes")):
        assert f"### Shard {k}/3 ({label})" in body
    assert body.count("**Plan: 600 to create.**") >= 3
    assert "Not read from Twilio, so nothing is planned for them:** clinic\\-9" in body
    assert "Twilio error 20003" in body
    assert "too long for one comment" in body.split("### Shard")[0]


def test_a_rerun_of_an_older_commit_does_not_replace_the_newer_plan(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    write_shard(plans, 1, 1, 0, "No changes.")
    comments = [{"id": 3, "body": "<!-- wa-sync-plan -->\nthe newer plan", "user": {"type": "Bot"}}]
    # the run is of commit 0123456…; the pull request has moved on since (a re-run)
    out = run_comment(
        tmp_path, comments, head="fedcba9876543210", plansDir=str(plans), validateResult="success"
    )
    assert out["result"]["action"] == "skipped"
    assert [kind for kind, _ in out["calls"] if kind in ("update", "create")] == []

    out = run_comment(tmp_path, comments, plansDir=str(plans), validateResult="success")
    assert out["result"] == {"action": "updated", "id": 3}


def test_two_estates_in_one_repository_keep_a_comment_each(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    write_shard(plans, 1, 1, 2, plan_markdown(1, "Plan: 3 to create."))
    out = run_comment(tmp_path, [], plansDir=str(plans), validateResult="success", root="eu")
    eu_body = out["calls"][-1][1]["body"]
    assert "<!-- wa-sync-plan -->" in eu_body  # the plan's own, as wa-sync wrote it
    comments = [{"id": 5, "body": eu_body, "user": {"type": "Bot"}}]

    # the estate at the root of the repository: its own comment, not the eu estate's
    out = run_comment(tmp_path, comments, plansDir=str(plans), validateResult="success")
    assert out["result"] == {"action": "created", "id": 999}
    us_body = out["calls"][-1][1]["body"]
    comments.append({"id": 6, "body": us_body, "user": {"type": "Bot"}})

    for root, comment in (("eu", 5), ("./eu/", 5), (".", 6), ("", 6)):
        out = run_comment(
            tmp_path, comments, plansDir=str(plans), validateResult="success", root=root
        )
        assert out["result"] == {"action": "updated", "id": comment}, root


def test_a_plan_that_did_not_finish_replaces_the_older_commits_plan(tmp_path: Path) -> None:
    """The pull-request workflow's plan job, cancelled or timed out mid-plan, says so in
    the comment: the previous commit's plan (maybe "No changes.") must not stand."""
    from tests.gitops.test_workflows import load, steps

    job = load("pr.yml")["jobs"]["plan"]
    plan = next(s for s in steps(job) if s.get("id") == "plan")
    after = next(s for s in steps(job) if s.get("with", {}).get("command") == "comment")
    assert after["uses"] == plan["uses"]
    assert "cancelled()" in after["if"]
    assert "steps.plan.outputs.exit_code == ''" in after["if"]
    assert after["with"]["plans-dir"] == "${{ runner.temp }}/wa-sync-output/plan"

    # what run.sh leaves there when it is killed: the plan's output so far, no exit code
    plans = tmp_path / "runner" / "wa-sync-output" / "plan"
    plans.mkdir(parents=True)
    (plans / "plan.md").write_text("<!-- wa-sync-plan -->\n### wa-sync plan\n")
    old = [{"id": 3, "body": "<!-- wa-sync-plan -->\nNo changes.", "user": {"type": "Bot"}}]
    out = run_comment(tmp_path, old, plansDir=str(plans), validateResult="success")
    assert out["result"] == {"action": "updated", "id": 3}
    body = out["calls"][-1][1]["body"]
    assert "No plan was produced" in body
    assert "No changes." not in body


# --- the comment's steps of action.yml, run as github-script runs them ---------------

ACTION_STEPS = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["runs"]["steps"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def action_step(name: str) -> dict[str, Any]:
    (step,) = [s for s in ACTION_STEPS if s["name"] == name]
    return step


def runs(step: dict[str, Any], pull_request: bool = True, **inputs: str) -> bool:
    """The step's `if:` for these inputs (the others at their defaults): GitHub's `&&`,
    `||` and `==` on strings, as Python's `and`, `or` and `==`."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    values = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    values.update({name.replace("_", "-"): value for name, value in inputs.items()})
    condition = re.sub(r"inputs\.([\w-]+)", lambda m: repr(values[m[1]]), step["if"])
    condition = condition.replace("github.event.pull_request.number", "7" if pull_request else "0")
    return bool(eval(condition.replace("&&", " and ").replace("||", " or ")))


def step_env(step: dict[str, Any], values: dict[str, str]) -> dict[str, str]:
    """The step's env, each expression replaced by its value in `values`."""

    def value(match: re.Match[str]) -> str:
        assert match[1] in values, f"no value for ${{{{ {match[1]} }}}} in the test"
        return values[match[1]]

    return {name: EXPRESSION.sub(value, text) for name, text in step["env"].items()}


STARTED = "Say that the plan is in progress"
POSTED = "Post or update the plan comment"


def writes(out: dict[str, Any]) -> list[tuple[str, int | None]]:
    """The comments a run wrote: ("update", its id) or ("create", None)."""
    kinds = ("update", "create")
    return [(kind, args.get("comment_id")) for kind, args in out["calls"] if kind in kinds]


def started(tmp_path: Path, comments: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    """The in-progress step of action.yml, for the estate at `root` (default the
    repository's root)."""
    step = action_step(STARTED)
    root = kwargs.pop("root", ".")
    values = {"github.action_path": str(ROOT), "inputs.root": root}
    env = step_env(step, values)
    return run_comment(tmp_path, comments, script=step["with"]["script"], env=env, **kwargs)


def test_the_comment_says_the_plan_is_in_progress_before_anything_runs(tmp_path: Path) -> None:
    """GitHub losing the runner mid-plan runs no later step: the comment must already say
    that this commit's plan is in progress, not show the previous commit's plan as current."""
    names = [s["name"] for s in ACTION_STEPS]
    assert names.index(STARTED) == 0  # before Python, the install and the plan
    step = action_step(STARTED)
    assert step["uses"] == action_step(POSTED)["uses"]
    assert runs(step, command="plan", comment="true")
    assert runs(step, command="shards", comment="true")  # a sharded plan's first job
    assert not runs(step, command="plan", comment="true", shard="2/3")  # refused by run.sh
    assert not runs(step, command="plan")
    assert not runs(step, command="plan", comment="true", pull_request=False)
    for command in ("validate", "apply", "status", "comment"):
        assert not runs(step, command=command, comment="true"), command

    old = "<!-- wa-sync-plan -->\n## wa-sync plan\n\ncommit `fedcba9`\n\nNo changes."
    comments = [{"id": 3, "body": old, "user": {"type": "Bot"}}]
    out = started(tmp_path, comments)
    assert writes(out) == [("update", 3)]
    body = out["calls"][-1][1]["body"]
    assert body.startswith("<!-- wa-sync-plan -->\n")
    assert "Plan in progress for commit `0123456`" in body
    assert "https://github.example/acme/estate/actions/runs/42" in body
    assert "No changes." not in body
    assert "fedcba9" not in body

    # the plan, when it ends, replaces the very same comment
    plans = tmp_path / "plans"
    write_shard(plans, 1, 1, 2, "+ customer.acme")
    posted = action_step(POSTED)
    env = step_env(
        posted,
        {
            "github.action_path": str(ROOT),
            "inputs.command == 'comment' && inputs.plans-dir || steps.run.outputs.output_dir": (
                str(plans)
            ),
            "inputs.validate-result": "success",
            "inputs.root": ".",
        },
    )
    comments = [{"id": 3, "body": body, "user": {"type": "Bot"}}]
    out = run_comment(tmp_path, comments, script=posted["with"]["script"], env=env)
    assert writes(out) == [("update", 3)]
    final = out["calls"][-1][1]["body"]
    assert "+ customer.acme" in final
    assert "in progress" not in final


def test_the_in_progress_comment_is_the_estates_own(tmp_path: Path) -> None:
    """An estate in a subdirectory: its own comment says so, the root estate's stays."""
    root_plan = {"id": 5, "body": "<!-- wa-sync-plan -->\nNo changes.", "user": {"type": "Bot"}}
    out = started(tmp_path, [root_plan], root="eu")
    assert writes(out) == [("create", None)]
    assert out["calls"][-1][1]["body"].startswith("<!-- wa-sync-plan root=eu -->\n")


def test_an_older_commits_run_does_not_say_in_progress_over_the_newer_plan(
    tmp_path: Path,
) -> None:
    comments = [{"id": 3, "body": "<!-- wa-sync-plan -->\nthe newer plan", "user": {"type": "Bot"}}]
    out = started(tmp_path, comments, head="fedcba9876543210")
    assert writes(out) == []
    (warning,) = [text for kind, text in out["messages"] if kind == "warning"]
    assert "the pull request is at fedcba9 now" in warning


def test_a_refused_in_progress_comment_does_not_stop_the_plan(tmp_path: Path) -> None:
    """A token that may not write the comment (a fork's, one without pull-requests: write)
    or GitHub failing the call: a warning, and the plan goes on (its own comment, at its
    end, fails the job if GitHub still refuses)."""
    out = started(tmp_path, [], refuse=True)
    assert writes(out) == [("create", None)]
    (warning,) = [text for kind, text in out["messages"] if kind == "warning"]
    assert "could not say that the plan is in progress" in warning
    assert "Resource not accessible by integration" in warning
