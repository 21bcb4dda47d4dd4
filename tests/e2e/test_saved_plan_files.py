"""`apply PLANFILE` reads only a plan that `plan --out` wrote, unedited (SPEC §3, §4.8):
anything else is a clear error naming the file, exit 1, no traceback, nothing changed."""

from __future__ import annotations

import json

import pytest

from tests.e2e.helpers import customer_doc, estate_writes
from wa_sync.plan.digest import document_digest


def writes(emulator) -> list[dict]:
    return estate_writes(emulator.request_log())


@pytest.fixture
def applied(repo, cli):
    """clinic-one applied; then its recall_offer template removed from its file (kept
    in Twilio: without prune, not a change)."""
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    repo.edit("customers/clinic-one.yaml", lambda d: d.update(templates=d["templates"][:1]))
    return repo


def test_a_plan_whose_options_and_entries_were_edited_is_refused(applied, cli, emulator, tmp_path):
    planfile = tmp_path / "plan.json"
    assert cli("plan", "--out", str(planfile)).code == 0
    pruning = json.loads(cli("plan", "--prune", "--format", "json").out)
    (delete,) = [c for c in pruning["changes"] if c["action"] == "delete"]
    doc = json.loads(planfile.read_text())
    doc["options"]["prune"] = True
    doc["changes"].append(delete)
    planfile.write_text(json.dumps(doc))

    emulator.clear_request_log()
    refused = cli("apply", str(planfile))
    assert refused.code == 1, refused.out + refused.err
    assert f"{planfile}: the plan was edited" in refused.err
    assert not writes(emulator)
    assert "Traceback" not in refused.err


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["options"].update(allow_mass_delete=True),
        lambda d: d.update(customers=[*d["customers"], "clinic-two"]),
        lambda d: d["summary"].update(line="No changes."),
    ],
    ids=["allow-mass-delete", "scope", "summary"],
)
def test_any_edit_is_refused(applied, cli, emulator, tmp_path, edit):
    planfile = tmp_path / "plan.json"
    assert cli("plan", "--out", str(planfile)).code == 0
    doc = json.loads(planfile.read_text())
    edit(doc)
    planfile.write_text(json.dumps(doc, indent=4))
    refused = cli("apply", str(planfile))
    assert refused.code == 1
    assert "the plan was edited" in refused.err


def test_an_unedited_plan_reformatted_still_applies(applied, cli, tmp_path):
    """The digest is over the document's content, not its bytes."""
    planfile = tmp_path / "plan.json"
    applied.edit("customers/clinic-one.yaml", lambda d: d.update(name="Renamed Clinic"))
    applied.edit(
        "customers/clinic-one.yaml",
        lambda d: d["senders"][0]["profile"].update(about="A new about text"),
    )
    assert cli("plan", "--out", str(planfile)).code == 0
    planfile.write_text(json.dumps(json.loads(planfile.read_text()), indent=None))
    done = cli("apply", str(planfile))
    assert done.code == 0, done.out + done.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b'{"format_version": 1, "n": ' + b"7" * 5_000 + b"}", "a number of 4300 digits or more"),
        (b"\xff\xfe\x00not utf-8", "not UTF-8 text"),
        (b'["a", "list"]', "not a valid wa-sync plan file"),
        (b'{"format_version": 1}', "not a valid wa-sync plan file"),
        (b"", "invalid JSON"),
        (b'{"customers": []}', "not a valid wa-sync plan file"),  # status --format json's
    ],
    ids=["deep-nesting", "huge-number", "not-utf8", "not-a-plan", "no-fields", "empty", "other"],
)
def test_a_broken_plan_file_is_a_clear_error(repo, cli, emulator, tmp_path, content, message):
    repo.customer("clinic-one", customer_doc(1))
    planfile = tmp_path / "plan.json"
    planfile.write_bytes(content)
    result = cli("apply", str(planfile))
    assert result.code == 1
    assert str(planfile) in result.err
    assert message in result.err
    assert "wa-sync plan --out FILE" in result.err
    assert "internal error" not in result.err
    assert "sys.set_int_max_str_digits" not in result.err
    assert not writes(emulator)


@pytest.mark.parametrize("kind", ["missing", "a-directory"])
def test_a_plan_file_that_cannot_be_read_says_what_to_give(repo, cli, tmp_path, kind):
    repo.customer("clinic-one", customer_doc(1))
    planfile = tmp_path / "plan.json"
    if kind == "a-directory":
        planfile.mkdir()
    result = cli("apply", str(planfile))
    assert result.code == 1
    assert f"cannot read the plan file {planfile}: " in result.err
    assert "[Errno" not in result.err
    assert "wa-sync plan --out FILE" in result.err


def test_a_plan_made_under_another_parent_account_is_refused(repo, cli, emulator, tmp_path):
    """A plan made with staging's credentials, applied with production's, would have
    created its new customers' subaccounts in the wrong parent: every live digest of a
    customer without a subaccount is the same under any parent (found by a review)."""
    repo.customer("clinic-one", customer_doc(1))
    planfile = tmp_path / "plan.json"
    assert cli("plan", "--out", str(planfile)).code == 0
    doc = json.loads(planfile.read_text())
    assert doc["parent_account"] == emulator.parent_sid
    staging = "AC" + "5" * 32
    doc["parent_account"] = staging  # as if made under staging, sealed as plan would seal it
    doc["digest"] = document_digest(doc)
    planfile.write_text(json.dumps(doc))

    emulator.clear_request_log()
    refused = cli("apply", str(planfile))
    assert refused.code == 1, refused.out + refused.err
    assert f"made under the parent account {staging}" in refused.err
    assert emulator.parent_sid in refused.err
    assert not writes(emulator)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (("--customer", "clinic-one"), "--customer clinic-one"),
        (("--shard", "1/2"), "--shard 1/2"),
        (("--prune",), "--prune"),
        (("--allow-mass-delete",), "--allow-mass-delete"),
    ],
    ids=["customer", "shard", "prune", "allow-mass-delete"],
)
def test_options_that_disagree_with_the_saved_plan_are_refused(
    repo, cli, emulator, tmp_path, options, named
):
    """`apply plan.json --customer clinic-one` must not carry out clinic-two's part of
    the plan: a saved plan is carried out whole, so an option that narrows it or changes
    what it may delete is refused, and nothing is changed."""
    repo.customer("clinic-one", customer_doc(1))
    repo.customer("clinic-two", customer_doc(2))
    planfile = tmp_path / "plan.json"
    assert cli("plan", "--out", str(planfile)).code == 0
    emulator.clear_request_log()
    refused = cli("apply", str(planfile), *options)
    assert refused.code == 1, refused.out + refused.err
    assert f"{planfile} was saved " in refused.err
    assert named in refused.err
    assert "wa-sync plan" in refused.err
    assert "--out FILE" in refused.err
    assert not writes(emulator)


def test_options_that_agree_with_the_saved_plan_are_accepted(repo, cli, tmp_path):
    """The action passes its inputs to both plan and apply: the same scope is no conflict."""
    repo.customer("clinic-one", customer_doc(1))
    repo.customer("clinic-two", customer_doc(2))
    planfile = tmp_path / "plan.json"
    assert cli("plan", "--customer", "clinic-two", "--out", str(planfile)).code == 0
    done = cli("apply", str(planfile), "--customer", "clinic-two")
    assert done.code == 0, done.err
    assert "clinic-one" not in done.out
