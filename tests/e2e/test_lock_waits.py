"""The apply lock's own requests go on whatever signal comes (the heartbeat, the
release, a removal under way: gateway/twilio.py `lock_store`), over a transport of their
own without a checkpoint. The wait before one whose answer was lost is looked for and
sent again was the command's, though, and a signal the command recorded ended it there.
"""

from __future__ import annotations

from tests.e2e.test_lock import hold_lock, lock_documents
from tests.e2e.test_signal_paths import SignalOn, traced


def test_a_signal_in_the_wait_after_a_removal_s_answer_was_lost_lets_the_removal_go_on(
    repo, emulator, cli
):
    """unlock removes a lock by taking it over at the revision it showed, then deleting
    it. Its take-over was made, but its answer lost (500), and the SIGINT came in the
    wait before it is looked for: unlock stopped there, and left the lock taken over by
    itself (for MIN_TTL), neither removed nor its holder's."""
    hold_lock(emulator)
    emulator.fail_next("POST", r"/Documents/", status=500, mode="commit_then_error")
    result = traced(cli, SignalOn("gateway/http.py", "_wait"), "unlock", "--yes")
    assert "Removed the apply lock of" in result.out, result.err
    assert lock_documents(emulator) == []
    assert result.code == 130, result.err  # the signal, told once the removal is over
    assert result.err.splitlines()[-1] == "Interrupted."
