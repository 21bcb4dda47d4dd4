"""One-time codes and sender health (SPEC §1.1 steps 4-5, §3 `verify` and `status`;
issue #19.2, #19.3), through the CLI against the emulator."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import customer_doc
from tests.e2e.test_embedded_signup import APPROVED_ISV, signup_doc
from tests.e2e.test_reconcile import senders_of

PHONE = "+493055500001"  # not one of the emulator's own (+1) numbers: it needs a code
CODE = "90817265"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pending(repo, cli, emulator):
    """An embedded_signup customer whose sender waits for its one-time code."""
    repo.write("wa-sync.yaml", APPROVED_ISV)
    doc = signup_doc(1)
    doc["senders"][0].update(phone_number=PHONE, verification="voice")
    repo.customer("shop", doc)
    emulator.set_verification_code(CODE)
    assert cli("apply", "--auto-approve").code == 0
    (sender,) = senders_of(emulator, "shop")
    assert sender["status"] == "PENDING_VERIFICATION"
    return repo


def test_registration_sends_the_verification_method(pending, emulator):
    (sender,) = senders_of(emulator, "shop")
    assert sender["configuration"]["verification_method"] == "voice"


def test_plan_and_status_show_the_verify_command(pending, cli):
    command = f"wa-sync verify shop {PHONE} CODE"
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0  # waiting for a person is not a change
    assert command in plan.out
    assert "PENDING_VERIFICATION" in plan.out
    status = json.loads(cli("status", "--format", "json").out)
    (shop,) = status["customers"]
    assert shop["stage"]["step"] == 4
    assert shop["stage"]["name"] == "one-time code"
    assert command in shop["stage"]["next_action"]
    (sender,) = shop["senders"]
    assert sender["needs_action"] is True
    assert command in sender["next_step"]
    text = cli("status").out
    assert f"sender {PHONE}: PENDING_VERIFICATION" in text
    assert "1 sender(s) need action (OFFLINE or PENDING_VERIFICATION)." in text


def test_verify_with_the_right_code_brings_the_sender_online(pending, cli, emulator):
    result = cli("verify", "shop", PHONE, CODE)
    assert result.code == 0, result.err
    assert f"Code accepted for {PHONE}" in result.out
    assert "VERIFYING" in result.out
    (sender,) = senders_of(emulator, "shop")
    assert sender["status"] == "ONLINE"
    again = cli("verify", "shop", PHONE, CODE)
    assert again.code == 1
    assert "is ONLINE, not waiting for a one-time code" in again.err
    assert cli("plan", "--detailed-exitcode").code == 0


def test_verify_takes_the_phone_as_the_senders_whatsapp_address(pending, cli, emulator):
    """PHONE copied from the Twilio Console, `whatsapp:+E.164`, was refused as a sender
    the customer does not declare."""
    result = cli("verify", "shop", f"whatsapp:{PHONE}", "-", stdin=CODE + "\n")
    assert result.code == 0, result.err
    assert f"Code accepted for {PHONE}" in result.out
    assert CODE not in result.out + result.err
    (sender,) = senders_of(emulator, "shop")
    assert sender["status"] == "ONLINE"
    again = cli("verify", "shop", f"WhatsApp:{PHONE}", CODE)
    assert again.code == 1
    assert f"sender {PHONE} is ONLINE, not waiting for a one-time code" in again.err
    assert CODE not in again.out + again.err


def test_verify_with_a_wrong_code_is_a_clear_error_and_changes_nothing(pending, cli, emulator):
    result = cli("verify", "shop", PHONE, "11112222")
    assert result.code == 1
    assert f"Twilio refused the one-time code for {PHONE}" in result.err
    assert "run the command again" in result.err
    assert "11112222" not in result.out + result.err
    assert "Traceback" not in result.err
    (sender,) = senders_of(emulator, "shop")
    assert sender["status"] == "PENDING_VERIFICATION"


def test_verify_json_and_code_from_stdin(pending, cli):
    result = cli("verify", "shop", PHONE, "-", "--format", "json", stdin=CODE + "\n")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["status"] == "VERIFYING"
    assert doc["phone_number"] == PHONE


def test_a_code_typed_on_a_terminal_is_not_echoed(pending, emulator, env):
    """`verify ID PHONE -` on a terminal asks for the code without echo: what the user
    types is on no screen, scrollback or recording (before, the terminal echoed it)."""
    leader, follower = pty.openpty()
    args = ["verify", "shop", PHONE, "-", "--root", str(pending.root)]
    process = subprocess.Popen(
        [sys.executable, "-m", "wa_sync", *args],
        stdin=follower, stdout=follower, stderr=follower, start_new_session=True,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        # the terminal as the session's controlling one: getpass reads /dev/tty, as a shell's
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )  # fmt: skip
    os.close(follower)
    screen = _read_screen(leader, until=b"One-time code", seconds=30)
    os.write(leader, CODE.encode() + b"\n")
    screen += _read_screen(leader, until=None, seconds=60)
    process.wait(timeout=30)
    os.close(leader)
    assert process.returncode == 0, screen.decode(errors="replace")
    assert CODE.encode() not in screen
    assert f"Code accepted for {PHONE}".encode() in screen
    (sender,) = senders_of(emulator, "shop")
    assert sender["status"] == "ONLINE"


def _read_screen(leader: int, *, until: bytes | None, seconds: float) -> bytes:
    """What the terminal shows, until `until` appears or (None) the child closes it."""
    screen, deadline = b"", time.monotonic() + seconds
    while until is None or until not in screen:
        if time.monotonic() > deadline or not select.select([leader], [], [], 0.5)[0]:
            if time.monotonic() > deadline:
                break
            continue
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    return screen


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("shop", "+14155550009", CODE), "customer shop declares no sender +14155550009"),
        (("shopp", PHONE, CODE), "no customer 'shopp'"),
        (("shop", PHONE, "12ab"), "4 to 8 digits"),
    ],
    ids=["undeclared-phone", "unknown-customer", "not-a-code"],
)
def test_verify_usage_errors(pending, cli, args, message):
    result = cli("verify", *args)
    assert result.code == 1
    assert message in result.err


def test_the_code_appears_in_no_output_log_or_file(pending, emulator, env):
    """Run as a user would, with the most verbose logging, then search everything."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    environ.update(env, PYTHONPATH=str(REPO))
    root = str(pending.root)
    outputs = []
    for args in (
        ["-vv", "verify", "shop", PHONE, CODE],
        ["-vv", "status"],
        ["-vv", "plan", "--out", "plan.json"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "wa_sync", *args, "--root", root],
            cwd=root, env=environ, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs += [done.stdout, done.stderr]
    assert "Code accepted" in outputs[0]
    assert CODE not in "".join(outputs)
    for path in pending.root.rglob("*"):
        if path.is_file():
            assert CODE.encode() not in path.read_bytes(), path
    assert all(CODE not in json.dumps(entry) for entry in emulator.request_log())
    (sender,) = senders_of(emulator, "shop")
    assert CODE not in json.dumps(sender)


def test_status_explains_an_offline_sender(pending, cli, emulator):
    (sender,) = senders_of(emulator, "shop")
    emulator.set_sender_status(sender["sid"], "OFFLINE", ["63101", "63020"])
    status = json.loads(cli("status", "--format", "json").out)
    (shop,) = status["customers"]
    (health,) = shop["senders"]
    assert health["status"] == "OFFLINE"
    assert health["needs_action"] is True
    assert health["offline_reasons"][0].startswith("63101: ")
    assert "not shared with Twilio" in health["offline_hints"][0]
    assert "has not accepted Twilio's invitation" in health["offline_hints"][1]
    assert (shop["stage"]["step"], shop["stage"]["actor"]) == (5, "ISV")
    text = cli("status").out
    assert "1 sender(s) need action" in text
    assert "Solution ID is wrong" in text


def test_status_shows_quality_and_limit_with_verbose(pending, cli, emulator):
    (sender,) = senders_of(emulator, "shop")
    emulator.set_sender_status(sender["sid"], "ONLINE")
    (health,) = json.loads(cli("status", "--format", "json").out)["customers"][0]["senders"]
    assert (health["quality_rating"], health["messaging_limit"]) == ("HIGH", "1K Customers/24hr")
    assert "quality HIGH" not in cli("status").out  # nothing to act on
    assert f"sender {PHONE}: quality HIGH, messaging limit 1K Customers/24hr" in (
        cli("status", "-v").out
    )


def test_status_shows_a_display_name_in_review(pending, cli, emulator):
    (sender,) = senders_of(emulator, "shop")
    emulator.set_sender_status(sender["sid"], "ONLINE")
    emulator.set_display_name_status(sender["sid"], "PENDING_REVIEW", name="Shop Renamed")
    assert f"sender {PHONE}: display name 'Shop Renamed' in review" in cli("status").out


def test_import_infers_the_embedded_signup_flow_from_a_sender_waiting_for_its_code(
    pending, cli, emulator
):
    account = next(a for a in emulator.state()["accounts"] if a["friendly_name"] == "wa-sync:shop")
    (pending.root / "customers" / "shop.yaml").unlink()
    assert cli("import", "shop", "--account-sid", account["sid"]).code == 0
    text = (pending.root / "customers" / "shop.yaml").read_text()
    assert "flow: embedded_signup  # inferred: sender +493055500001 is PENDING_VERIFICATION" in (
        text
    )
    assert "customer_account_sid" not in text
    doc = pending.read("customers/shop.yaml")
    assert doc["onboarding"] == {"flow": "embedded_signup", "signup": "completed"}
    assert cli("validate").code == 0


def test_a_legacy_sender_waiting_for_its_code_names_the_command_too(repo, cli, emulator):
    repo.write("wa-sync.yaml", APPROVED_ISV)
    doc = customer_doc(1)
    doc["senders"][0]["phone_number"] = PHONE
    repo.customer("clinic", doc)
    assert cli("apply", "--auto-approve").code == 0
    (clinic,) = json.loads(cli("status", "--format", "json").out)["customers"]
    assert clinic["flow"] == "legacy"
    assert (clinic["stage"]["step"], clinic["stage"]["actor"]) == (6, "customer")
    assert f"`wa-sync verify clinic {PHONE} CODE`" in clinic["stage"]["next_action"]
    assert cli("verify", "clinic", PHONE, "123456").code == 0


def test_status_shows_step_0_for_an_isv_not_yet_a_tech_provider(repo, cli, emulator):
    repo.write("wa-sync.yaml", {"isv": {"name": "ISV"}})
    repo.customer("shop", signup_doc(1))
    row = next(line for line in cli("status").out.splitlines() if line.startswith("shop "))
    assert row.split()[1:5] == ["0/6", "Tech", "Provider", "approval"]


def test_a_code_twilio_never_answered_is_not_called_refused(pending, cli, emulator):
    """429s to the last attempt: the code may be right, so the message does not say that
    Twilio refused it, and says how to see whether it arrived."""
    emulator.fail_next("POST", r"^/v2/Channels/Senders/", status=429, count=10)
    result = cli("verify", "shop", PHONE, CODE)
    assert result.code == 1
    assert "refused" not in result.err
    assert f"The one-time code for {PHONE} did not reach Twilio" in result.err
    assert "wa-sync status" in result.err
    assert CODE not in result.out + result.err
    (sender,) = senders_of(emulator, "shop")
    assert sender["status"] == "PENDING_VERIFICATION"
