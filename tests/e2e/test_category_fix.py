"""A category declared anew for a template that WhatsApp rejected (for
INCORRECT_CATEGORY, say) is the configuration's change, and is carried out: Meta
re-categorises the templates it approves, not those it rejects (SPEC §4.4, §4.8)."""

from __future__ import annotations

import json

from tests.e2e.helpers import customer_doc
from tests.e2e.test_reconcile import contents_of

CID = "clinic-one"
RECALL = 1  # templates[1] of customer_doc: the inline recall_offer [en], MARKETING


def _recall(emulator) -> list[dict]:
    return [c for c in contents_of(emulator, CID) if c["friendly_name"].startswith("recall")]


def _declare_utility(doc: dict) -> None:
    doc["templates"][RECALL]["category"] = "UTILITY"


def test_a_rejected_template_whose_category_is_fixed_is_submitted_again(repo, cli, emulator):
    repo.customer(CID, customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    (recall,) = _recall(emulator)
    emulator.reject(recall["sid"], "INCORRECT_CATEGORY")

    repo.edit(f"customers/{CID}.yaml", _declare_utility)
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.out + plan.err
    assert "Meta re-categorises" not in plan.out  # nothing of Meta's changed
    changes = json.loads(cli("plan", "--format", "json").out)["changes"]
    replace, submit = (c for c in changes if c["address"].endswith("recall_offer[en]"))
    assert replace["action"] == "replace"
    assert "UTILITY" in replace["reason"]
    assert submit["after"]["category"] == "UTILITY"

    assert cli("apply", "--auto-approve").code == 0
    (fixed,) = _recall(emulator)  # replaced under its own name: one content
    assert fixed["friendly_name"] == "recall_offer"
    assert (fixed["approval"]["status"], fixed["approval"]["category"]) == ("received", "UTILITY")
    assert cli("plan", "--detailed-exitcode").code == 0
