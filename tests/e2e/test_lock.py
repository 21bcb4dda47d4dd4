"""One apply at a time (SPEC §4.8): the estate lock on a Twilio Sync Document.

Two applies started together never interleave their writes: the second refuses (or,
with --lock-timeout, waits) before its first write, naming the holder. The lock is
renewed while apply runs and released at the end; a lock whose apply is gone expires,
is taken over once unrenewed for longer than its time to live, or is removed with
`wa-sync unlock`. `plan` never takes it.
"""

from __future__ import annotations

import io
import signal

import pytest
from twilio.rest import Client

from tests.e2e.helpers import customer_doc, estate_writes, spawn, wait_for
from tests.e2e.test_faults import assert_no_duplicates
from tests.emulator.helpers import EmulatorHttpClient
from wa_sync.cli import main
from wa_sync.gateway.lock import SERVICE_NAME
from wa_sync.lockdoc import LOCK_NAME
from wa_sync.runtime import Runtime

RUN = "https://github.com/acme/estate/actions/runs/99"
HOLDER = {
    "token": "t" * 32,
    "user": "alice",
    "host": "ci-runner-7",
    "pid": 4242,
    "ci_run": RUN,
    "version": "1",
    "ttl": 60,
}
SYNC = "/v1/Services"


def sync_client(emulator) -> Client:
    return Client(
        emulator.parent_sid, emulator.parent_token, http_client=EmulatorHttpClient(emulator.url)
    )


def hold_lock(
    emulator, ttl: int = 60, data_ttl: int = 60, user: str = "alice", shard: list | None = None
):
    """The lock as another apply took it: a Service `wa-sync` and the lock Document."""
    client = sync_client(emulator)
    services = [s for s in client.sync.v1.services.list() if s.friendly_name == SERVICE_NAME]
    service = (
        services[0] if services else client.sync.v1.services.create(friendly_name=SERVICE_NAME)
    )
    documents = client.sync.v1.services(service.sid).documents
    name = LOCK_NAME if shard is None else f"{LOCK_NAME}-shard-{shard[0]}-of-{shard[1]}"
    data = {**HOLDER, "ttl": data_ttl, "user": user, "shard": shard}
    return documents.create(unique_name=name, data=data, ttl=ttl)


def lock_documents(emulator) -> list:
    client = sync_client(emulator)
    return [
        d
        for s in client.sync.v1.services.list()
        for d in client.sync.v1.services(s.sid).documents.list()
    ]


@pytest.fixture
def estate(repo):
    for n in range(1, 4):
        repo.customer(f"clinic-{n}", customer_doc(n))
    return repo


def test_two_applies_started_together_never_duplicate_and_the_loser_names_the_holder(
    repo, emulator, env
):
    for n in range(1, 51):
        repo.customer(f"clinic-{n}", customer_doc(n))
    emulator.set_faults(latency_ms=50, methods=["POST"])
    first, second = (spawn(repo.root, env, "apply", "--auto-approve") for _ in range(2))
    outputs = {p.pid: p.communicate(timeout=300) for p in (first, second)}
    results = {p.pid: (p.returncode, *outputs[p.pid]) for p in (first, second)}

    codes = sorted(code for code, _out, _err in results.values())
    assert codes == [0, 1], results
    winner = next(pid for pid, (code, _o, _e) in results.items() if code == 0)
    _code, _out, refusal = next(r for r in results.values() if r[0] == 1)
    assert "another apply holds the lock on this estate" in refusal
    assert f"pid {winner}" in refusal
    assert "Nothing was changed" in refusal
    assert_no_duplicates(emulator)
    assert len(estate_writes(emulator.request_log())) == 50 * 8  # each change made once
    assert lock_documents(emulator) == []  # released


def test_with_a_lock_timeout_the_second_apply_waits_then_finds_nothing_to_do(estate, emulator, env):
    emulator.set_faults(latency_ms=300, methods=["POST"])
    first = spawn(estate.root, env, "apply", "--auto-approve")
    wait_for(lambda: estate_writes(emulator.request_log()), "the first apply's writes")
    second = spawn(estate.root, env, "apply", "--auto-approve", "--lock-timeout", "2m")
    out, err = second.communicate(timeout=300)
    first.communicate(timeout=300)
    assert first.returncode == 0
    assert second.returncode == 0, err
    assert "Waiting up to 2 min for the apply lock, held by" in err
    assert f"pid {first.pid}" in err
    assert "Nothing to apply." in out
    assert_no_duplicates(emulator)


