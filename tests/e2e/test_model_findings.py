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
