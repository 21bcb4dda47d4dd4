"""Plan building (threshold, digests, orphans) and the three renderings."""

from __future__ import annotations

import json
from dataclasses import replace

import jsonschema
import pytest

from tests.plan.factories import customer, estate, live, live_content, sid, template
from wa_sync.errors import MassDelete, UsageError
from wa_sync.model import Config, LiveAccount
from wa_sync.plan.build import build_plan
from wa_sync.render.json import read_plan, render_json
from wa_sync.render.markdown import LIMIT, render_markdown
from wa_sync.render.text import render_text
from wa_sync.schemas import load_schema


def test_fresh_plan_counts_and_summary_line():
    c = customer()
    plan = build_plan(Config(root=".", customers=(c,)), estate(), customers=["acme"])
    text = render_text(plan)
    assert "  + customer.acme\n" in text
    assert "  > customer.acme/template.reminder[en]" in text
    assert text.rstrip().endswith(
        "Plan: 3 to create, 0 to update, 0 to replace, 0 to delete, 1 to submit; 0 blocked."
    )


def test_no_changes_line():
    c = customer()
    plan = build_plan(Config(root=".", customers=(c,)), estate(live(c)), customers=["acme"])
    assert render_text(plan).strip() == "No changes. Twilio matches the configuration."


def test_mass_delete_is_refused_with_the_figures_unless_allowed():
    kept = template("kept")
    c = customer(templates=(kept,))
    extra = tuple(live_content(template(f"promo_{i}"), 10 + i) for i in range(9))
    current = live(c, contents=(live_content(kept, 1), *extra))
    config = Config(root=".", customers=(c,))
    with pytest.raises(MassDelete) as refused:
        build_plan(config, estate(current), customers=["acme"], prune=True)
    assert "acme: 9 deletions are 82% of 11 managed objects, over max_delete_fraction 25%" in str(
        refused.value
    )
    assert "--allow-mass-delete" in str(refused.value)
    plan = build_plan(
        config, estate(current), customers=["acme"], prune=True, allow_mass_delete=True
    )
    assert plan.counts()["delete"] == 9


def test_threshold_needs_ten_managed_objects():
    c = customer(templates=())
    current = live(c, contents=tuple(live_content(template(f"p{i}"), i + 1) for i in range(5)))
    plan = build_plan(
        Config(root=".", customers=(c,)), estate(current), customers=["acme"], prune=True
    )
    assert plan.counts()["delete"] == 5


def test_live_digest_moves_when_an_approval_moves():
    c = customer()
    t = c.templates[0]
    from wa_sync.model import ApprovalStatus

    review = live(c, contents=(live_content(t, 1, status=ApprovalStatus.RECEIVED),))
    approved = live(c, contents=(live_content(t, 1),))
    config = Config(root=".", customers=(c,))
    first = build_plan(config, estate(review), customers=["acme"])
    second = build_plan(config, estate(approved), customers=["acme"])
    assert first.live_digests["acme"] != second.live_digests["acme"]
    assert first.config_digest == second.config_digest
    other = Config(root=".", customers=(customer(waba_id="104000000000009"),))
    assert build_plan(other, estate(review), customers=["acme"]).config_digest != (
        first.config_digest
    )


def test_orphan_subaccount_is_reported_never_closed():
    c = customer()
    gone = LiveAccount(sid=sid("AC", 99), friendly_name="wa-sync:former")
    live_estate = replace(estate(live(c)), accounts=(live(c).account, gone))
    plan = build_plan(Config(root=".", customers=(c,)), live_estate, customers=["acme"])
    assert not plan.has_changes
    (note,) = plan.notes
    assert "has no customer file" in note.message
    assert "wa-sync never closes" in note.message


def test_json_plan_validates_against_its_schema_and_reads_back():
    c = customer(templates=(template(body="New {{1}} text."),))
    current = live(c, contents=(live_content(c.templates[0], 1, body="Old {{1}} text."),))
    plan = build_plan(Config(root=".", customers=(c,)), estate(current), customers=["acme"])
    doc = json.loads(render_json(plan))
    jsonschema.Draft202012Validator(load_schema("plan")).validate(doc)
    assert doc["format_version"] == 1
    replace_doc = doc["changes"][0]
    assert replace_doc["address"] == "customer.acme/template.reminder[en]"
    assert replace_doc["action"] == "replace"
    assert replace_doc["cause"] == "config"
    saved = read_plan(render_json(plan), source="plan.json")
    assert saved.changes == (
        ("customer.acme/template.reminder[en]", "replace"),
        ("customer.acme/template.reminder[en]", "submit"),
    )
    assert saved.config_digest == plan.config_digest


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"format_version": 2}', "format_version 2"),
        ('{"format_version": 1, "changes": []}', "not a valid wa-sync plan file"),
    ],
)
def test_bad_plan_files_are_usage_errors(text, message):
    with pytest.raises(UsageError, match=message):
        read_plan(text, source="plan.json")


def test_markdown_escapes_user_text():
    evil = "[click](https://evil.example) <img src=x onerror=alert(1)> **bold**"
    c = customer(senders=(replace(customer().senders[0], display_name=evil),))
    plan = build_plan(
        Config(root=".", customers=(c,)),
        estate(live(c, senders=(), contents=())),
        customers=["acme"],
    )
    md = render_markdown(plan)
    assert "<img" not in md
    assert "](https://evil.example)" not in md
    assert "&lt;img src=x" in md
    assert md.startswith("<!-- wa-sync-plan -->")


def test_markdown_stays_under_the_comment_limit_and_keeps_blocked_items():
    from wa_sync.model import Onboarding

    customers = []
    for n in range(400):
        templates = tuple(
            template(f"t{i}", body="Hi {{1}}, " + "x" * 300 + " bye.") for i in range(5)
        )
        customers.append(replace(customer(templates=templates), id=f"c-{n:03d}"))
    blocked = replace(customer(onboarding=Onboarding()), id="zz-blocked")
    config = Config(root=".", customers=(*customers, blocked))
    plan = build_plan(config, estate(), customers=[c.id for c in config.customers])
    md = render_markdown(plan)
    assert len(md) <= LIMIT
    assert plan.counts()["blocked"] >= 2
    assert "zz-blocked/sender.whatsapp:+14155550100" in md.replace("\\", "")
    assert md.rstrip().endswith(f"**{_escaped_summary(plan)}**")


def _escaped_summary(plan) -> str:
    from wa_sync.plan.change import summary_line
    from wa_sync.render.markdown import escape

    return escape(summary_line(plan))


def test_what_waits_on_whatsapp_is_counted_and_listed_with_v():
    from wa_sync.model import ApprovalStatus

    c = customer()
    review = live(c, contents=(live_content(c.templates[0], 1, status=ApprovalStatus.RECEIVED),))
    plan = build_plan(Config(root=".", customers=(c,)), estate(review), customers=["acme"])
    quiet = render_text(plan)
    assert quiet == (
        "… 1 of 1 customer(s) wait only on Twilio or Meta: 1 item(s) (1 template); -v lists them\n"
        "No changes. Twilio matches the configuration.\n"
    )
    assert "  … customer.acme/template.reminder[en]: reminder is in WhatsApp review (received)" in (
        render_text(plan, verbose=True)
    )
    assert "customer\\(s\\) wait only on Twilio or Meta" in render_markdown(plan)
    assert "<details>" not in render_markdown(plan)