def test_the_refusal_names_the_holder_and_plan_does_not_take_the_lock(estate, emulator, cli):
    hold_lock(emulator)
    emulator.clear_request_log()
    planned = cli("plan", "--detailed-exitcode")
    assert planned.code == 2, planned.err
    assert not [r for r in emulator.request_log() if r["path"].startswith(SYNC)]

    refused = cli("apply", "--auto-approve")
    assert refused.code == 1
    assert (
        "alice@ci-runner-7 (pid 4242, CI run https://github.com/acme/estate/actions/runs/99)"
        in refused.err
    )
    assert "since 20" in refused.err
    assert "--lock-timeout" in refused.err
    assert "wa-sync unlock" in refused.err
    assert estate_writes(emulator.request_log()) == []


def test_a_holder_with_control_characters_is_shown_escaped(estate, emulator, cli):
    hold_lock(emulator, user="mallory\x1b]0;pwned\x07")
    refused = cli("apply", "--auto-approve")
    assert refused.code == 1
    assert "mallory\\x1b]0;pwned\\x07@ci-runner-7" in refused.err
    assert "\x1b" not in refused.err
    shown = cli("unlock")
    assert "\x1b" not in shown.out + shown.err


def test_a_lock_that_expired_is_gone_and_apply_proceeds(estate, emulator, cli):
    hold_lock(emulator, ttl=60)
    assert cli("apply", "--auto-approve").code == 1
    emulator.advance_clock(61)  # Twilio deletes a Document past its Ttl
    done = cli("apply", "--auto-approve")
    assert done.code == 0, done.err


def test_a_lock_unrenewed_past_its_ttl_is_taken_over_while_waiting(estate, emulator, cli):
    hold_lock(emulator, ttl=0, data_ttl=1)  # not deleted (yet), says a 1 s time to live
    done = cli("apply", "--auto-approve", "--lock-timeout", "1m")
    assert done.code == 0, done.err
    assert "took over the apply lock of alice@ci-runner-7" in done.err
    assert lock_documents(emulator) == []


def test_unlock_shows_the_holder_asks_and_removes_the_lock(estate, emulator, cli):
    hold_lock(emulator)
    refused = cli("unlock")
    assert refused.code == 1
    assert "--yes" in refused.err
    assert len(lock_documents(emulator)) == 1

    cancelled = cli("unlock", stdin="no\n", tty=True)
    assert cancelled.code == 1
    assert len(lock_documents(emulator)) == 1

    removed = cli("unlock", stdin="yes\n", tty=True)
    assert removed.code == 0, removed.err
    assert "held by alice@ci-runner-7 (pid 4242" in removed.out
    assert lock_documents(emulator) == []
    assert cli("apply", "--auto-approve").code == 0
    assert cli("unlock", "--yes").out == "No apply holds the lock on this estate.\n"


def test_unlock_keeps_a_lock_renewed_while_it_asked(estate, emulator, env):
    document = hold_lock(emulator)

    class Renewing(io.StringIO):
        def readline(self, *args):  # the holder renews while the user reads the question
            sync_client(emulator).sync.v1.services(document.service_sid).documents(
                LOCK_NAME
            ).update(data=HOLDER, ttl=60, if_match=document.revision)
            return "yes\n"

    err = io.StringIO()
    runtime = Runtime(
        environ=env, stdin=Renewing(), stdout=io.StringIO(), stderr=err, stdin_isatty=True
    )
    assert main(["unlock", "--root", str(estate.root)], runtime) == 1
    assert "changed since it was shown" in err.getvalue()
    assert len(lock_documents(emulator)) == 1


def test_the_lock_is_renewed_while_apply_runs_and_released_at_the_end(estate, emulator, env, cli):
    emulator.set_faults(latency_ms=700, methods=["POST"])
    process = spawn(
        estate.root,
        env,
        "apply",
        "--auto-approve",
        "--parallelism",
        "1",
        env_extra={"WA_SYNC_LOCK_TTL": "9"},  # renewed every 3 s: 6 s of slack on a busy machine
    )
    renewals = "POST /v1/Services/{ServiceSid}/Documents/{Sid}"
    wait_for(
        lambda: emulator.request_counts().get(renewals, 0) >= 4 or process.poll() is not None,
        "four renewals",
    )
    if process.poll() is not None:
        raise AssertionError(
            f"the apply ended before its lock was renewed four times: {process.stderr.read()}"
        )
    refused = cli("apply", "--auto-approve")  # four renewals: more than the Ttl after it was taken
    assert refused.code == 1
    assert f"pid {process.pid}" in refused.err
    _out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert lock_documents(emulator) == []


def test_an_apply_whose_lock_is_removed_stops_starting_writes(estate, emulator, env, cli):
    emulator.set_faults(latency_ms=400, methods=["POST"])
    process = spawn(
        estate.root,
        env,
        "apply",
        "--auto-approve",
        "--parallelism",
        "1",
        env_extra={"WA_SYNC_LOCK_TTL": "6"},
    )
    wait_for(lambda: estate_writes(emulator.request_log()), "the apply's first write")
    assert cli("unlock", "--yes").code == 0
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "Error: the apply lock was lost" in err
    assert "Not started:" in out
    emulator.set_faults()
    assert cli("apply", "--auto-approve").code == 0
    assert_no_duplicates(emulator)


