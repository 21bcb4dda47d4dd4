"""The apply's signal policy (wa_sync/interrupts.py) around the other reasons to stop
and the end of the writes; tests/e2e/test_interrupts.py drives it with real signals."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import weakref

import pytest

from tests.e2e.helpers import REPO_ROOT, InConditionWait
from wa_sync.interrupts import SIGNALS, Interrupted, Signals, Stop, handled


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
    policy.checkpoint()  # the first: only new writes stop

    assert told == ["SIGINT"]
    assert (stop.reason, stop.exit_code) == ("the report could not be written", 1)
    policy.handle(signal.SIGINT, None)  # the second: recorded, stops at the checkpoint
    assert policy.stopped_at_once
    with pytest.raises(Interrupted) as raised:
        policy.checkpoint()
    assert raised.value.received() == "SIGINT received twice"


def test_a_second_signal_while_writing_is_recorded_and_stops_at_the_next_checkpoint():
    """Raised where it landed, it could land in `Thread.start`'s wait as apply's pool
    started a thread for its writes: "internal error" (release unlocked lock)."""
    policy, stop, told = writing_policy()
    policy.handle(signal.SIGTERM, None)
    assert policy.stopping()
    assert (told, stop.reason) == (["SIGTERM"], "SIGTERM received")
    policy.handle(signal.SIGINT, None)  # not raised
    with pytest.raises(Interrupted) as raised:
        policy.checkpoint()
    assert raised.value.exit_code == 130  # the signal that stopped it at once
    assert raised.value.received() == "SIGTERM received, then SIGINT"
    policy.finishing()
    policy.checkpoint()  # the writes are over: their result stands


def test_a_first_signal_while_writing_is_only_recorded_by_the_handler_and_told_once():
    """The handler asked the stop and told it itself; now it sets an attribute, and the
    stop is asked for and told from the apply's code: its wait for the writes (each half
    second), a thread's look before a change or a request, the end of the writes."""
    policy, stop, told = writing_policy()
    policy.handle(signal.SIGINT, None)
    assert (told, stop.requested()) == ([], False)  # the handler took no lock, wrote nothing

    looks = [threading.Thread(target=policy.stopping) for _ in range(8)]
    for look in looks:
        look.start()
    for look in looks:
        look.join()
    policy.checkpoint()
    policy.finishing()

    assert told == ["SIGINT"]  # once, whichever thread looked first
    assert (stop.reason, stop.exit_code) == ("SIGINT received", 130)


def test_a_first_signal_as_the_writes_end_is_acted_on_by_their_end():
    policy, stop, told = writing_policy()
    policy.handle(signal.SIGTERM, None)
    policy.finishing()
    assert told == ["SIGTERM"]
    assert stop.exit_code == 143


def test_two_signals_between_two_checkpoints_tell_the_first_then_stop_at_once():
    policy, stop, told = writing_policy()
    policy.handle(signal.SIGINT, None)
    policy.handle(signal.SIGINT, None)
    with pytest.raises(Interrupted):
        policy.checkpoint()
    assert told == ["SIGINT"]
    assert stop.reason == "SIGINT received"


