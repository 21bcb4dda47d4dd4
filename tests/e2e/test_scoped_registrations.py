"""A number moved from a customer out of a scoped plan's scope (`--customer`, `--shard`,
`--changed-since`; SPEC §3) to one in it: the scoped plan reads the senders out of its
scope (only then), and holds the registration back as a whole-estate plan does, since a
number registers once (SPEC §1.1; plan/registrations.py)."""

from __future__ import annotations

import json

import pytest

from tests.commands.test_changed_since import commit
from tests.e2e.helpers import ISV, customer_doc, estate_writes, set_account_status
from tests.e2e.test_import_estates import Console
from tests.e2e.test_reconcile import senders_of
from tests.e2e.test_unread import subaccount
from wa_sync.plan.scope import shard_of

NUMBER = "whatsapp:+14155550001"  # clinic-1's, moved to clinic-2
SENDERS = r"^/v2/Channels/Senders$"
SCOPES = ["customer", "shard", "changed-since"]


def scope_args(scope: str, base: str) -> list[str]:
    """Flags that scope a plan to clinic-2 alone."""
    assert (shard_of("clinic-1", 2), shard_of("clinic-2", 2)) == (1, 2)
    return {
        "customer": ["--customer", "clinic-2"],
        "shard": ["--shard", "2/2"],
        "changed-since": ["--changed-since", base],
    }[scope]


def numbers(emulator, customer_id: str) -> list[str]:
    return sorted(s["sender_id"] for s in senders_of(emulator, customer_id))


def move_the_number(repo) -> str:
    """clinic-1 leaves its number (prune off: it stays registered there), committed as
    the base revision; then clinic-2 declares it, uncommitted. The base, for
    --changed-since (which then covers clinic-2 alone)."""
    repo.edit("customers/clinic-1.yaml", lambda d: d.update(senders=[]))
    base = commit(repo.root)
    repo.edit(
        "customers/clinic-2.yaml", lambda d: d["senders"].append(customer_doc(1)["senders"][0])
    )
    return base


@pytest.fixture
def applied(repo, cli):
    repo.customer("clinic-1", customer_doc(1))
    repo.customer("clinic-2", customer_doc(2))
    assert cli("apply", "--auto-approve").code == 0, "the set-up apply failed"
    return repo


