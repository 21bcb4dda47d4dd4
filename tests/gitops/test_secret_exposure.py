"""What the scaffold tells an estate about who can read its Twilio secrets: a pull request
from a branch of the same repository runs the workflows as that branch has them, so the
pinned action does not keep the secrets from whoever can push a branch. The files that say
so point at the page with the mitigation, and that page has the section."""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs.test_links import anchors
from wa_sync.commands.init import DEFAULT_ACTION, estate_files

ROOT = Path(__file__).resolve().parents[2]
DOC_LINK = re.compile(r"https://github\.com/wa-sync/wa-sync/blob/v[\d.]+/(docs/[\w.-]+)#([\w-]+)")


def test_the_plan_workflow_does_not_overstate_what_keeps_the_secrets() -> None:
    text = estate_files(DEFAULT_ACTION)[".github/workflows/wa-sync-plan.yml"]
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lstrip("# "))
    said = " ".join(header)
    # it said the pin kept the pull request's code from the secrets, full stop
    assert "never the pull request's" not in said
    assert "a pull request from a branch of THIS repository runs this workflow as edited" in said
    assert "whoever can push a branch can make the job print the secrets" in said
    ((page, anchor),) = DOC_LINK.findall(said)
    assert anchor in anchors(ROOT / page), (page, anchor)


def test_the_estate_readme_says_who_can_read_the_secrets_it_asks_for() -> None:
    text = estate_files(DEFAULT_ACTION)["README.md"]
    setup = text[text.index("## Set up once") :]
    assert "Anyone who can" in setup
    assert "push a branch here can read them" in setup
    ((page, anchor),) = DOC_LINK.findall(setup)
    assert anchor in anchors(ROOT / page), (page, anchor)