def test_a_first_signal_while_writing_lands_safely_where_the_main_thread_holds_the_stop():
    """Python runs a handler in the main thread, between any two of its instructions.
    The handler took the `Stop`'s lock (Stop.request) and wrote a line: landing where
    the main thread held that lock, it waited for it for ever (the same would go for the
    line's stream, mid-write). A real SIGINT, in a process of its own: it hung."""
    code = textwrap.dedent(
        """
        import signal
        from wa_sync.interrupts import Signals, Stop, handled
        stop, told = Stop(), []
        policy = Signals(stop, on_stop=told.append)
        policy.writing()
        with handled(policy):
            with stop._lock:  # the main thread in Stop.request
                signal.raise_signal(signal.SIGINT)  # the handler runs here
            assert (told, stop.requested()) == ([], False)
            policy.checkpoint()
        print(told, stop.reason)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "['SIGINT'] SIGINT received\n"


def test_signals_once_the_writes_are_over_leave_the_result_as_it_is():
    policy, stop, told = writing_policy()
    policy.finishing()

    policy.handle(signal.SIGTERM, None)  # turned a finished apply into exit 143 before

    assert not stop.requested()
    assert stop.exit_code == 0
    assert told == []
    policy.handle(signal.SIGTERM, None)  # nor a second: the end is not cut
    assert not policy.stopped_at_once


def test_signals_before_the_first_write_stop_at_the_next_checkpoint_and_never_raise():
    """The handler raises only while writing or at a prompt: an exception where a signal
    lands could leave a lock of Python's own code taken (see wa_sync/interrupts.py). A
    second signal before the first write raised where it landed: a sweep of them in a
    plan ended in "internal error", or in a read thread blocked for ever."""
    stop = Stop()
    policy = Signals(stop, on_stop=lambda name: None)
    policy.handle(signal.SIGTERM, None)  # recorded, not raised
    policy.handle(signal.SIGINT, None)  # the second: recorded too
    assert policy.stopped_at_once  # a third ends the process as the system would
    with pytest.raises(Interrupted) as raised:
        policy.checkpoint()
    assert raised.value.exit_code == 143  # the signal that stopped it
    assert not stop.requested()


def test_a_second_signal_before_the_first_write_lets_a_third_end_the_process():
    """Within `handled`: the stop under way may wait for the attempt in flight (up to
    the request timeout) or the load; a third signal does not wait for it."""
    policy = Signals(Stop(), on_stop=lambda name: None)
    before = {signum: signal.getsignal(signum) for signum in SIGNALS}
    try:
        with handled(policy):
            assert signal.getsignal(signal.SIGINT) == policy.handle
            policy.handle(signal.SIGINT, None)
            assert signal.getsignal(signal.SIGINT) == policy.handle  # the first: recorded
            policy.handle(signal.SIGINT, None)
            assert signal.getsignal(signal.SIGINT) == signal.SIG_DFL
            assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) == signal.SIG_DFL  # and after the block
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def test_a_signal_at_the_confirmation_prompt_stops_at_once():
    policy = Signals(Stop(), on_stop=lambda name: None)
    with pytest.raises(Interrupted), policy.at_once():
        policy.handle(signal.SIGINT, None)
    assert not policy.stopped_at_once  # nothing in flight: signals go back as they were


def test_a_signal_as_the_confirmation_prompt_begins_is_not_left_recorded():
    """A signal right after its checkpoint, before the prompt was marked as a wait that
    stops at once, was only recorded: the prompt then waited for a line, and the user's
    Ctrl-C did nothing."""
    policy = Signals(Stop(), on_stop=lambda name: None)
    checkpoint = Signals.checkpoint.__code__
    sent: list[int] = []

    def trace(frame, event, arg):
        if frame.f_code is checkpoint:
            return on_return
        return None

    def on_return(frame, event, arg):
        if event == "return" and not sent:
            sent.append(1)
            os.kill(os.getpid(), signal.SIGINT)  # handled at the caller's next bytecode
        return on_return

    prompted: list[int] = []

    def prompt() -> None:
        sys.settrace(trace)
        try:
            with policy.at_once():
                sys.settrace(None)
                prompted.append(1)  # where the prompt waits for its line
        finally:
            sys.settrace(None)

    with handled(policy), pytest.raises(Interrupted):
        prompt()
    assert sent
    assert prompted == []


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


def test_a_first_signal_inside_threading_s_own_waits_leaves_them_working():
    """A first signal's handler ran in the main thread after any call, and raised there.
    In `Condition.wait` (under `Thread.start`, `Event.wait`, a future's result) right
    after `_release_save()` returned it left the wait with the lock released, and the
    `with` around it then failed: "RuntimeError: release unlocked lock", told as an
    internal error (the apply-level sweep is tests/e2e/test_signal_points.py). A first
    signal is now only recorded there, and acted on at the apply's next checkpoint."""
    policy = Signals(Stop(), on_stop=lambda name: None)
    done = threading.Event()
    trace = InConditionWait()

    threading.Timer(0.2, done.set).start()
    with handled(policy):
        sys.settrace(trace)
        try:
            assert done.wait(5)
        finally:
            sys.settrace(None)
    assert trace.sent
    with pytest.raises(Interrupted):
        policy.checkpoint()
