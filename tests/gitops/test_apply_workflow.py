"""The apply workflow (`wa-sync init` writes it; this repository runs it): every run, and
every shard of it, applies the default branch's newest commit, so that re-running an
older run (docs/gitops.md: "Re-run jobs ... finishes whatever a failed run left") never
puts an older estate back into Twilio."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.gitops.test_workflows import load, steps


def test_every_shard_applies_the_default_branchs_newest_commit(tmp_path: Path) -> None:
    jobs = load("apply.yml")["jobs"]
    shards = jobs["shards"]
    (checkout,) = [s for s in steps(shards) if s.get("uses", "").startswith("actions/checkout@")]
    # the branch as it is when the run starts, not the commit of the push that queued it
    assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    assert "sha" not in str(checkout)
    newest = next(s for s in steps(shards) if s.get("id") == "newest")
    assert shards["outputs"]["commit"] == "${{ steps.newest.outputs.commit }}"

    (apply_checkout,) = [
        s for s in steps(jobs["apply"]) if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert apply_checkout["with"]["ref"] == "${{ needs.shards.outputs.commit }}"

    # the step's script, run as the runner runs it, names the checked-out commit
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], cwd=repo, check=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    output = tmp_path / "github_output"
    subprocess.run(
        ["bash", "-e", "-c", newest["run"]],
        cwd=repo,
        env={"GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert output.read_text() == f"commit={head}\n"
