"""The pure diff: one declared customer and what Twilio holds for it in, the
Changes and Notes that make them equal out (SPEC §4.1-§4.5, §4.8): its subaccount
and senders here, its templates in templates.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from wa_sync.health import IN_PROGRESS, PENDING_VERIFICATION, next_step
from wa_sync.model import Customer, Isv, LiveCustomer, LiveSender, Sender
from wa_sync.plan.change import Action, Cause, Change, Gate, Note, NoteKind, Phase
from wa_sync.plan.gates import sender_gate
from wa_sync.plan.ignore import changed_fields
from wa_sync.plan.normalise import sender_state
from wa_sync.plan.out import CauseOf, Files, Out, always_config
from wa_sync.plan.pacing import pace_creations
from wa_sync.plan.templates import plan_templates

__all__ = ["CauseOf", "always_config", "diff_customer"]

ONLINE = "ONLINE"
UNDECLARED = "not declared in the configuration"
DECLINED = ("DECLINED", "REJECTED")  # Meta's refusal of a display name, as Twilio tells it


def diff_customer(
    customer: Customer,
    live: LiveCustomer,
    *,
    prune: bool,
    cause_of: CauseOf = always_config,
    now: datetime | None = None,
    isv: Isv | None = None,
) -> tuple[list[Change], list[Note]]:
    """`now`: when the plan is made (default: the clock), for the names WhatsApp still
    blocks after a deletion. `isv`: the ISV, whose Tech Provider status gates an
    embedded_signup customer's sender (SPEC §1.1)."""
    if live.account is None:  # nothing of this customer is in Twilio yet: nothing drifted
        cause_of = always_config
    out = Out(customer, cause_of, isv or Isv())
    _subaccount(out, live)
    if live.account is not None and live.account.status != "active":
        # Twilio refuses changes to it and its objects were not read: planning creates
        # for them would hide what it holds behind changes that fail (the warning says why)
        return list(out.changes), list(out.notes)
    planned_senders = _senders(out, live, prune=prune)
    # Templates are submitted once a sender exists in Twilio, whatever its status (SPEC
    # §1.1 step 6): one OFFLINE for a while is still registered with its WhatsApp Business
    # Account, and an apply that registers a sender submits them straight after.
    sender_ready = planned_senders or bool(live.senders)
    plan_templates(out, live, prune=prune, sender_ready=sender_ready, now=now)
    changes, waiting = pace_creations(out.changes, live.contents, now or datetime.now(UTC))
    return changes, out.notes + waiting


# --- subaccount ------------------------------------------------------------------


def _subaccount(out: Out, live: LiveCustomer) -> None:
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
            NoteKind.INACTIVE,
            f"the subaccount {account.sid} is {account.status}; Twilio refuses "
            "changes to it until it is active again",
        )


# --- senders -----------------------------------------------------------------------


def _senders(out: Out, live: LiveCustomer, *, prune: bool) -> bool:
    """Plan the senders; True when a sender create or update is actionable."""
    customer = out.customer
    gate = sender_gate(customer, out.isv)
    live_by_id = {s.sender_id: s for s in live.senders}
    actionable = False
    for sender in customer.senders:
        current = live_by_id.get(sender.sender_id)
        files = (sender.where.file, customer.where.file)
        if current is None:
            actionable |= _sender_change(out, sender, None, (), gate, files)
            continue
        before, after = sender_state(current), sender_state(sender)
        if _name_held(out, sender, current):  # in Meta's review, or declined: no change
            before["display_name"] = after["display_name"]
        changed = (
            changed_fields(out, sender.address, sender.ignore, before, after)
            if before != after
            else []
        )
        if changed:
            actionable |= _sender_change(out, sender, current, changed, gate, files)
        _sender_notes(out, sender.address, current)
        _waba_note(out, sender.address, current)
        _verification_note(out, sender, current)
        _undeclared_name_in_review(out, sender, current)
    declared = {s.sender_id for s in customer.senders}
    for current in live.senders:
        if current.sender_id in declared:
            continue
        out.unwanted(
            f"sender.{current.sender_id}",
            prune=prune,
            protected=customer.protect,
            what=f"sender {current.sender_id} ({current.sid})",
            why=UNDECLARED,
            before=sender_state(current),
            ref=current.sid,
            declared_in=(customer.where.file,),
        )
    return actionable


def _sender_change(
    out: Out,
    sender: Sender,
    current: LiveSender | None,
    changed: Sequence[str],
    gate: Gate | None,
    files: Files,
) -> bool:
    """A create (no `current`), or an update of the `changed` fields (changed_fields)."""
    after = sender_state(sender)
    if current is None:
        action, before, reason = Action.CREATE, None, "declared but not registered in Twilio"
    else:
        before = sender_state(current)
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


