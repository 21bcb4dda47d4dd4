"""What must hold after every step of the model-based test (issue 17).

Each check raises AssertionError with what was found, so that hypothesis' minimal
failing example reads as a bug report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from tests.model.driver import WRITTEN_PRODUCTS, Run
from tests.model.estate import (
    CustomerSpec,
    Verdict,
    base_name,
    claimants,
    declared_twice,
    owners,
    resolve,
    undeclared,
)
from wa_sync.model import RETIRED_PREFIX

# C0 controls but tab and newline, DEL, and C1 controls (0x9b is a CSI on many terminals)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A line of the mass-delete refusal (wa_sync/plan/safety.py; SPEC §4.5)
MASS_DELETE = re.compile(r"^  (\S+): (\d+) deletions are \d+% of (\d+) managed objects", re.M)
MIN_MANAGED_OBJECTS = 10  # below it no share is refused (SPEC §4.5)
MAX_DELETE_FRACTION = 0.25  # SPEC §2's default, which the model's estate keeps
# The offline refusal of one account_sid in two files says where a third claim would be.
UNSEEN_CLAIM = "Twilio may hold one more claim, which this check cannot see"


def no_duplicates(state: dict[str, Any]) -> None:
    """No two subaccounts named `wa-sync:<id>`, no sender or (name, language) twice."""
    names = Counter(a["friendly_name"] for a in state["accounts"])
    twice = {name: n for name, n in names.items() if name.startswith("wa-sync:") and n > 1}
    assert not twice, f"duplicate subaccounts: {twice}"
    for account_sid, contents in state["contents"].items():
        keys = Counter((c["friendly_name"], c["language"]) for c in contents)
        assert all(n == 1 for n in keys.values()), f"duplicate contents in {account_sid}: {keys}"
    for account_sid, senders in state["senders"].items():
        ids = Counter(s["sender_id"] for s in senders)
        assert all(n == 1 for n in ids.values()), f"duplicate senders in {account_sid}: {ids}"


def writes_only_into_own_subaccounts(
    runs: Iterable[Run], customers: dict[str, CustomerSpec], state: dict[str, Any]
) -> None:
    """Every Content or Senders write of wa-sync went into a subaccount that exactly one
    customer of the configuration resolves to (never the parent's own, never one two
    customers claim, never an unmanaged one)."""
    owned = owners(customers, state)
    for run in runs:
        for entry in run.writes():
            if not entry["template"].startswith(WRITTEN_PRODUCTS):
                continue
            claim = sorted(owned.get(entry["account_sid"] or "", ()))
            assert len(claim) == 1, (
                f"`wa-sync {' '.join(run.args)}` wrote {entry['method']} {entry['path']} "
                f"into {entry['account_sid']}, which is claimed by {claim or 'no customer'}"
            )


def nothing_written_when_refused(runs: Iterable[Run], verdict: Verdict) -> None:
    """Two customers claim one subaccount: plan and apply refuse before any write."""
    if verdict is not Verdict.CONFLICT:
        return
    for run in runs:
        writes = [f"{e['method']} {e['template']}" for e in run.estate_writes()]
        assert not writes, (
            f"`wa-sync {' '.join(run.args)}` with two customers on one subaccount wrote {writes}"
        )


def deletes_are_allowed(
    runs: Iterable[Run], customers: dict[str, CustomerSpec], before: dict[str, Any]
) -> None:
    """Without prune nothing is deleted but an unapproved content that a declared template
    replaces under its own name (SPEC §4.4); with prune, never a declared sender nor the
    approved version in service of a declared template. `before`: the state before."""
    contents = {c["sid"]: (a, c) for a, cs in before["contents"].items() for c in cs}
    senders = {s["sid"]: (a, s) for a, ss in before["senders"].items() for s in ss}
    owned = owners(customers, before)
    for run in runs:
        for entry in run.log:
            if entry["method"] != "DELETE" or not entry["template"].startswith(WRITTEN_PRODUCTS):
                continue  # the apply lock's own Sync document is no estate object
            sid = entry["path"].rsplit("/", 1)[-1]
            what = f"`wa-sync {' '.join(run.args)}` deleted {entry['path']}"
            if sid in senders:
                account_sid, sender = senders[sid]
                spec = _owner(owned, customers, account_sid)
                assert run.prune, f"{what}, sender {sender['sender_id']}, without prune"
                declared = spec is not None and sender["sender_id"][9:] in spec.senders
                assert not declared, f"{what}, declared sender {sender['sender_id']}"
                continue
            assert sid in contents, f"{what}, which did not exist before the run"
            account_sid, content = contents[sid]
            spec = _owner(owned, customers, account_sid)
            key = (base_name(content["friendly_name"]), content["language"])
            status = content["approval"]["status"]
            if not run.prune:
                replaced = spec is not None and key in spec.templates and status != "approved"
                assert replaced, (
                    f"{what}, {content['friendly_name']} [{content['language']}] ({status}), "
                    "without prune"
                )
            elif spec is not None and key in spec.templates:
                in_service = [
                    c["sid"]
                    for c in before["contents"][account_sid]
                    if (base_name(c["friendly_name"]), c["language"]) == key
                    and c["approval"]["status"] == "approved"
                ][-1:]
                assert sid not in in_service, (
                    f"{what}, the approved {content['friendly_name']} [{content['language']}] "
                    "in service of a declared template"
                )


def _owner(
    owned: dict[str, set[str]], customers: dict[str, CustomerSpec], account_sid: str
) -> CustomerSpec | None:
    ids = owned.get(account_sid, set())
    return customers[next(iter(ids))] if len(ids) == 1 else None


def no_control_characters(runs: Iterable[Run]) -> None:
    for run in runs:
        for name, text in (("stdout", run.out), ("stderr", run.err)):
            found = CONTROL.search(text)
            assert found is None, (
                f"`wa-sync {' '.join(run.args)}` wrote the raw control character "
                f"{found.group()!r} to {name}: "
                f"{text[max(0, found.start() - 80) : found.end() + 40]!r}"
            )


def no_internal_error(runs: Iterable[Run]) -> None:
    """No "internal error", and no traceback (a logged exception) on stderr."""
    for run in runs:
        for sign in ("internal error", "Traceback (most recent call last)"):
            assert sign not in run.text, f"`wa-sync {' '.join(run.args)}`: {run.text}"


def plans_show_undeclared(
    plans: dict[str, Run], customers: dict[str, CustomerSpec], state: dict[str, Any]
) -> None:
    """Every live object a subaccount's one owner does not declare is in every format
    of the plan (by its SID or its address)."""
    for item in undeclared(customers, state):
        for fmt, run in plans.items():
            text = run.out.replace("\\_", "_")  # markdown escapes underscores
            assert item.sid in text or item.address in text, (
                f"the {fmt} plan hides {item.address} ({item.sid}) in {item.account_sid}, "
                f"which {item.customer} does not declare:\n{run.out}"
            )


def plans_show_unmanaged_subaccounts(
    plans: dict[str, Run], customers: dict[str, CustomerSpec], state: dict[str, Any]
) -> None:
    """Every open subaccount named `wa-sync:<id>` that no customer resolves to (its file
    is gone, or customer <id> manages another by `account_sid`) is in every format of a
    whole-estate plan, by its SID."""
    owned = owners(customers, state)
    for account in state["accounts"]:
        name, sid = account["friendly_name"], account["sid"]
        if not name.startswith("wa-sync:") or sid in owned or account["status"] == "closed":
            continue
        for fmt, run in plans.items():
            assert sid in run.out, (
                f"the {fmt} plan hides the subaccount {sid} ({name}), which no customer "
                f"manages:\n{run.out}"
            )


def refused_naming_claimants(
    run: Run, customers: dict[str, CustomerSpec], state: dict[str, Any]
) -> None:
    """A refused run names every customer that claims a shared subaccount, as far as it
    can know. One `account_sid` in two files is found offline, so nothing is asked of
    Twilio: the refusal names those files and says that a claim by the subaccount's name
    is Twilio's to show (the next plan shows it, once they are fixed). Otherwise it names
    every claimant the parent's listing shows. A customer is named by its file."""
    what = f"`wa-sync {' '.join(run.args)}`"
    assert run.code == 1, f"{what} exited {run.code}:\n{run.text}"
    twice = declared_twice(customers)
    if twice:
        asked = [f"{e['method']} {e['path']}" for e in run.log]
        assert not asked, f"{what} asked Twilio {asked} of an invalid configuration"
        assert UNSEEN_CLAIM in run.text, f"{what} does not say: {UNSEEN_CLAIM}:\n{run.text}"
        shared = twice
    else:
        shared = {sid: ids for sid, ids in claimants(customers, state).items() if len(ids) > 1}
    for sid, ids in sorted(shared.items()):
        missing = [cid for cid in sorted(ids) if f"customers/{cid}.yaml" not in run.text]
        assert not missing, (
            f"{what} does not name {missing} of the customers {sorted(ids)} that claim "
            f"{sid}:\n{run.text}"
        )


