"""The model-based test of issue 17 (tests/model/machine.py) in `make test`, and long
in `make soak`.

`make test` runs a bounded, derandomised number of examples: the same sequences each
run, so a failure in CI reproduces. `make soak` (WA_SYNC_SOAK_SECONDS set) runs fresh
random batches until the time is up and prints how many examples and steps ran; a
failure prints the `@reproduce_failure` blob, and hypothesis keeps it in .hypothesis/
(gitignored) to replay first on the next run.
"""

from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.model.machine import RAN, EstateMachine

COMMON = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
BOUNDED = settings(max_examples=6, stateful_step_count=14, derandomize=True, **COMMON)
SOAK_BATCH = settings(max_examples=20, stateful_step_count=30, **COMMON)


def test_estate_machine() -> None:
    soak_seconds = float(os.environ.get("WA_SYNC_SOAK_SECONDS") or 0)
    RAN.clear()
    started = time.monotonic()
    if not soak_seconds:
        run_state_machine_as_test(EstateMachine, settings=BOUNDED)
    while soak_seconds and time.monotonic() - started < soak_seconds:
        run_state_machine_as_test(EstateMachine, settings=SOAK_BATCH)
    print(
        f"\nmodel-based test: {RAN['examples']} examples, {RAN['steps']} steps "
        f"in {time.monotonic() - started:.0f} s"
    )
