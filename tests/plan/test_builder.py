"""PlanBuilder: diffing customers as their live state arrives makes build_plan's plan."""

from __future__ import annotations

from dataclasses import replace

from tests.plan.factories import customer, estate, live, live_content, template
from wa_sync.model import Config
from wa_sync.plan.build import PlanBuilder, build_plan
from wa_sync.render.json import render_json


def config_and_live():
    a = customer()
    b = replace(customer(templates=(template("other"), template("third"))), id="bravo")
    c = replace(customer(), id="charlie")
    current = (
        live(a),
        live(b, contents=(live_content(template("other"), 5, body="Old text"),)),
        live(c, account=False),
    )
    return Config(root=".", customers=(a, b, c)), current


def test_the_same_plan_whatever_arrived_first():
    config, current = config_and_live()
    everything = estate(*current)
    whole = build_plan(config, everything, customers=["acme", "bravo", "charlie"])
    builder = PlanBuilder(config, customers=["acme", "bravo", "charlie"])
    for one in reversed(current):
        builder.add(one)
    assert render_json(builder.finish(everything)) == render_json(whole)


def test_a_state_that_is_not_the_final_one_is_diffed_again():
    config, current = config_and_live()
    builder = PlanBuilder(config, customers=["acme", "bravo", "charlie"])
    builder.add(live(config.customers[1]))  # an earlier state of bravo, replaced below
    final = estate(*current)
    whole = build_plan(config, final, customers=["acme", "bravo", "charlie"])
    assert render_json(builder.finish(final)) == render_json(whole)


def test_customers_out_of_scope_are_ignored():
    config, current = config_and_live()
    builder = PlanBuilder(config, customers=["acme"])
    for one in current:
        builder.add(one)
    final = estate(*current)
    assert render_json(builder.finish(final)) == render_json(
        build_plan(config, final, customers=["acme"])
    )


def _documented_config_digest(config: Config, scope: list[str]) -> str:
    """The configuration digest as the stale check defines it: SHA-256 of the whole
    document dumped as canonical JSON (written out here, independently of digest.py)."""
    import hashlib
    import json

    from wa_sync.plan.normalise import content_state, sender_state

    doc = {
        "settings": [config.settings.prune, config.settings.max_delete_fraction],
        "customers": [
            {
                "id": c.id,
                "name": c.name,
                "account_sid": c.account_sid,
                "waba_id": c.waba_id,
                "onboarding": [
                    c.onboarding.terms_accepted,
                    str(c.onboarding.business_verification),
                    str(c.onboarding.access_request),
                    str(c.onboarding.invitation),
                ],
                "senders": [[s.sender_id, sender_state(s)] for s in c.senders],
                "templates": [[t.name, t.category, content_state(t)] for t in c.templates],
            }
            for c in config.customers
            if c.id in scope
        ],
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_config_digest_made_while_reading_is_the_whole_documents():
    """The builder works out each customer's part of the digest as it arrives; joined,
    the parts hash to exactly what the whole document does, so plans saved by any
    version compare equal."""
    config, current = config_and_live()
    scope = ["acme", "bravo", "charlie"]
    builder = PlanBuilder(config, customers=scope)
    builder.add(current[1])  # bravo's part is made now, the others' at finish
    plan = builder.finish(estate(*current))
    assert plan.config_digest == _documented_config_digest(config, scope)
    assert build_plan(config, estate(), customers=["bravo"]).config_digest == (
        _documented_config_digest(config, ["bravo"])
    )


def test_the_parts_given_are_the_ones_used():
    from wa_sync.plan.digest import config_digest, customer_config_text

    config, _current = config_and_live()
    scope = ["acme", "bravo"]
    given = {"acme": customer_config_text(config.customers[0])}
    assert config_digest(config, scope, given) == _documented_config_digest(config, scope)
    assert config_digest(config, scope, {"acme": '{"id":"acme"}'}) != config_digest(config, scope)


def test_a_plan_only_shown_has_the_same_changes_and_no_digests():
    config, current = config_and_live()
    scope = ["acme", "bravo", "charlie"]
    final = estate(*current)
    shown = PlanBuilder(config, customers=scope, digests=False)
    for one in current:
        shown.add(one)
    plan = shown.finish(final)
    kept = build_plan(config, final, customers=scope)
    assert (plan.config_digest, dict(plan.live_digests)) == ("", {})
    assert (plan.changes, plan.notes) == (kept.changes, kept.notes)
    assert kept.config_digest.startswith("sha256:")
    assert sorted(kept.live_digests) == scope