def refused_mass_delete(run: Run) -> bool:
    return run.code == 1 and "refusing to prune this much" in run.err


def mass_delete_justified(
    run: Run, customers: dict[str, CustomerSpec], state: dict[str, Any]
) -> None:
    """A prune refused for its share of deletions wrote nothing, and each customer it
    names has, in Twilio (`state`), at least MIN_MANAGED_OBJECTS senders and contents
    (wa-sync's records of deleted names not counted), of which the deletions are over
    MAX_DELETE_FRACTION."""
    assert not run.estate_writes(), f"a refused prune wrote: {run.estate_writes()}\n{run.text}"
    named = MASS_DELETE.findall(run.err)
    assert named, f"the mass-delete refusal names no customer:\n{run.text}"
    accounts = resolve(customers, state)
    for cid, deleted, managed in named:
        sids = accounts.get(cid, [])
        live = sum(len(state["senders"].get(sid, [])) for sid in sids) + sum(
            1
            for sid in sids
            for c in state["contents"].get(sid, [])
            if not str(c.get("friendly_name") or "").startswith(RETIRED_PREFIX)
        )
        assert int(managed) == live >= MIN_MANAGED_OBJECTS, (
            f"{cid}: the refusal counts {managed} managed objects, Twilio holds {live}"
        )
        assert live * MAX_DELETE_FRACTION < int(deleted) <= live, run.text
