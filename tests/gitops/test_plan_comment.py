"""The plan comment (action/plan-comment.cjs, run on node against a fake GitHub API):
what a reviewer reads must never hide a shard, a failure or the fact that it was cut."""

from __future__ import annotations

import re
from pathlib import Path

from tests.gitops.test_workflows import run_comment, write_shard

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
