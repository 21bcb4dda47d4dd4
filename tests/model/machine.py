"""The model-based test of issue 17: a hypothesis state machine over the real CLI and
the real emulator.

Rules edit the estate's YAML, play Twilio and Meta (the emulator's control API, and
the Console through the API with a subaccount's credentials), and run wa-sync: plain
applies, applies interrupted by SIGINT or SIGKILL, two applies at once, and an apply
followed by the emulator settling. After every step the invariants of
`tests/model/invariants.py` hold, checked on the emulator's state, its request log and
every output, and on the three formats of a fresh plan.
"""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.model import invariants as check
from tests.model.driver import Cli, Console, Run
from tests.model.estate import (
    ABOUTS,
    BODIES,
    CATEGORIES,
    CUSTOMER_IDS,
    LANGUAGES,
    MAX_TEMPLATES,
    TEMPLATE_NAMES,
    CustomerSpec,
    Estate,
    TemplateSpec,
    Verdict,
    owners,
    resolve,
    verdict,
)
from wa_sync.emulator import Emulator

PARALLELISM = 2  # of the applies run in their own process
LOCK_EXPIRY_S = 120  # past the apply lock's time to live (docs/reliability.md)
# Text from Twilio and Meta that a terminal, a CI log or a PR comment must not obey.
REASONS = (
    "INVALID_FORMAT",
    "TAG_CONTENT_MISMATCH \x1b[31mred\x1b[0m",
    "see \x1b]8;;https://evil.example\x07here\x1b]8;;\x07",
    "back\x08\x08\x08space and a bell\x07",
    "a C1 CSI \x9b2J here",
)
CONSOLE_ABOUTS = ("Edited in the Console", "Console \x1b[2J edit", "Console \x9b31m edit")
SENDER_STATUSES = ("OFFLINE", "CREATING", "PENDING_VERIFICATION", "ONLINE")
SUBACCOUNT_READS = r"^/(v2/Channels/Senders|v1/ContentAndApprovals)$"  # a customer's two

# How much the machine ran, for `make soak`'s closing line.
RAN: Counter[str] = Counter()

key_strategy = st.tuples(
    st.sampled_from(TEMPLATE_NAMES),
    st.sampled_from(LANGUAGES),
    st.sampled_from(CATEGORIES),
    st.integers(0, len(BODIES) - 1),
)


class EstateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        RAN["examples"] += 1
        # senders stay CREATING until the machine says otherwise (or settles)
        self.emulator = Emulator(sender_online_after=10**6).start()
        self.tmp = Path(tempfile.mkdtemp(prefix="wa-sync-model-"))
        self.estate = Estate(self.tmp / "repo")
        self.estate.write()
        self.cli = Cli(self.emulator, self.estate.root)
        self.console = Console(self.emulator)
        self.runs: list[Run] = []  # the CLI runs of the current step
        self.before: dict[str, Any] = self.emulator.state()  # the state the step began with

    def teardown(self) -> None:
        self.emulator.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers ----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return self.emulator.state()

    def step(self) -> None:
        RAN["steps"] += 1
        self.before = self.state()

    def edited(self) -> None:
        self.step()
        self.estate.write()

    @staticmethod
    def pick(data: st.DataObject, items: list[Any], label: str) -> Any:
        """One of `items` (None if there are none). Live objects depend on timing (an
        interrupted apply leaves more or less), so what is drawn is a plain number, the
        same draw whatever the list: hypothesis' replay stays consistent."""
        index = data.draw(st.integers(0, 7), label=label)
        if not items:
            return None
        item = items[index % len(items)]
        note(f"{label}: {item[1]['sid'] if isinstance(item, tuple) else item}")
        return item

    def pick_customer(self, data: st.DataObject) -> tuple[str, CustomerSpec]:
        cid = data.draw(st.sampled_from(sorted(self.estate.customers)), label="customer")
        return cid, self.estate.customers[cid]

    def contents(self, *statuses: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (account_sid, c)
            for account_sid, items in sorted(self.state()["contents"].items())
            for c in items
            if not statuses or c["approval"]["status"] in statuses
        ]

    def senders(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (account_sid, s)
            for account_sid, items in sorted(self.state()["senders"].items())
            for s in items
        ]

    def cli_run(self, *args: str) -> Run:
        run = self.cli.run(*args)
        self.runs.append(run)
        return run

    def expect_outcome(self, run: Run, judged: Verdict, state: dict[str, Any]) -> None:
        """A valid estate plans and applies cleanly; a conflicting one is refused, naming
        every claimant it can know (`state`: the one `judged` was made on)."""
        if judged is Verdict.VALID:
            assert run.code == 0, f"`wa-sync {' '.join(run.args)}` exited {run.code}:\n{run.text}"
        elif judged is Verdict.CONFLICT:
            check.refused_naming_claimants(run, self.estate.customers, state)

    # --- configuration edits ------------------------------------------------------------

    has_customers = precondition(lambda self: bool(self.estate.customers))

    @precondition(lambda self: len(self.estate.customers) < len(CUSTOMER_IDS))
    @rule(data=st.data(), sender=st.booleans(), keys=st.lists(key_strategy, min_size=1, max_size=2))
    def add_customer(self, data: st.DataObject, sender: bool, keys: list[tuple]) -> None:
        free = [c for c in CUSTOMER_IDS if c not in self.estate.customers]
        cid = data.draw(st.sampled_from(free), label="new customer")
        spec = CustomerSpec(n=CUSTOMER_IDS.index(cid) + 1)
        if sender:
            spec.senders[self.estate.new_phone()] = 0
        for name, language, category, body in keys:
            spec.templates[(name, language)] = TemplateSpec(category, body)
        self.estate.customers[cid] = spec
        self.edited()

    @has_customers
    @rule(data=st.data())
    def remove_customer(self, data: st.DataObject) -> None:
        cid, _ = self.pick_customer(data)
        del self.estate.customers[cid]
        self.edited()

    @has_customers
    @rule(data=st.data(), key=key_strategy)
    def add_template(self, data: st.DataObject, key: tuple) -> None:
        _, spec = self.pick_customer(data)
        name, language, category, body = key
        if len(spec.templates) < MAX_TEMPLATES:
            spec.templates[(name, language)] = TemplateSpec(category, body)
        self.edited()

    def pick_template(self, data: st.DataObject) -> tuple[CustomerSpec, tuple[str, str] | None]:
        _, spec = self.pick_customer(data)
        if not spec.templates:
            return spec, None
        return spec, data.draw(st.sampled_from(sorted(spec.templates)), label="template")

    @has_customers
    @rule(data=st.data(), body=st.integers(0, len(BODIES) - 1))
    def change_template(self, data: st.DataObject, body: int) -> None:
        spec, key = self.pick_template(data)
        if key is not None:
            spec.templates[key].body = body
        self.edited()

    @has_customers
    @rule(data=st.data())
    def change_category(self, data: st.DataObject) -> None:
        spec, key = self.pick_template(data)
        if key is not None:
            template = spec.templates[key]
            template.category = next(c for c in CATEGORIES if c != template.category)
        self.edited()

    @has_customers
    @rule(data=st.data())
    def remove_template(self, data: st.DataObject) -> None:
        spec, key = self.pick_template(data)
        if key is not None:
            del spec.templates[key]
        self.edited()

    @has_customers
    @rule(data=st.data())
    def add_sender(self, data: st.DataObject) -> None:
        _, spec = self.pick_customer(data)
        if len(spec.senders) < 2:
            spec.senders[self.estate.new_phone()] = 0
        self.edited()

    @has_customers
    @rule(data=st.data(), about=st.integers(0, len(ABOUTS) - 1))
    def change_sender(self, data: st.DataObject, about: int) -> None:
        _, spec = self.pick_customer(data)
        if spec.senders:
            phone = data.draw(st.sampled_from(sorted(spec.senders)), label="sender")
            spec.senders[phone] = about
        self.edited()

    @has_customers
    @rule(data=st.data())
    def remove_sender(self, data: st.DataObject) -> None:
        _, spec = self.pick_customer(data)
        if spec.senders:
            del spec.senders[data.draw(st.sampled_from(sorted(spec.senders)), label="sender")]
        self.edited()

    def moved(self, spec: CustomerSpec) -> None:
        """A customer moving to another subaccount keeps its senders' roles with new
        numbers: a number registers once, and the old ones stay where they are."""
        spec.senders = {self.estate.new_phone(): about for about in spec.senders.values()}

    @has_customers
    @rule(data=st.data())
    def adopt(self, data: st.DataObject) -> None:
        """`account_sid:` naming any subaccount: made by hand, another customer's, one
        left by a removed customer."""
        cid, spec = self.pick_customer(data)
        current = set(resolve(self.estate.customers, self.state())[cid])
        candidates = [a["sid"] for a in self.state()["accounts"] if a["sid"] not in current]
        picked = self.pick(data, candidates, "account_sid")
        if picked:
            spec.account_sid = picked
            self.moved(spec)
        self.edited()

    @has_customers
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        """Drop `account_sid:`: the customer is `wa-sync:<id>`'s again."""
        _, spec = self.pick_customer(data)
        if spec.account_sid:
            spec.account_sid = None
            self.moved(spec)
        self.edited()

    # --- Twilio and Meta on their own -------------------------------------------------

    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        self.step()
        picked = self.pick(data, self.contents("received"), "content")
        if picked:
            self.emulator.approve(picked[1]["sid"])

    @rule(data=st.data(), reason=st.sampled_from(REASONS))
    def reject(self, data: st.DataObject, reason: str) -> None:
        self.step()
        picked = self.pick(data, self.contents("received"), "content")
        if picked:
            self.emulator.reject(picked[1]["sid"], reason=reason)

    @rule(data=st.data())
    def recategorise(self, data: st.DataObject) -> None:
        """Meta moves an approved template to another category."""
        self.step()
        picked = self.pick(data, self.contents("approved"), "content")
        if picked:
            content = picked[1]
            category = next(c for c in CATEGORIES if c != content["approval"]["category"])
            self.emulator.recategorise(content["sid"], category)

    @rule(data=st.data(), status=st.sampled_from(SENDER_STATUSES))
    def sender_status(self, data: st.DataObject, status: str) -> None:
        self.step()
        picked = self.pick(data, self.senders(), "sender")
        if picked:
            self.emulator.set_sender_status(picked[1]["sid"], status)

    @rule(data=st.data(), about=st.sampled_from(CONSOLE_ABOUTS))
    def console_edits_profile(self, data: st.DataObject, about: str) -> None:
        self.step()
        picked = self.pick(data, self.senders(), "sender")
        if picked:
            account_sid, sender = picked
            assert self.console.edit_profile(account_sid, sender["sid"], about) == 202

    @rule(data=st.data())
    def console_edits_content(self, data: st.DataObject) -> None:
        """Only an unsubmitted content can change (Twilio: 92009)."""
        self.step()
        picked = self.pick(data, self.contents("unsubmitted"), "content")
        if picked:
            account_sid, content = picked
            status = self.console.edit_content(account_sid, content["sid"], "Hi {{1}}, edited.")
            assert status == 200

    @rule(data=st.data())
    def console_deletes_content(self, data: st.DataObject) -> None:
        """Not an approved one: WhatsApp would block its name for 30 days."""
        self.step()
        picked = self.pick(data, self.contents("unsubmitted", "received", "rejected"), "content")
        if picked:
            account_sid, content = picked
            assert self.console.delete_content(account_sid, content["sid"]) == 204

    @rule(data=st.data())
    def hand_made_subaccount(self, data: st.DataObject) -> None:
        """A subaccount made outside wa-sync: unrelated, or `wa-sync:<id>` for an id not
        in the configuration (as an older version of wa-sync left it)."""
        self.step()
        taken = {a["friendly_name"] for a in self.state()["accounts"]}
        names = [f"hand-{len(taken)}"] + [
            f"wa-sync:{cid}"
            for cid in CUSTOMER_IDS
            if cid not in self.estate.customers and f"wa-sync:{cid}" not in taken
        ]
        self.emulator.create_subaccount(self.pick(data, names, "name"))

    def pick_account(self, data: st.DataObject) -> str | None:
        return self.pick(data, [a["sid"] for a in self.state()["accounts"]], "account")

    @rule(data=st.data(), submit=st.booleans())
    def hand_made_content(self, data: st.DataObject, submit: bool) -> None:
        self.step()
        account_sid = self.pick_account(data)
        if account_sid is not None:
            name = f"hand_{len(self.contents())}"
            # 409: the name is taken, or blocked for 30 days after an approved one's deletion
            assert self.console.add_content(account_sid, name, submit=submit) in (200, 201, 409)

    @rule(data=st.data())
    def hand_made_sender(self, data: st.DataObject) -> None:
        self.step()
        account_sid = self.pick_account(data)
        if account_sid is not None:
            assert self.console.add_sender(account_sid, self.estate.new_phone()) == 202

    # --- wa-sync ----------------------------------------------------------------------

    def apply_args(self, prune: bool, *, gated: bool = False) -> tuple[str, ...]:
        """`gated`: a prune may be refused by the mass-delete threshold (SPEC §4.5); the
        other rules' prunes are allowed it, as an operator who has checked them."""
        allowed = ("--allow-mass-delete",) if prune and not gated else ()
        return ("apply", "--auto-approve", *(("--prune",) if prune else ()), *allowed)

    @rule(prune=st.booleans())
    def apply(self, prune: bool) -> None:
        """A plain apply. A prune refused by the mass-delete threshold (the Console's
        objects are pruned too) must be justified and write nothing; the operator, having
        checked, then allows it."""
        self.step()
        judged = verdict(self.estate.customers, self.before)
        run = self.cli_run(*self.apply_args(prune, gated=True))
        if judged is Verdict.VALID and check.refused_mass_delete(run):
            check.mass_delete_justified(run, self.estate.customers, self.before)
            run = self.cli_run(*self.apply_args(prune))
        self.expect_outcome(run, judged, self.before)

    @rule(prune=st.booleans())
    def apply_then_settle(self, prune: bool) -> None:
        """An uninterrupted apply, then Twilio and Meta settle (every submission
        approved, every sender online): the next plan has no changes."""
        self.apply(prune)
        for _, content in self.contents("received"):
            self.emulator.approve(content["sid"])
        for _, sender in self.senders():
            if sender["status"] != "ONLINE":
                self.emulator.set_sender_status(sender["sid"], "ONLINE")
        judged = verdict(self.estate.customers, self.state())
        final = self.cli_run("plan", "--detailed-exitcode")
        if judged is Verdict.VALID:
            assert final.code == 0, f"plan after apply and settling exited {final.code}:\n" + (
                final.text
            )

    @rule(data=st.data(), prune=st.booleans())
    def apply_with_one_subaccount_unanswered(self, data: st.DataObject, prune: bool) -> None:
        """Twilio refuses every read of one subaccount (SPEC §4.2): the apply goes on for
        the other customers, writes nothing into that one, and says so with exit 1."""
        self.step()
        owned = owners(self.estate.customers, self.before)
        account_sid = self.pick(data, sorted(owned), "account")
        if account_sid is None:
            return
        judged = verdict(self.estate.customers, self.before)
        self.emulator.fail_next(
            "GET", SUBACCOUNT_READS, status=403, count=10**6, account=account_sid
        )
        try:
            run = self.cli_run(*self.apply_args(prune))
        finally:
            self.emulator.faults.clear()  # the pending rule with it
        wrote = [f"{e['method']} {e['path']}" for e in run.estate_writes()
                 if e["account_sid"] == account_sid]  # fmt: skip
        assert not wrote, f"apply wrote into {account_sid}, which it could not read: {wrote}"
        owner = sorted(owned[account_sid])
        if judged is not Verdict.VALID:
            self.expect_outcome(run, judged, self.before)
            return
        assert run.code == 1, f"apply with {owner[0]} unread exited {run.code}:\n{run.text}"
        told = f"customer.{owner[0]}: Twilio could not be read for this customer"
        assert told in run.out or f"({owner[0]})" in run.err, run.text

    @rule(
        kind=st.sampled_from(("SIGINT", "SIGINT twice", "SIGKILL")),
        after_writes=st.integers(0, 5),
        latency_ms=st.sampled_from((60, 150)),
        prune=st.booleans(),
        lock=st.sampled_from(("unlock", "expire")),
    )
    def interrupted_apply(
        self, kind: str, after_writes: int, latency_ms: int, prune: bool, lock: str
    ) -> None:
        """An apply stopped by a signal. A single SIGINT lets it release the apply lock;
        after a second signal or SIGKILL the lock is left, and the operator removes it
        (`wa-sync unlock --yes`) or it expires (the emulated clock passes its TTL)."""
        self.step()
        try:
            self.signalled(kind, after_writes, latency_ms, prune)
        finally:
            if kind != "SIGINT":
                self.release_lock(lock)

    def release_lock(self, how: str) -> None:
        if how == "expire":
            self.emulator.advance_clock(LOCK_EXPIRY_S)
            return
        run = self.cli_run("unlock", "--yes")
        assert run.code == 0, f"`wa-sync unlock --yes` exited {run.code}:\n{run.text}"

    def signalled(self, kind: str, after_writes: int, latency_ms: int, prune: bool) -> None:
        signals = {
            "SIGINT": (signal.SIGINT,),
            "SIGINT twice": (signal.SIGINT, signal.SIGINT),
            "SIGKILL": (signal.SIGKILL,),
        }[kind]
        report = self.tmp / f"report-{RAN['steps']}.jsonl"
        args = (*self.apply_args(prune), "--parallelism", str(PARALLELISM), "--report", str(report))
        self.emulator.set_faults(latency_ms=latency_ms)
        try:
            run, sent_at = self.cli.interrupted(
                args, after_writes=after_writes, signals=signals, linger=latency_ms / 1000 + 0.2
            )
        finally:
            self.emulator.set_faults()
        if kind == "SIGKILL":
            return  # nothing to read from it; the invariants judge what it left
        self.runs.append(run)
        if sent_at is None:
            return  # it had finished before the signal
        late = [f"{e['method']} {e['template']}" for e in run.estate_writes()
                if e["started"] > sent_at]  # fmt: skip
        assert len(late) <= PARALLELISM, (
            f"{len(late)} writes started after {kind} (at most {PARALLELISM} may be on "
            f"their way): {late}\n{run.text}"
        )
        # a signal that comes once the last change is made has nothing left to stop: the
        # apply's own result stands (complete, or finished with failures)
        done = any(
            end in run.out
            for end in ("Nothing to apply.", "Apply complete", "Apply finished with failures")
        )
        finished = run.code in (0, 1) and done and not late
        # A second SIGINT that lands while the process is already ending (after the first
        # stopped it before any write: interpreter exit takes tens of ms) ends it as the
        # system does, as a signal's death: -2 here, 130 to a shell, as the first's exit.
        ended_by_it = (
            kind == "SIGINT twice"
            and run.code == -signal.SIGINT
            and ("Interrupted (SIGINT)" in run.err)
        )
        stopped = run.code == 130 or ended_by_it
        assert stopped or finished, f"apply after {kind} exited {run.code}:\n{run.text}"
        if run.code == 130 and kind == "SIGINT" and report.exists():  # its end line
            last = json.loads(report.read_text(encoding="utf-8").splitlines()[-1])
            assert last.get("type") == "summary", f"the --report after SIGINT ends with {last}"

    @rule(prune=st.booleans(), latency_ms=st.sampled_from((0, 30)))
    def two_applies_at_once(self, prune: bool, latency_ms: int) -> None:
        self.step()
        args = (*self.apply_args(prune), "--parallelism", str(PARALLELISM))
        self.emulator.set_faults(latency_ms=latency_ms)
        try:
            runs = self.cli.together(args, args)
        finally:
            self.emulator.set_faults()
        self.runs += runs
        for run in runs:
            assert run.code in (0, 1), f"an apply of two at once exited {run.code}:\n{run.text}"

    # --- after every step -------------------------------------------------------------

    @invariant()
    def holds(self) -> None:
        runs, self.runs = self.runs, []
        state = self.state()
        customers = self.estate.customers
        judged = verdict(customers, state)
        plans = {fmt: self.cli.run("plan", "--format", fmt) for fmt in ("text", "json", "markdown")}
        check.no_duplicates(state)
        everything = [*runs, *plans.values()]
        check.no_control_characters(everything)
        check.no_internal_error(everything)
        check.writes_only_into_own_subaccounts(runs, customers, state)
        check.nothing_written_when_refused(runs, judged)
        check.deletes_are_allowed(runs, customers, self.before)
        for run in plans.values():
            assert not run.writes(), f"`wa-sync {' '.join(run.args)}` wrote {run.writes()}"
            self.expect_outcome(run, judged, state)
        if judged is Verdict.VALID:
            check.plans_show_undeclared(plans, customers, state)
            check.plans_show_unmanaged_subaccounts(plans, customers, state)
