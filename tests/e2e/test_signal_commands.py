"""The commands that talk to Twilio besides plan, status, output and apply (`import`,
`access-request`, `verify`, `unlock`) record a first signal too. On Python's own handler,
a SIGINT that landed inside `threading`'s `Condition.wait` as the gateway started its
request thread (gone since, docs/reliability.md #106) ended "internal error"
(`RuntimeError: release unlocked lock`); one inside the read pool's `submit` left a read
thread blocked for ever (`verify`: the interpreter's exit waits for it); one in a
finalizer of urllib3's, as the gateway closed, was lost (exit 0). A sweep of SIGINTs over
each command found those.

Here the signal is a real SIGINT sent to this process the first time the main thread
waits in `Condition.wait` with its lock released (the point that failed), or, for a
command that starts no thread as it connects, as its first request starts; the command
runs in this process against the emulator.
"""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios

import requests

from tests.e2e.helpers import ISV, InConditionWait, customer_doc
from tests.e2e.test_lock import hold_lock, lock_documents
from tests.e2e.test_reconcile import senders_of
from tests.e2e.test_signal_paths import SignalOn
from tests.e2e.test_verify import PHONE, REPO, _read_screen, pending  # noqa: F401  (a fixture)

AS_IT_CONNECTS = ("gateway/http.py", "request")  # the first request, as it starts


def interrupted(cli, *args: str, at: tuple[str, str] | None = None):
    """`wa-sync ARGS`, sent SIGINT in `Condition.wait`, or as the function `at` (a file's
    end and a name) is first entered."""
    trace = InConditionWait() if at is None else SignalOn(*at)
    sys.settrace(trace)
    try:
        result = cli(*args)
    finally:
        sys.settrace(None)
    assert trace.sent
    assert "internal error" not in result.err, result.err
    assert result.code == 130, result.err
    assert result.err.splitlines()[-1] == "Interrupted."
    return result


def test_import_stopped_as_it_connects_writes_no_file(repo, emulator, cli):
    repo.customer("clinic-1", customer_doc(1))
    made = requests.post(
        f"{emulator.url}/2010-04-01/Accounts.json",
        auth=(emulator.parent_sid, emulator.parent_token),
        data={"FriendlyName": "Someone's shop"},
        timeout=10,
    )
    interrupted(cli, "import", "shop", "--account-sid", made.json()["sid"], at=AS_IT_CONNECTS)
    assert not (repo.root / "customers" / "shop.yaml").exists()


def test_access_request_stopped_as_it_connects(repo, emulator, cli):
    repo.write("wa-sync.yaml", ISV)
    repo.customer("clinic-1", customer_doc(1, onboarded=False))
    result = interrupted(cli, "access-request", "clinic-1", at=AS_IT_CONNECTS)
    assert result.out == ""


def test_unlock_stopped_as_it_connects_keeps_the_lock(repo, emulator, cli):
    hold_lock(emulator)
    interrupted(cli, "unlock", "--yes", at=AS_IT_CONNECTS)
    assert len(lock_documents(emulator)) == 1


def test_verify_stopped_as_it_connects_sends_no_code(pending, emulator, cli):  # noqa: F811
    interrupted(cli, "verify", "shop", PHONE, "90817265")
    (sender,) = senders_of(emulator, "shop")
    assert sender["status"] == "PENDING_VERIFICATION"


def test_verify_stopped_once_its_code_was_sent_says_what_twilio_answered(
    pending,  # noqa: F811
    emulator,
    cli,
):
    """The code was sent and accepted, then the signal (recorded while its request was
    on its way) stopped verify at its end: `Interrupted.`, exit 130, and never a word of
    the code having been taken. A signal once the code was sent changes nothing."""
    trace = SignalOn("gateway/shapes.py", "live_sender")  # the code's answer, in hand
    sys.settrace(trace)
    try:
        result = cli("verify", "shop", PHONE, "90817265")
    finally:
        sys.settrace(None)
    assert trace.sent
    assert result.code == 0, result.err
    assert f"Code accepted for {PHONE}" in result.out
    assert "Interrupted" not in result.err
    (sender,) = senders_of(emulator, "shop")
    assert sender["status"] != "PENDING_VERIFICATION"


def at_a_terminal_prompt(root, env, args: list[str], prompt: bytes) -> tuple[int, bytes]:
    """`wa-sync ARGS` on a terminal of its own, sent SIGINT once it shows `prompt`:
    its exit code, and what the terminal showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "wa_sync", *args, "--root", str(root)],
        stdin=follower, stdout=follower, stderr=follower, start_new_session=True,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        # the terminal as the session's controlling one: getpass reads /dev/tty
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )  # fmt: skip
    os.close(follower)
    try:
        screen = _read_screen(leader, until=prompt, seconds=60)
        assert prompt in screen, screen
        process.send_signal(signal.SIGINT)
        screen += _read_screen(leader, until=None, seconds=60)
        return process.wait(timeout=30), screen  # a prompt that went on waiting: expired
    finally:
        process.kill()
        os.close(leader)


def test_a_signal_at_unlocks_prompt_stops_it_there(repo, emulator, env):
    """A recorded signal would not end a wait for a line (the prompt reads on)."""
    hold_lock(emulator)
    code, screen = at_a_terminal_prompt(repo.root, env, ["unlock"], b"Only 'yes' is accepted")
    assert code == 130, screen
    assert screen.rstrip().endswith(b"Interrupted."), screen
    assert len(lock_documents(emulator)) == 1


def test_a_signal_at_verifys_code_prompt_stops_it_there(pending, emulator, env):  # noqa: F811
    args = ["verify", "shop", PHONE, "-"]
    code, screen = at_a_terminal_prompt(pending.root, env, args, b"One-time code")
    assert code == 130, screen
    assert screen.rstrip().endswith(b"Interrupted."), screen
    (sender,) = senders_of(emulator, "shop")
    assert sender["status"] == "PENDING_VERIFICATION"
