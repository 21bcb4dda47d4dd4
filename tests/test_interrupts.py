"""The apply's signal policy (wa_sync/interrupts.py) around the other reasons to stop
and the end of the writes; tests/e2e/test_interrupts.py drives it with real signals."""

from __future__ import annotations

import gc
import signal
import weakref

import pytest

from wa_sync.interrupts import Interrupted, Signals, Stop


def writing_policy() -> tuple[Signals, Stop, list[str]]:
    told: list[str] = []
    stop = Stop()
    policy = Signals(stop, on_stop=told.append)
    policy.writing()
    return policy, stop, told


def test_a_first_signal_after_another_reason_to_stop_still_only_stops_new_writes():
    policy, stop, told = writing_policy()
    stop.request("the report could not be written", 1)

    policy.handle(signal.SIGINT, None)  # found stopping at once before: a hard stop

    assert told == ["SIGINT"]
    assert (stop.reason, stop.exit_code) == ("the report could not be written", 1)
    with pytest.raises(Interrupted):
        policy.handle(signal.SIGINT, None)
    assert policy.stopped_at_once


def test_signals_once_the_writes_are_over_leave_the_result_as_it_is():
    policy, stop, told = writing_policy()
    policy.finishing()

    policy.handle(signal.SIGTERM, None)  # turned a finished apply into exit 143 before

    assert not stop.requested()
    assert stop.exit_code == 0
    assert told == []
    policy.handle(signal.SIGTERM, None)  # nor a second: the end is not cut
    assert not policy.stopped_at_once


def test_a_signal_before_the_first_write_stops_at_once_without_writes_to_leave():
    stop = Stop()
    policy = Signals(stop, on_stop=lambda name: None)
    with pytest.raises(Interrupted) as raised:
        policy.handle(signal.SIGTERM, None)
    assert raised.value.exit_code == 143
    assert not policy.stopped_at_once  # nothing in flight: signals go back as they were


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_signal_whose_exception_python_drops_still_stops_the_first_write():
    """A handler's exception that lands in a weakref callback (as at an import) is only
    printed by Python: the apply went on, and wrote (the model test's soak saw one)."""
    stop = Stop()
    policy = Signals(stop, on_stop=lambda why: None)

    class Watched:
        pass

    watched = Watched()
    watch = weakref.ref(watched, lambda _: policy.handle(signal.SIGINT, None))
    del watched  # the callback runs: Interrupted, dropped by Python
    gc.collect()
    assert watch() is None

    with pytest.raises(Interrupted) as stopped:
        policy.writing()
    assert stopped.value.exit_code == 130
    assert not policy.has_written
