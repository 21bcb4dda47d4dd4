"""PlanBuilder: diffing customers as their live state arrives makes build_plan's plan."""

from __future__ import annotations

from dataclasses import replace

from tests.plan.factories import customer, live, live_content, sid, template
from wa_sync.model import Config, LiveEstate
from wa_sync.plan.build import PlanBuilder, build_plan
from wa_sync.render.json import render_json


def estate(*customers_live) -> LiveEstate:
    return LiveEstate(
        parent_sid=sid("AC", 1),
        accounts=tuple(lc.account for lc in customers_live if lc.account),
        customers={lc.customer_id: lc for lc in customers_live},
    )


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