def plan_doc(cli, *args: str) -> dict:
    result = cli("plan", "--format", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.mark.parametrize("scope", SCOPES)
def test_a_scoped_plan_holds_back_a_number_registered_out_of_its_scope(
    applied, cli, emulator, scope
):
    args = scope_args(scope, move_the_number(applied))
    shown = cli("plan", *args)
    assert shown.code == 0, shown.err
    assert f"{NUMBER} is registered in customer clinic-1's subaccount" in shown.out, shown.out
    assert "deregister it there first" in shown.out
    assert f"+ customer.clinic-2/sender.{NUMBER}" not in shown.out
    doc = plan_doc(cli, *args)  # clinic-1 is consulted, never planned
    assert doc["customers"] == ["clinic-2"]
    assert {c["customer"] for c in doc["changes"] + doc["notes"]} == {"clinic-2"}

    emulator.clear_request_log()
    held = cli("apply", "--auto-approve", *args)
    assert held.code == 0, held.out + held.err
    assert estate_writes(emulator.request_log()) == []
    assert numbers(emulator, "clinic-1") == [NUMBER]
    assert NUMBER not in numbers(emulator, "clinic-2")

    assert cli("apply", "--auto-approve", "--prune", "--customer", "clinic-1").code == 0
    assert numbers(emulator, "clinic-1") == []
    moved = cli("apply", "--auto-approve", *args)
    assert moved.code == 0, moved.out + moved.err
    assert NUMBER in numbers(emulator, "clinic-2")
    assert numbers(emulator, "clinic-1") == []


@pytest.mark.parametrize("scope", SCOPES)
def test_a_scoped_plan_reads_out_of_scope_only_when_it_registers_a_number(
    applied, cli, emulator, scope
):
    """Without a registration a scoped plan sends what it always did: the listing, then
    clinic-2's two; with one, one Senders listing more, clinic-1's."""
    base = commit(applied.root)
    applied.edit(
        "customers/clinic-2.yaml", lambda d: d["senders"][0]["profile"].update(about="New")
    )
    emulator.clear_request_log()
    assert cli("plan", *scope_args(scope, base)).code == 0
    log = emulator.request_log()
    assert len(log) == 3, [r["path"] for r in log]
    assert subaccount(emulator, "clinic-1") not in {r["account_sid"] for r in log}

    args = scope_args(scope, move_the_number(applied))
    emulator.clear_request_log()
    assert cli("plan", *args).code == 0
    log = emulator.request_log()
    assert len(log) == 4, [r["path"] for r in log]
    (extra,) = [r for r in log if r["account_sid"] == subaccount(emulator, "clinic-1")]
    assert (extra["method"], extra["path"]) == ("GET", "/v2/Channels/Senders")


def test_an_out_of_scope_subaccount_not_answering_holds_the_registration_back(
    applied, cli, emulator
):
    """Its senders are unknown, so it may hold the number: held back, saying why, as for
    a customer in scope not read (SPEC §4.2); the plan itself does not fail."""
    move_the_number(applied)
    sid = subaccount(emulator, "clinic-1")
    emulator.fail_next("GET", SENDERS, status=403, account=sid)
    shown = cli("plan", "--customer", "clinic-2")
    assert shown.code == 0, shown.err
    assert f"+ customer.clinic-2/sender.{NUMBER}" not in shown.out
    assert "customer clinic-1 (out of this plan's scope; listing the senders of subaccount" in (
        shown.out
    )
    assert f"was not read from Twilio, so {NUMBER} may be registered there" in shown.out
    emulator.fail_next("GET", SENDERS, status=403, account=sid)
    doc = plan_doc(cli, "--customer", "clinic-2")
    assert {n["customer"] for n in doc["notes"]} == {"clinic-2"}
    assert doc["summary"]["unread"] == 0  # in scope, every customer was read

    emulator.clear_request_log()
    emulator.fail_next("GET", SENDERS, status=403, account=sid)
    assert cli("apply", "--auto-approve", "--customer", "clinic-2").code == 0
    assert estate_writes(emulator.request_log()) == []
    assert NUMBER not in numbers(emulator, "clinic-2")


def test_an_out_of_scope_customer_is_found_in_the_subaccount_it_adopts(repo, cli, emulator):
    """clinic-1 manages a subaccount by `account_sid` (not named `wa-sync:clinic-1`), and
    `--customer clinic-2` does not load its file: it is loaded to find that subaccount."""
    adopted = emulator.create_subaccount("Clinic One's own")["sid"]
    repo.customer("clinic-1", customer_doc(1, account_sid=adopted))
    repo.customer("clinic-2", customer_doc(2))
    assert cli("apply", "--auto-approve").code == 0
    move_the_number(repo)
    shown = cli("plan", "--customer", "clinic-2")
    assert shown.code == 0, shown.err
    assert f"{NUMBER} is registered in customer clinic-1's subaccount" in shown.out, shown.out
    assert f"+ customer.clinic-2/sender.{NUMBER}" not in shown.out


@pytest.mark.parametrize("scope", ["whole", "customer"])
def test_a_number_held_in_a_subaccount_no_customer_file_manages_is_not_registered(
    repo, cli, emulator, scope
):
    """A number registered by hand in a subaccount of the parent that no customer file
    manages: the plan that would register it reads that subaccount's senders (only
    then), holds the registration back and says where the number is."""
    repo.write("wa-sync.yaml", ISV)
    console = Console(emulator, emulator.create_subaccount("Made By Hand")["sid"])
    console.sender("+14155550002", {"name": "By Hand"})
    repo.customer("clinic-1", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    repo.customer("clinic-2", customer_doc(2))  # declares +14155550002
    args = ["--customer", "clinic-2"] if scope == "customer" else []

    shown = cli("plan", *args)
    assert shown.code == 0, shown.err
    held = (
        f"whatsapp:+14155550002 is registered in subaccount {console.sid} ('Made By Hand'), "
        "which no customer file manages"
    )
    assert held in shown.out, shown.out
    assert "deregister it there first (in the Twilio console), then apply" in shown.out
    assert "1 subaccount(s) that no customer file manages" in shown.err
    assert cli("apply", "--auto-approve", *args).code == 0
    assert numbers(emulator, "clinic-2") == []
    assert [s["sender_id"] for s in emulator.state()["senders"][console.sid]] == [
        "whatsapp:+14155550002"
    ]


def test_a_registration_while_a_subaccount_is_suspended_warns_that_it_may_hold_the_number(
    repo, cli, emulator
):
    """Twilio refuses a suspended subaccount's own credentials, so its senders cannot be
    read: the plan registered the number as if nobody could hold it, and said nothing of
    the subaccount it could not see into."""
    repo.write("wa-sync.yaml", ISV)
    console = Console(emulator, emulator.create_subaccount("Made By Hand")["sid"])
    console.sender("+14155550002", {"name": "By Hand"})
    set_account_status(emulator, console.sid, "suspended")
    repo.customer("clinic-2", customer_doc(2))  # declares +14155550002

    shown = cli("plan")
    assert shown.code == 0, shown.err
    assert "+ customer.clinic-2/sender.whatsapp:+14155550002" in shown.out  # not held back
    warning = (
        f"whatsapp:+14155550002 may be registered in suspended subaccount {console.sid} "
        "('Made By Hand'), whose senders Twilio does not show until it is active again"
    )
    assert warning in shown.out, shown.out
    notes = plan_doc(cli)["notes"]
    assert [n["kind"] for n in notes if "suspended subaccount" in n["message"]] == ["warning"]