def waiting_for_the_lock(emulator) -> None:
    """Until an apply has found the lock taken (Sync answered 409) and waits for it."""
    wait_for(
        lambda: any(
            r["path"].startswith(SYNC) and r["status"] == 409 for r in emulator.request_log()
        ),
        "the wait",
    )


def test_the_lock_wait_is_interruptible(estate, emulator, env):
    hold_lock(emulator)
    process = spawn(estate.root, env, "apply", "--auto-approve", "--lock-timeout", "10m")
    waiting_for_the_lock(emulator)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "before any change was made" in err


def test_the_settings_lock_timeout_makes_apply_wait(estate, emulator, cli):
    estate.write("wa-sync.yaml", {"settings": {"lock_timeout": "1m"}})
    hold_lock(emulator, ttl=0, data_ttl=1)
    done = cli("apply", "--auto-approve")
    assert done.code == 0, done.err
    assert "Waiting up to 1 min for the apply lock, held by alice@ci-runner-7" in done.err


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("flag", "--lock-timeout: 'soon' is not a duration such as 0, 30s, 5m or 1h"),
        ("settings", "settings.lock_timeout"),
    ],
)
def test_a_bad_lock_timeout_is_a_clear_error_before_any_write(
    estate, emulator, cli, where, message
):
    if where == "flag":
        result = cli("apply", "--auto-approve", "--lock-timeout", "soon")
    else:
        estate.write("wa-sync.yaml", {"settings": {"lock_timeout": "soon"}})
        result = cli("apply", "--auto-approve")
    assert result.code == 1
    assert message in result.err
    assert "Traceback" not in result.err
    assert estate_writes(emulator.request_log()) == []


def test_applies_of_disjoint_shards_run_at_once(repo, emulator, env):
    for n in range(1, 21):
        repo.customer(f"clinic-{n}", customer_doc(n))
    emulator.set_faults(latency_ms=50, methods=["POST"])
    shards = [spawn(repo.root, env, "apply", "--auto-approve", "--shard", f"{k}/2") for k in (1, 2)]
    outputs = [p.communicate(timeout=300) for p in shards]
    assert [p.returncode for p in shards] == [0, 0], outputs
    assert_no_duplicates(emulator)
    assert len(estate_writes(emulator.request_log())) == 20 * 8
    assert lock_documents(emulator) == []


@pytest.mark.parametrize(
    ("held", "args", "shown"),
    [
        (None, ["--shard", "1/2"], "alice@ci-runner-7 (pid 4242, CI run"),
        ([1, 2], [], "alice@ci-runner-7 (pid 4242, shard 1/2, CI run"),
        ([1, 2], ["--shard", "1/3"], "shard 1/2"),
        ([1, 2], ["--shard", "1/2"], "shard 1/2"),
    ],
    ids=["estate-held-shard-waits", "shard-held-estate-waits", "other-n", "same-shard"],
)
def test_overlapping_scopes_exclude_each_other(estate, emulator, cli, held, args, shown):
    hold_lock(emulator, shard=held)
    refused = cli("apply", "--auto-approve", *args)
    assert refused.code == 1
    assert shown in refused.err
    assert estate_writes(emulator.request_log()) == []
    assert len(lock_documents(emulator)) == 1  # its own lock given back


def test_a_disjoint_shard_lock_does_not_stop_an_apply(estate, emulator, cli):
    hold_lock(emulator, shard=[2, 2])
    done = cli("apply", "--auto-approve", "--shard", "1/2")
    assert done.code == 0, done.err
    assert len(lock_documents(emulator)) == 1


@pytest.mark.parametrize("ttl", ["9000h", "99999999999999h", "31536001", "9" * 400])
def test_a_lock_ttl_past_what_twilio_sync_allows_is_named_before_any_request(
    estate, emulator, cli, env, ttl
):
    emulator.clear_request_log()
    result = cli("apply", "--auto-approve", environ={**env, "WA_SYNC_LOCK_TTL": ttl})
    assert result.code == 1
    assert f"WA_SYNC_LOCK_TTL: {ttl!r} is more than" in result.err
    assert "Twilio error" not in result.err
    assert emulator.request_log() == []


def test_wrong_credentials_say_so_without_a_warning_about_a_lock_never_taken(
    estate, emulator, cli, env
):
    result = cli("apply", "--auto-approve", environ={**env, "TWILIO_AUTH_TOKEN": "f" * 32})
    assert result.code == 1
    assert "Twilio error 20003" in result.err
    assert "could not release the apply lock" not in result.err
    assert "wa-sync unlock" not in result.err
    assert lock_documents(emulator) == []
