"""plan.ownership: who owns which subaccount, over the listing as Twilio gave it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.plan import factories
from wa_sync.model import Customer, LiveAccount
from wa_sync.plan.ownership import ownership_problems

A = "AC" + "a" * 32
B = "AC" + "b" * 32
C = "AC" + "c" * 32


def customer(cid: str, account_sid: str | None = None) -> Customer:
    return replace(factories.customer(account_sid=account_sid), id=cid)


def account(sid: str, name: str, status: str = "active") -> LiveAccount:
    return LiveAccount(sid=sid, friendly_name=name, status=status)


@pytest.mark.parametrize(
    ("customers", "accounts", "expected"),
    [
        ([customer("one"), customer("two")],
         [account(A, "wa-sync:one"), account(B, "wa-sync:two")], []),
        ([customer("one", account_sid=A), customer("two", account_sid=A)], [account(A, "x")],
         [f"subaccount {A} ('x') would be managed by 2 customers"]),
        ([customer("one"), customer("two", account_sid=A)], [account(A, "wa-sync:one")],
         [f"subaccount {A} ('wa-sync:one') would be managed by 2 customers"]),
        ([customer("two", account_sid=A)], [account(A, "wa-sync:one")],
         [f"subaccount {A} ('wa-sync:one') would be managed by 2 customers"]),
        ([customer("two", account_sid=A)], [account(A, "wa-sync:gone")], []),
        ([customer("one"), customer("two")],
         [account(A, "wa-sync:one"), account(B, "wa-sync:one"), account(C, "wa-sync:two"),
          account(C.replace("c", "d"), "wa-sync:two")],
         ["customer one: 2 subaccounts are named 'wa-sync:one'",
          "customer two: 2 subaccounts are named 'wa-sync:two'"]),
        ([customer("one")], [account(A, "wa-sync:one"), account(B, "wa-sync:one", "closed")], []),
        ([customer("one", account_sid=B)], [account(A, "wa-sync:one"), account(B, "wa-sync:one")],
         []),
    ],
    ids=["distinct", "same-account-sid", "sid-named-for-another", "named-for-another-unloaded",
         "named-for-a-removed-customer", "duplicates-all-reported", "closed-duplicate-ignored",
         "account-sid-disambiguates"],
)  # fmt: skip
def test_ownership_problems(customers, accounts, expected):
    problems = ownership_problems(customers, accounts, known=["one", "two"])
    assert len(problems) == len(expected)
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem


def test_the_fix_for_a_file_adopting_another_customer_s_named_subaccount_says_both_ways():
    """It said "keep account_sid in one file only", where only one file has it."""
    (problem,) = ownership_problems(
        [customer("one"), customer("two", account_sid=A)], [account(A, "wa-sync:one")],
        known=["one", "two"],
    )  # fmt: skip
    fix = problem.split("\n  fix: ")[1]
    assert fix.startswith("its name makes it customer one's. If it is, remove account_sid")
    assert "customers/two.yaml" in fix
    assert "if it is customer two's, rename it in the Twilio Console" in fix
    assert "in one file only" not in fix


def test_scope_keeps_only_the_problems_of_its_customers():
    customers = [customer("one"), customer("two", account_sid=C)]
    accounts = [account(A, "wa-sync:one"), account(B, "wa-sync:one"), account(C, "x")]
    assert ownership_problems(customers, accounts, known=["one", "two"], scope=["two"]) == []
    (only,) = ownership_problems(customers, accounts, known=["one", "two"], scope=["one"])
    assert "customer one: 2 subaccounts are named 'wa-sync:one'" in only
