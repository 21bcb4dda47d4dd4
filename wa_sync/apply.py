"""The apply executor: a Plan and a Gateway in, one Outcome per change out.

Per customer the changes run in phase order (subaccount, senders, contents,
approvals, clean-up); customers run in parallel. A failure stops only its own
customer: the rest of that customer's changes are skipped, since later phases
depend on earlier ones. Every write is idempotent by identity (SPEC §4.3), so the
next apply completes whatever an interrupted one left.

Once `stopped()` is true no new change starts (SPEC §4.8, wa_sync/interrupts.py): the
changes in flight finish, every other one is reported NOT_STARTED. `checkpoint()`
raising (a second signal) leaves at once, without waiting for those in flight.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from wa_sync.errors import TwilioError, WaSyncError
from wa_sync.gateway.base import Gateway, NotFound
from wa_sync.model import (
    NAME_REUSE_DAYS,
    Config,
    Customer,
    LiveAccount,
    LiveCustomer,
    LiveEstate,
    Sender,
    Template,
)
from wa_sync.plan.change import Action, Change, Phase, Plan
from wa_sync.plan.retired import refused_record, retired_record

CONFLICT = 409  # Twilio's answer to a submission under a name WhatsApp holds


class Result(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # an earlier change of the same customer failed
    NOT_STARTED = "not_started"  # apply was stopped before it (SPEC §4.8)
    UNKNOWN = "unknown"  # stopped at once: in flight or not started (commands/execution.py)


@dataclass(frozen=True, slots=True)
class Outcome:
    change: Change
    result: Result
    error: str = ""
    sid: str | None = None
    finished_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )

    @property
    def ok(self) -> bool:
        return self.result is Result.OK

    def as_record(self) -> dict[str, object]:
        """The audit-trail form (apply --report): no secret can be in it."""
        c = self.change
        return {
            "address": c.address,
            "customer": c.customer,
            "action": c.action.value,
            "phase": c.phase.name.lower(),
            "cause": c.cause.value,
            "result": self.result.value,
            "error": self.error,
            "sid": self.sid or c.ref,
            "time": self.finished_at,
        }


OnOutcome = Callable[[Outcome], None]


def apply_plan(
    plan: Plan,
    config: Config,
    live: LiveEstate,
    gateway: Gateway,
    *,
    parallelism: int,
    on_outcome: OnOutcome = lambda outcome: None,
    stopped: Callable[[], bool] = lambda: False,
    checkpoint: Callable[[], None] = lambda: None,
) -> list[Outcome]:
    """Carry out every actionable change; return the outcomes in completion order.
    `checkpoint` raises to stop at once (a second signal): called each half second."""
    by_customer: dict[str, list[Change]] = defaultdict(list)
    for change in plan.actionable:
        by_customer[change.customer].append(change)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def report(outcome: Outcome) -> None:
        with lock:
            outcomes.append(outcome)
            on_outcome(outcome)

    def run(customer_id: str) -> None:
        customer = config.customer(customer_id)
        if customer is None:  # a plan never holds changes for undeclared customers
            raise WaSyncError(f"customer {customer_id!r} is not in the configuration")
        current = live.customers.get(customer_id) or LiveCustomer(customer_id=customer_id)
        records = {(r.friendly_name, r.language) for r in current.retired}
        run = _CustomerRun(customer, current.account, gateway, report, stopped, records)
        run.run(by_customer[customer_id])

    pool = ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="apply")
    try:
        pending = {pool.submit(run, cid) for cid in sorted(by_customer)}
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            for future in done:
                future.result()  # a customer's run that raised
            checkpoint()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # the writes in flight are left
        raise
    pool.shutdown()
    return outcomes


class _CustomerRun:
    """The sequential work for one customer, holding what earlier phases produced."""

    def __init__(
        self,
        customer: Customer,
        account: LiveAccount | None,
        gateway: Gateway,
        report: OnOutcome,
        stopped: Callable[[], bool],
        records: set[tuple[str, str]],
    ):
        self.customer = customer
        self.account = account
        self.gateway = gateway
        self.report = report
        self.stopped = stopped
        self.created_contents: dict[str, str] = {}  # change address -> new content SID
        self.records = records  # wa-sync's name-block records, live: (name, language)

    def run(self, changes: list[Change]) -> None:
        ordered = sorted(changes, key=lambda c: (int(c.phase), c.address))
        for index, change in enumerate(ordered):
            if self.stopped():
                for rest in ordered[index:]:
                    self.report(Outcome(rest, Result.NOT_STARTED, error="not started"))
                return
            try:
                sid = self.execute(change)
            except WaSyncError as exc:
                self.report(Outcome(change, Result.FAILED, error=str(exc)))
                for rest in ordered[index + 1 :]:
                    reason = f"skipped: {change.address} failed first"
                    self.report(Outcome(rest, Result.SKIPPED, error=reason))
                return
            self.report(Outcome(change, Result.OK, sid=sid))

    def require_account(self) -> LiveAccount:
        if self.account is None:
            raise WaSyncError(f"{self.customer.id}: the subaccount does not exist yet")
        return self.account

    def execute(self, change: Change) -> str | None:
        if change.action is Action.DELETE:  # senders and contents, whatever the phase
            # what follows the customer: "sender.<id>" or "template.<name>[<lang>]"
            kind = change.address.partition("/")[2].partition(".")[0]
            return self.delete_sender(change) if kind == "sender" else self.delete_content(change)
        handler = _HANDLERS.get((change.phase, change.action))
        if handler is None:
            raise WaSyncError(
                f"{change.address}: apply cannot {change.action} in {change.phase.name}"
            )
        return handler(self, change)

    # --- subaccount -------------------------------------------------------------

    def create_subaccount(self, change: Change) -> str:
        self.account = self.gateway.create_subaccount(self.customer)
        return self.account.sid

    # --- senders ----------------------------------------------------------------

    def _sender(self, change: Change) -> Sender:
        if not isinstance(change.subject, Sender):
            raise WaSyncError(f"{change.address}: no declared sender to apply")
        return change.subject

    def _waba_id(self) -> str:
        if not self.customer.waba_id:
            raise WaSyncError(f"{self.customer.id}: waba_id is required to register senders")
        return self.customer.waba_id

    def create_sender(self, change: Change) -> str:
        sender = self._sender(change)
        return self.gateway.create_sender(self.require_account(), sender, self._waba_id()).sid

    def update_sender(self, change: Change) -> str:
        sender, sid = self._sender(change), _ref(change)
        return self.gateway.update_sender(self.require_account(), sid, sender).sid

    def delete_sender(self, change: Change) -> str:
        _ignore_missing(lambda: self.gateway.delete_sender(self.require_account(), _ref(change)))
        return _ref(change)

    # --- contents and approvals -------------------------------------------------

    def _template(self, change: Change) -> Template:
        if not isinstance(change.subject, Template):
            raise WaSyncError(f"{change.address}: no declared template to apply")
        return change.subject

    def _friendly_name(self, change: Change) -> str:
        after = change.after or {}
        return str(after.get("friendly_name") or self._template(change).name)

    def create_content(self, change: Change) -> str:
        template = self._template(change)
        content = self.gateway.create_content(
            self.require_account(), template, self._friendly_name(change)
        )
        self.created_contents[change.address] = content.sid
        return content.sid

    def replace_content(self, change: Change) -> str:
        """A rollout (`_vN`) keeps the old content in service; a replacement under
        the same name (never submitted, or rejected) deletes the old one first."""
        same_name = (change.before or {}).get("friendly_name") == self._friendly_name(change)
        if change.ref and same_name:
            account = self.require_account()
            _ignore_missing(lambda: self.gateway.delete_content(account, str(change.ref)))
        return self.create_content(change)

    def submit(self, change: Change) -> str:
        template = self._template(change)
        sid = self.created_contents.get(change.address) or change.ref
        if not sid:
            raise WaSyncError(f"{change.address}: no content to submit (its creation failed)")
        after = change.after or {}
        name = str(after.get("name") or template.name)
        category = str(after.get("category") or template.category)
        try:
            self.gateway.submit(self.require_account(), sid, name, category)
        except TwilioError as exc:
            if exc.status != CONFLICT:
                raise
            self._refused(name, template.language, exc)
        return sid

    def _refused(self, name: str, language: str, exc: TwilioError) -> None:
        """WhatsApp refused a name the plan saw free in Twilio: held by an approved
        template deleted in the console within NAME_REUSE_DAYS. Recorded as a block
        (plan/retired.py), so later plans hold the template instead of failing again."""
        record, friendly_name = refused_record(name, language, datetime.now(UTC))
        if (friendly_name, language) not in self.records:
            self.gateway.create_content(self.require_account(), record, friendly_name)
            self.records.add((friendly_name, language))
        raise WaSyncError(
            f"{exc}. WhatsApp blocks the name {name}: an approved template of that name was "
            f"deleted (in the Twilio console?) less than {NAME_REUSE_DAYS} days ago. wa-sync "
            "recorded it: plan now holds the template until the name is released; to send "
            "it sooner, declare it under another name"
        ) from exc

    def delete_content(self, change: Change) -> str:
        """Deletes the content. When it was approved, first leaves the record of its
        name's 30-day block that later plans read (plan/retired.py): an apply stopped
        in between then leaves a record too many, never a block unrecorded (one made by
        such an apply in this very second is that record already)."""
        account = self.require_account()
        retired = retired_record(change.before or {}, datetime.now(UTC))
        if retired is not None:
            record = (retired[1], retired[0].language)
            if record not in self.records:
                self.gateway.create_content(account, *retired)
                self.records.add(record)
        _ignore_missing(lambda: self.gateway.delete_content(account, _ref(change)))
        return _ref(change)


def _ref(change: Change) -> str:
    if not change.ref:
        raise WaSyncError(f"{change.address}: the plan names no Twilio SID to act on")
    return change.ref


def _ignore_missing(delete: Callable[[], None]) -> None:
    """A delete whose object is already gone has reached its goal (a rerun after a
    lost response, or someone deleted it by hand)."""
    with contextlib.suppress(NotFound):
        delete()


Handler = Callable[[_CustomerRun, Change], str | None]
_HANDLERS: Mapping[tuple[Phase, Action], Handler] = {
    (Phase.SUBACCOUNT, Action.CREATE): _CustomerRun.create_subaccount,
    (Phase.SENDER, Action.CREATE): _CustomerRun.create_sender,
    (Phase.SENDER, Action.UPDATE): _CustomerRun.update_sender,
    (Phase.CONTENT, Action.CREATE): _CustomerRun.create_content,
    (Phase.CONTENT, Action.REPLACE): _CustomerRun.replace_content,
    (Phase.APPROVAL, Action.SUBMIT): _CustomerRun.submit,
}
