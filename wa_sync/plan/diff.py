"""The pure diff: one declared customer and what Twilio holds for it in, the
Changes and Notes that make them equal out (SPEC §4.1-§4.5).

Templates follow WhatsApp's rules: content that was submitted can never change,
so a changed approved (or in-review) template is rolled out as `<name>_v<N>`
while the old version stays in service; a template never submitted, or rejected,
is replaced under its own name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wa_sync.health import PENDING_VERIFICATION, next_step
from wa_sync.model import (
    ApprovalStatus,
    Customer,
    Isv,
    LiveContent,
    LiveCustomer,
    LiveSender,
    Sender,
    Template,
)
from wa_sync.plan.change import Action, Cause, Change, Gate, Note, NoteKind, Phase
from wa_sync.plan.gates import sender_gate, submit_gate
from wa_sync.plan.normalise import content_state, field_diff, sender_state

ONLINE = "ONLINE"
UNDECLARED = "not declared in the configuration (prune is on)"
# Sender statuses that mean Twilio or Meta is still working on it.
SENDER_WAITING = {"CREATING", "PENDING_VERIFICATION", "VERIFYING", "TWILIO_REVIEW", "DRAFT"}

# Says whether the files an object is declared in changed since the base revision.
CauseOf = Callable[[Iterable[str]], Cause]
Files = tuple[str, ...]  # the files an object is declared in


def always_config(files: Iterable[str]) -> Cause:
    return Cause.CONFIG


@dataclass
class _Out:
    customer: Customer
    cause_of: CauseOf
    isv: Isv = field(default_factory=Isv)  # its Tech Provider status gates embedded_signup
    changes: list[Change] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def address(self, local: str = "") -> str:
        return f"{self.customer.address}/{local}" if local else self.customer.address

    def change(
        self,
        local: str,
        action: Action,
        phase: Phase,
        *,
        cause: Cause | None = None,
        declared_in: Sequence[str] = (),
        **kw: Any,
    ) -> None:
        """A change; its cause is given, or asked of git from the files the object is
        `declared_in` only now: a plan without changes runs no git at all."""
        self.changes.append(
            Change(
                customer=self.customer.id,
                address=self.address(local),
                action=action,
                phase=phase,
                cause=cause if cause is not None else self.cause_of(declared_in),
                **kw,
            )
        )

    def note(self, local: str, kind: NoteKind, message: str) -> None:
        self.notes.append(
            Note(customer=self.customer.id, address=self.address(local), kind=kind, message=message)
        )

    def gated(
        self, local: str, action: Action, phase: Phase, gate: Gate | None, *, would: str, **kw: Any
    ) -> bool:
        """The change, or the same change BLOCKED at `gate`; True when actionable."""
        if gate is None:
            self.change(local, action, phase, **kw)
            return True
        kw["reason"] = f"would {would}; blocked at {gate.describe()}"
        self.change(local, Action.BLOCKED, phase, blocked_by=gate, **kw)
        return False

    def unwanted(self, local: str, *, prune: bool, why: str, kept: str, **kw: Any) -> None:
        """An object the configuration no longer wants: deleted with prune (`kw` as for
        `change`: before, ref, cause or declared_in), else a note."""
        if prune:
            self.change(local, Action.DELETE, Phase.CLEANUP, reason=why, **kw)
        else:
            self.note(local, NoteKind.INFO, kept)


def diff_customer(
    customer: Customer,
    live: LiveCustomer,
    *,
    prune: bool,
    cause_of: CauseOf = always_config,
    isv: Isv | None = None,
) -> tuple[list[Change], list[Note]]:
    if live.account is None:  # nothing of this customer is in Twilio yet: nothing drifted
        cause_of = always_config
    out = _Out(customer, cause_of, isv or Isv())
    _subaccount(out, live)
    planned_senders = _senders(out, live, prune=prune)
    sender_ready = planned_senders or any(s.status == ONLINE for s in live.senders)
    _templates(out, live, prune=prune, sender_ready=sender_ready)
    return out.changes, out.notes


# --- subaccount ------------------------------------------------------------------


def _subaccount(out: _Out, live: LiveCustomer) -> None:
    customer = out.customer
    account = live.account
    if account is None:
        if customer.account_sid:
            out.note(
                "",
                NoteKind.WARNING,
                f"the subaccount {customer.account_sid} named by `account_sid` is not "
                "a subaccount of this parent account; fix `account_sid` or remove it "
                "to create a new subaccount",
            )
            return
        out.change(
            "",
            Action.CREATE,
            Phase.SUBACCOUNT,
            after={"friendly_name": customer.friendly_name},
            cause=Cause.CONFIG,
            reason="no subaccount for this customer yet",
            subject=customer,
        )
        return
    if account.status != "active":
        out.note(
            "",
            NoteKind.WARNING,
            f"the subaccount {account.sid} is {account.status}; Twilio refuses "
            "changes to it until it is active again",
        )


# --- senders -----------------------------------------------------------------------


def _senders(out: _Out, live: LiveCustomer, *, prune: bool) -> bool:
    """Plan the senders; True when a sender create or update is actionable."""
    customer = out.customer
    gate = sender_gate(customer, out.isv)
    live_by_id = {s.sender_id: s for s in live.senders}
    actionable = False
    for sender in customer.senders:
        current = live_by_id.get(sender.sender_id)
        files = (sender.where.file, customer.where.file)
        if current is None:
            actionable |= _sender_change(out, sender, None, gate, files)
            continue
        before, after = sender_state(current), sender_state(sender)
        if before != after:
            actionable |= _sender_change(out, sender, current, gate, files)
        _sender_notes(out, sender.address, current)
    declared = {s.sender_id for s in customer.senders}
    for current in live.senders:
        if current.sender_id in declared:
            continue
        out.unwanted(
            f"sender.{current.sender_id}",
            prune=prune,
            before=sender_state(current),
            ref=current.sid,
            declared_in=(customer.where.file,),
            why=UNDECLARED,
            kept=f"sender {current.sender_id} ({current.sid}) is not declared; kept "
            "because prune is off",
        )
    return actionable


def _sender_change(
    out: _Out, sender: Sender, current: LiveSender | None, gate: Gate | None, files: Files
) -> bool:
    after = sender_state(sender)
    if current is None:
        action, before, reason = Action.CREATE, None, "declared but not registered in Twilio"
    else:
        before = sender_state(current)
        changed = field_diff(before, after)
        action, reason = Action.UPDATE, "changed: " + ", ".join(changed)
    return out.gated(
        sender.address,
        action,
        Phase.SENDER,
        gate,
        would=f"{action.value} the sender",
        before=before,
        after=after,
        declared_in=files,
        reason=reason,
        subject=sender,
        ref=current.sid if current else None,
    )


def _sender_notes(out: _Out, local: str, current: LiveSender) -> None:
    if current.status == PENDING_VERIFICATION:  # a person must give the one-time code
        out.note(
            local,
            NoteKind.WARNING,
            f"sender {current.sender_id} is {PENDING_VERIFICATION}: "
            + next_step(out.customer.id, current),
        )
    elif current.status in SENDER_WAITING:
        out.note(
            local,
            NoteKind.WAITING,
            f"sender {current.sender_id} is {current.status}: Twilio and Meta are verifying it",
        )
    elif current.status != ONLINE:
        reasons = "; ".join(current.offline_reasons)
        out.note(
            local,
            NoteKind.WARNING,
            f"sender {current.sender_id} is {current.status}" + (f": {reasons}" if reasons else ""),
        )
    # Twilio reports Meta's refusal as DECLINED (ChannelsSenderInstance docs)
    if (current.pending_display_name_status or "").upper() in ("DECLINED", "REJECTED"):
        out.note(
            local,
            NoteKind.WARNING,
            f"the display name {current.pending_display_name!r} was rejected by Meta; "
            "until a display name is approved the sender is limited to 250 "
            "business-initiated conversations a day",
        )


# --- templates -----------------------------------------------------------------------


def _content_after(template: Template, friendly_name: str) -> dict[str, Any]:
    return {"friendly_name": friendly_name, **content_state(template)}


def _content_before(content: LiveContent) -> dict[str, Any]:
    return {
        "friendly_name": content.friendly_name,
        **content_state(content),
        "approval_status": str(content.approval_status),
    }


def _templates(out: _Out, live: LiveCustomer, *, prune: bool, sender_ready: bool) -> None:
    customer = out.customer
    gate = submit_gate(customer, sender_ready=sender_ready, isv=out.isv)
    keep: set[str] = set()  # SIDs that stay
    for template in customer.templates:
        versions = live.versions(template.name, template.language)
        _template(out, template, versions, gate, (template.where.file, customer.where.file))
        keep |= _kept_versions(versions)
        for old in versions:
            if old.sid in keep:
                continue
            _superseded(out, template, old, prune)
            keep.add(old.sid)  # handled: not undeclared
    declared = {(t.name, t.language) for t in customer.templates}
    for content in live.contents:
        if content.sid in keep:
            continue
        base, _ = content.base_name_and_version
        if (base, content.language) in declared:
            continue
        out.unwanted(
            f"template.{content.friendly_name}[{content.language}]",
            prune=prune,
            before=_content_before(content),
            ref=content.sid,
            declared_in=(customer.where.file,),
            why=UNDECLARED,
            kept=f"template {content.friendly_name} [{content.language}] ({content.sid}) "
            "is not declared; kept because prune is off",
        )


def _kept_versions(versions: tuple[LiveContent, ...]) -> set[str]:
    """The newest version (the one being worked on) and the newest approved one
    (the one in service) stay; anything older is superseded."""
    if not versions:
        return set()
    keep = {versions[-1].sid}
    approved = [v for v in versions if v.approval_status is ApprovalStatus.APPROVED]
    if approved:
        keep.add(approved[-1].sid)
    return keep


def _superseded(out: _Out, template: Template, old: LiveContent, prune: bool) -> None:
    out.unwanted(
        f"template.{old.friendly_name}[{old.language}]",
        prune=prune,
        before=_content_before(old),
        ref=old.sid,
        cause=Cause.CONFIG,
        why=f"superseded by a newer version of {template.name}",
        kept=f"{old.friendly_name} [{old.language}] ({old.sid}) is superseded by a newer "
        "version; `--prune` deletes it",
    )


def _template(
    out: _Out,
    template: Template,
    versions: tuple[LiveContent, ...],
    gate: Gate | None,
    files: Files,
) -> None:
    local = template.address
    if not versions:
        out.change(
            local,
            Action.CREATE,
            Phase.CONTENT,
            after=_content_after(template, template.name),
            declared_in=files,
            reason="declared but not in Twilio",
            subject=template,
        )
        _submit(out, template, template.name, None, gate, files)
        return
    newest = versions[-1]
    status = newest.approval_status
    if _same_as_declared(newest, template) or content_state(newest) == content_state(template):
        _same_content(out, template, newest, gate, files)
        return
    if status.locked and status is not ApprovalStatus.REJECTED:
        # WhatsApp never lets submitted content change: roll out the next version.
        _, highest = newest.base_name_and_version
        name = f"{template.name}_v{highest + 1}"
        why = (
            f"{newest.friendly_name} is {status.value} and cannot change; {name} is "
            f"created and submitted, {newest.friendly_name} stays in service until "
            "it is approved"
        )
    else:
        name = newest.friendly_name
        why = (
            f"{newest.friendly_name} was {'rejected' if status.locked else 'never submitted'}"
            " and is replaced under its own name"
        )
    out.change(
        local,
        Action.REPLACE,
        Phase.CONTENT,
        before=_content_before(newest),
        after=_content_after(template, name),
        declared_in=files,
        reason=why,
        ref=newest.sid,
        subject=template,
    )
    _submit(out, template, name, None, gate, files)


def _same_as_declared(content: LiveContent, template: Template) -> bool:
    """Twilio echoes what it was sent, so most contents hold exactly what is declared:
    then their canonical forms (content_state) are equal too, and need not be worked
    out. Only string samples, as content_state compares samples as strings (True and 1
    are equal values, "True" and "1" are not)."""
    return (
        content.language == template.language
        and all(type(value) is str for value in template.variables.values())
        and content.variables == template.variables
        and content.types == template.types
    )


def _same_content(
    out: _Out, template: Template, newest: LiveContent, gate: Gate | None, files: Files
) -> None:
    local = template.address
    status = newest.approval_status
    if status is ApprovalStatus.UNSUBMITTED:
        _submit(out, template, newest.friendly_name, newest.sid, gate, files)
    elif status.in_review:
        out.note(
            local,
            NoteKind.WAITING,
            f"{newest.friendly_name} is in WhatsApp review ({status.value})",
        )
    elif status is ApprovalStatus.REJECTED:
        reason = f": {newest.rejection_reason}" if newest.rejection_reason else ""
        out.note(
            local,
            NoteKind.WARNING,
            f"{newest.friendly_name} was rejected by WhatsApp{reason}. Change the "
            "template to submit a corrected version",
        )
    elif status in (ApprovalStatus.PAUSED, ApprovalStatus.DISABLED):
        out.note(
            local,
            NoteKind.WARNING,
            f"{newest.friendly_name} is {status.value} by WhatsApp (low quality "
            "rating); messages with it may not be delivered",
        )
    if (
        status.locked
        and newest.approval_category
        and newest.approval_category.upper() != template.category.upper()
    ):
        out.note(
            local,
            NoteKind.WARNING,
            f"declared category {template.category} but {newest.friendly_name} was "
            f"submitted as {newest.approval_category.upper()}; WhatsApp may have "
            "re-categorised it, or the category changed after submission",
        )


def _submit(
    out: _Out,
    template: Template,
    name: str,
    ref: str | None,
    gate: Gate | None,
    files: Files,
) -> None:
    out.gated(
        template.address,
        Action.SUBMIT,
        Phase.APPROVAL,
        gate,
        would=f"submit {name} for WhatsApp approval",
        after={"name": name, "category": template.category, "language": template.language},
        ref=ref,
        declared_in=files,
        subject=template,
        reason=f"submit {name} for WhatsApp approval as {template.category}",
    )
