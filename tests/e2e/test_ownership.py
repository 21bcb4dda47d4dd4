"""One subaccount, one customer (SPEC §4.3): two customers resolving to one subaccount,
or one customer to several, are refused before any write, every case named at once."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import customer_doc, estate_writes


def writes(emulator) -> list[dict]:
    return estate_writes(emulator.request_log())


def sid_of(emulator, name: str) -> str:
    (account,) = [a for a in emulator.state()["accounts"] if a["friendly_name"] == name]
    return account["sid"]


def account_sid_line(repo, customer: str) -> int:
    lines = repo.root.joinpath(f"customers/{customer}.yaml").read_text().split("\n")
    return next(i for i, text in enumerate(lines, 1) if text.startswith("account_sid:"))


def test_validate_refuses_one_account_sid_in_two_files_naming_both_lines(repo, cli):
    sid = "AC" + "5" * 32
    repo.customer("clinic-one", customer_doc(1, account_sid=sid))
    repo.customer("clinic-two", customer_doc(2, account_sid=sid))
    result = cli("validate")
    assert result.code == 1
    at = account_sid_line(repo, "clinic-one")
    assert f"customers/clinic-two.yaml:{at}: account_sid: the subaccount {sid}" in result.out
    assert f"customer 'clinic-one' at customers/clinic-one.yaml:{at}" in result.out


def test_adopting_another_customers_subaccount_is_refused_before_any_write(repo, cli, emulator):
    """The issue's case: prune deleted clinic-one's live sender and approved templates."""
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    taken = sid_of(emulator, "wa-sync:clinic-one")
    repo.customer("clinic-two", customer_doc(2, account_sid=taken))
    assert cli("validate").code == 0  # only Twilio knows the SID is clinic-one's

    before = emulator.state()
    emulator.clear_request_log()
    for args in (("plan",), ("apply", "--auto-approve", "--prune"), ("status",), ("output",)):
        result = cli(*args)
        assert result.code == 1, (args, result.out, result.err)
        assert f"subaccount {taken} ('wa-sync:clinic-one') would be managed by 2 customers" in (
            result.err
        )
        assert "customer clinic-one in customers/clinic-one.yaml (by its name)" in result.err
        assert "customer clinic-two in customers/clinic-two.yaml:" in result.err
    assert not writes(emulator)
    assert emulator.state() == before


def test_adopting_a_subaccount_named_for_a_customer_with_a_file_is_refused(repo, cli, emulator):
    """clinic-one has its own account_sid, but a subaccount named for it is its too."""
    mine = emulator.create_subaccount("prod clinic one")["sid"]
    named = emulator.create_subaccount("wa-sync:clinic-one")["sid"]
    repo.customer("clinic-one", customer_doc(1, account_sid=mine))
    repo.customer("clinic-two", customer_doc(2, account_sid=named))
    result = cli("plan", "--customer", "clinic-two")
    assert result.code == 1
    assert f"subaccount {named} ('wa-sync:clinic-one') would be managed by 2" in result.err
    assert "customers/clinic-one.yaml (the subaccount is named 'wa-sync:clinic-one')" in (
        result.err
    )


def test_a_scoped_apply_is_refused_a_subaccount_that_a_file_out_of_scope_adopts(
    repo, cli, emulator
):
    """`--customer` loads only its customer's file, yet must see that clinic-one's file
    adopts the subaccount clinic-two names (found by a review: it wrote into it)."""
    adopted = emulator.create_subaccount("prod clinic one")["sid"]
    repo.customer("clinic-one", customer_doc(1, account_sid=adopted))
    assert cli("apply", "--auto-approve").code == 0
    repo.customer("clinic-two", customer_doc(2, account_sid=adopted))
    before = emulator.state()
    emulator.clear_request_log()
    for args in (("plan", "--customer", "clinic-two"), ("apply", "--auto-approve", "--prune",
                 "--customer", "clinic-two")):  # fmt: skip
        result = cli(*args)
        assert result.code == 1, (args, result.out, result.err)
        assert f"account_sid: the subaccount {adopted} is also managed by" in result.err
        assert "customers/clinic-one.yaml" in result.err
    assert not writes(emulator)
    assert emulator.state() == before
    assert cli("plan", "--customer", "clinic-one").code == 1  # either side of the claim


def test_one_account_sid_in_two_files_says_a_third_claim_may_be_in_twilio(repo, cli, emulator):
    """Found by the model test's soak: clinic-one and clinic-two adopt clinic-three's
    subaccount. `validate` cannot see its name, and `plan` asks Twilio nothing for an
    invalid configuration: the refusal names the two files and says where a third claim
    would be; once they are fixed, `plan` names clinic-three."""
    repo.customer("clinic-three", customer_doc(3))
    assert cli("apply", "--auto-approve").code == 0
    taken = sid_of(emulator, "wa-sync:clinic-three")
    repo.customer("clinic-one", customer_doc(1, account_sid=taken))
    repo.customer("clinic-two", customer_doc(2, account_sid=taken))
    at = account_sid_line(repo, "clinic-one")
    emulator.clear_request_log()
    for args in (("validate",), ("plan",), ("apply", "--auto-approve", "--prune")):
        result = cli(*args)
        assert result.code == 1, (args, result.out, result.err)
        text = result.out + result.err
        assert f"customers/clinic-two.yaml:{at}: account_sid: the subaccount {taken}" in text
        assert f"customer 'clinic-one' at customers/clinic-one.yaml:{at}" in text
        assert (
            "Twilio may hold one more claim, which this check cannot see: a subaccount "
            "named 'wa-sync:<id>' is customer <id>'s by its name; once this is fixed, "
            "`wa-sync plan` reads that name and names customer <id> if so"
        ) in text
    assert emulator.request_log() == []

    repo.customer("clinic-two", customer_doc(2))  # clinic-one keeps account_sid
    result = cli("plan")
    assert result.code == 1
    assert f"subaccount {taken} ('wa-sync:clinic-three') would be managed by 2 customers" in (
        result.err
    )
    assert f"customer clinic-one in customers/clinic-one.yaml:{at} (account_sid)" in result.err
    assert "customer clinic-three in customers/clinic-three.yaml (the subaccount is named " in (
        result.err
    )
    fix = f"fix: its name makes it customer clinic-three's. If it is, remove account_sid {taken}"
    assert f"{fix} from customers/clinic-one.yaml:{at}" in result.err


@pytest.mark.parametrize("command", ["plan", "status", "apply"])
def test_duplicated_subaccounts_are_all_reported_at_once(repo, cli, emulator, command):
    """Made by hand or by an older version: every affected customer, its SIDs, the fix."""
    for n in (1, 2, 3):
        repo.customer(f"clinic-{n}", customer_doc(n))
    sids = {
        cid: [emulator.create_subaccount(f"wa-sync:{cid}")["sid"] for _ in range(2)]
        for cid in ("clinic-1", "clinic-3")
    }
    emulator.clear_request_log()
    args = ("apply", "--auto-approve") if command == "apply" else (command,)
    result = cli(*args)
    assert result.code == 1, result.out + result.err
    assert "2 problems with who owns which subaccount; nothing was changed" in result.err
    for cid, (one, two) in sids.items():
        assert f"customers/{cid}.yaml: customer {cid}: 2 subaccounts are named " in result.err
        assert f"'wa-sync:{cid}': {one}, {two}" in result.err
        assert f"fix: set account_sid in customers/{cid}.yaml to the one to manage" in result.err
    assert "clinic-2" not in result.err
    assert not writes(emulator)


def test_account_sid_picks_one_of_the_duplicates(repo, cli, emulator):
    one = emulator.create_subaccount("wa-sync:clinic-1")["sid"]
    emulator.create_subaccount("wa-sync:clinic-1")
    repo.customer("clinic-1", customer_doc(1, account_sid=one))
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert one in emulator.state()["senders"]


@pytest.mark.parametrize("command", [("plan",), ("apply", "--auto-approve"), ("status",)])
def test_a_subaccounts_own_credentials_as_the_parent_are_refused(repo, cli, emulator, command):
    """Else plan proposes a subaccount per customer, under the subaccount."""
    repo.customer("clinic-one", customer_doc(1))
    sub = emulator.create_subaccount("wa-sync:someone-else")
    environ = {
        "TWILIO_ACCOUNT_SID": sub["sid"],
        "TWILIO_AUTH_TOKEN": sub["auth_token"],
        "WA_SYNC_TWILIO_URL": emulator.url,
    }
    emulator.clear_request_log()
    result = cli(*command, environ=environ)
    assert result.code == 1, result.out + result.err
    assert f"the Twilio credentials are those of {sub['sid']}, a subaccount of " in result.err
    assert f"set TWILIO_ACCOUNT_SID to the parent account {emulator.parent_sid}" in result.err
    assert sub["auth_token"] not in result.out + result.err
    assert not writes(emulator)


def test_a_customer_out_of_scope_does_not_fail_the_others_plan(repo, cli, emulator):
    """A shard (or --customer) fails for its own customers' problems only."""
    for n in (1, 2):
        repo.customer(f"clinic-{n}", customer_doc(n))
    for _ in range(2):
        emulator.create_subaccount("wa-sync:clinic-1")
    assert cli("plan", "--customer", "clinic-2").code == 0
    assert cli("plan", "--customer", "clinic-1").code == 1


@pytest.mark.parametrize("whose", ["unknown", "the-parent"])
def test_an_account_sid_that_is_no_subaccount_names_its_line(repo, cli, emulator, whose):
    sid = "AC" + "7" * 32 if whose == "unknown" else emulator.parent_sid
    repo.customer("clinic-one", customer_doc(1, account_sid=sid))
    result = cli("plan")
    assert result.code == 1
    lines = repo.root.joinpath("customers/clinic-one.yaml").read_text().split("\n")
    at = next(i for i, text in enumerate(lines, 1) if text.startswith("account_sid:"))
    assert f"customers/clinic-one.yaml:{at}: customer clinic-one: account_sid {sid}" in result.err
    assert "is not a subaccount of the parent account" in result.err
    assert not writes(emulator)