def _name_held(out: Out, sender: Sender, current: LiveSender) -> bool:
    """The declared display name is the one Meta has in review, or the one it
    declined: Twilio keeps the name in service as `profile.name`, so sending it again
    is no change; Meta limits display-name changes (10 in 30 days, whatsapp-rules.md
    DN-CHANGE-RATE), so a declined name is told with its fix, not sent again."""
    status = (current.pending_display_name_status or "").upper()
    declared = current.pending_display_name == sender.display_name
    if status == "PENDING_REVIEW" and declared:
        out.note(
            sender.address,
            NoteKind.WAITING,
            f"the display name {sender.display_name!r} is in Meta's review; "
            f"{current.display_name!r} stays in service until it is approved",
        )
        return True
    if status not in DECLINED:
        return False
    # Twilio reports Meta's refusal as DECLINED (ChannelsSenderInstance docs)
    limited = (
        "until a display name is approved the sender is limited to 250 "
        "business-initiated conversations a day"
    )
    if not declared:  # another name is declared: it is sent for review
        out.note(
            sender.address,
            NoteKind.WARNING,
            f"the display name {current.pending_display_name!r} was rejected by Meta; {limited}",
        )
        return False
    out.note(
        sender.address,
        NoteKind.WARNING,
        f"the display name {sender.display_name!r} was {status} by Meta and is not sent "
        f"again (Meta limits display-name changes); {current.display_name!r} stays in "
        f"service and {limited}. To proceed, choose another display_name that follows "
        "Meta's display-name guidelines, or ask Twilio support (or Meta) why it was declined",
    )
    return True


def _undeclared_name_in_review(out: Out, sender: Sender, current: LiveSender) -> None:
    """Another name than the declared one in Meta's review while the declared one is in
    service (declared back, or changed in the Console): no update would change anything,
    but once approved it replaces the declared name, and the next plan changes it back."""
    pending = current.pending_display_name
    if (current.pending_display_name_status or "").upper() != "PENDING_REVIEW":
        return
    if pending in (None, sender.display_name) or current.display_name != sender.display_name:
        return  # the declared name in review (waiting), or an update is planned
    out.note(
        sender.address,
        NoteKind.WARNING,
        f"the display name {pending!r} is in Meta's review, not the declared "
        f"{sender.display_name!r} (in service): once approved it replaces "
        f"{sender.display_name!r}, and the next plan changes it back (Meta reviews that "
        f"too); declare {pending!r} if it is the one to keep",
    )


def _waba_note(out: Out, local: str, current: LiveSender) -> None:
    """A `waba_id` other than the WhatsApp Business Account the sender is registered
    with: an update never moves a sender (one WABA per subaccount), so it is said here,
    not left unseen (a typo, or a customer that signed up again)."""
    declared = out.customer.waba_id
    if declared and current.waba_id and declared != current.waba_id:
        out.note(
            local,
            NoteKind.WARNING,
            f"sender {current.sender_id} is registered with WhatsApp Business Account "
            f"{current.waba_id}, not with `waba_id` {declared}; apply never moves a sender "
            f"to another account: if {current.waba_id} is right, set `waba_id: "
            f'"{current.waba_id}"`, else deregister the sender in the Twilio console and '
            "apply again to register it with the new one",
        )


def _verification_note(out: Out, sender: Sender, current: LiveSender) -> None:
    """`verification` (how Meta sends the one-time code) is asked once, at registration
    (notes/twilio-api.md 4.1, 4.3): declared anew for a registered sender it changes
    nothing, which is said, with what to do, rather than left unseen."""
    declared, registered = sender.verification, current.verification
    if not declared or not registered or declared.lower() == registered.lower():
        return
    said = (
        f"sender {current.sender_id} was registered with `verification: {registered}`; "
        f"`verification: {declared}` changes nothing for a registered sender (Meta sends "
        "the one-time code once, at registration)"
    )
    if current.status == PENDING_VERIFICATION:
        said += (
            f": enter the code sent by {registered} with `wa-sync verify {out.customer.id} "
            f"{current.phone_number} CODE`; if it never came, delete the sender in the "
            f"Twilio console and apply again to register it with `verification: {declared}`"
        )
    else:
        said += f": its number is verified; write `verification: {registered}` to match"
    out.note(sender.address, NoteKind.WARNING, said)


def _sender_notes(out: Out, local: str, current: LiveSender) -> None:
    if current.status == PENDING_VERIFICATION:  # a person must give the one-time code
        out.note(
            local,
            NoteKind.WARNING,
            f"sender {current.sender_id} is {PENDING_VERIFICATION}: "
            + next_step(out.customer.id, current),
        )
    elif current.status in IN_PROGRESS:  # as `status` tells it: one list
        out.note(
            local,
            NoteKind.WAITING,
            f"sender {current.sender_id} is {current.status}: Twilio and Meta are working on it",
        )
    elif current.status != ONLINE:
        reasons = "; ".join(current.offline_reasons)
        out.note(
            local,
            NoteKind.WARNING,
            f"sender {current.sender_id} is {current.status}" + (f": {reasons}" if reasons else ""),
        )
