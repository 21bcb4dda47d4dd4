"""Defects the model-based test (tests/model) found beyond issue 17's list, each kept as
a regression test named `test_regression_model_found_...`."""

from __future__ import annotations

import logging

from tests.e2e.helpers import customer_doc


def test_regression_model_found_a_plan_of_new_customers_logs_no_traceback(repo, cli, caplog):
    """A plan whose customers have no subaccount yet ended with connections still being
    opened for their listings; closing cancelled them, and each cancelled connection's
    callback raised CancelledError, which concurrent.futures logs at ERROR with its
    traceback: on a terminal, `exception calling callback for <Future ...>` and a
    traceback on stderr after the plan (in a few plans of a hundred)."""
    for n in range(1, 4):
        repo.customer(f"clinic-{n}", customer_doc(n))
    with caplog.at_level(logging.WARNING):
        for _ in range(100):
            assert cli("plan").code == 0
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert logged == []


def test_regression_model_found_an_offline_sender_leaves_new_templates_unsubmitted(
    repo, cli, emulator
):
    """A template declared while the customer's only sender is OFFLINE is created but
    its submission is blocked; once the sender is back online the plan has changes,
    although the sender existed in Twilio all along (SPEC §1.1: submitted once a sender
    exists). Found by tests/model as `plan after apply and settling exited 2`."""
    doc = customer_doc(1)
    doc["templates"] = doc["templates"][1:]  # recall_offer only
    repo.customer("clinic-1", doc)
    assert cli("apply", "--auto-approve").code == 0
    (sender,) = next(s for s in emulator.state()["senders"].values() if s)
    emulator.set_sender_status(sender["sid"], "OFFLINE")
    doc["templates"].append({**doc["templates"][0], "name": "recall_later"})
    repo.customer("clinic-1", doc)
    assert cli("apply", "--auto-approve").code == 0
    emulator.set_sender_status(sender["sid"], "ONLINE")
    final = cli("plan", "--detailed-exitcode")
    assert final.code == 0, final.out
