"""A category declared anew for a template that WhatsApp rejected (for
INCORRECT_CATEGORY, say) is the configuration's change, and is carried out: Meta
re-categorises the templates it approves, not those it rejects (SPEC §4.4, §4.8). On an
approved template it is drift, told without guessing who changed it, and kept by a change
of wording (a template of a new name, as an approved one's category cannot be edited)."""

from __future__ import annotations

import json

from tests.e2e.helpers import customer_doc
from tests.e2e.test_reconcile import contents_of

CID = "clinic-one"
RECALL = 1  # templates[1] of customer_doc: the inline recall_offer [en], MARKETING


def _recall(emulator) -> list[dict]:
    return [c for c in contents_of(emulator, CID) if c["friendly_name"].startswith("recall")]


def _declare(category: str):
    return lambda doc: doc["templates"][RECALL].update(category=category)


def test_a_rejected_template_whose_category_is_fixed_is_submitted_again(repo, cli, emulator):
    repo.customer(CID, customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    (recall,) = _recall(emulator)
    emulator.reject(recall["sid"], "INCORRECT_CATEGORY")

    repo.edit(f"customers/{CID}.yaml", _declare("UTILITY"))
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.out + plan.err
    assert "in WhatsApp, and the file declares" not in plan.out  # no recategorised note
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


def test_an_approved_category_edited_in_the_file_is_kept_by_a_change_of_wording(
    repo, cli, emulator
):
    """A person edits `category:` of an approved template (UTILITY to MARKETING): the plan
    must not tell it as Meta's change the other way, to be undone; the step it names (a
    change of wording) submits the next version as the declared category."""
    doc = customer_doc(1)
    doc["templates"][RECALL].update(category="UTILITY", body="Hi {{1}}, your check-up is due.")
    repo.customer(CID, doc)
    assert cli("apply", "--auto-approve").code == 0
    (recall,) = _recall(emulator)
    emulator.approve(recall["sid"])

    repo.edit(f"customers/{CID}.yaml", _declare("MARKETING"))
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err  # never a new version for a category alone
    assert "from MARKETING to UTILITY" not in plan.out
    assert "recall_offer is UTILITY in WhatsApp, and the file declares MARKETING" in plan.out
    assert "change the template's wording: recall_offer_v2 is then created" in plan.out

    reworded = "Hi {{1}}, your check-up is due. Book this week and get 10% off."
    repo.edit(f"customers/{CID}.yaml", lambda d: d["templates"][RECALL].update(body=reworded))
    assert cli("apply", "--auto-approve").code == 0
    old, new = sorted(_recall(emulator), key=lambda c: c["friendly_name"])
    assert (old["friendly_name"], old["approval"]["status"]) == ("recall_offer", "approved")
    assert (new["friendly_name"], new["approval"]["status"]) == ("recall_offer_v2", "received")
    assert new["approval"]["category"] == "MARKETING"

    again = cli("plan", "--format", "json", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    notes = json.loads(again.out)["notes"]
    recall_notes = [n for n in notes if n["address"].endswith("recall_offer[en]")]
    assert [n["kind"] for n in recall_notes] == ["waiting"]  # recall_offer_v2 in review
    emulator.approve(new["sid"])
    done = json.loads(cli("plan", "--format", "json").out)
    assert done["changes"] == []
    assert [n["kind"] for n in done["notes"] if "recall_offer" in n["address"]] == ["undeclared"]
