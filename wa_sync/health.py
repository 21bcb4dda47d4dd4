"""A WhatsApp sender's health as Twilio reports it, in plain words (SPEC §3 `status`,
§1.1 steps 4-5). Pure functions of the live sender."""

from __future__ import annotations

from dataclasses import dataclass

from wa_sync.model import LiveSender

ONLINE = "ONLINE"
PENDING_VERIFICATION = "PENDING_VERIFICATION"
# Twilio or Meta is working on it: waiting, not a person's job.
IN_PROGRESS = frozenset({"CREATING", "VERIFYING", "ONLINE:UPDATING", "TWILIO_REVIEW"})

INVITATION_NOT_ACCEPTED = "63020"  # the business has not accepted Twilio's invitation
# Twilio's error codes in `offline_reasons`, in plain words (twilio.com/docs/errors/<code>).
OFFLINE_HINTS = {
    "63101": "the WhatsApp Business Account is not shared with Twilio, is linked to another "
    "account, or the Solution ID is wrong: check the Tech Provider's Partner Solution and "
    "the WABA's sharing in the customer's Meta Business Suite",
    INVITATION_NOT_ACCEPTED: "the business has not accepted Twilio's invitation: the customer "
    "accepts it in Meta Business Suite (Business settings > Requests)",
    "30008": "Twilio reports an unknown error: ask Twilio support with the sender's SID",
}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    text: str  # Twilio's "code: message"
    hint: str  # what it means and what to do, "" for a code without one


def offline_reasons(sender: LiveSender) -> tuple[Reason, ...]:
    reasons = []
    for text in sender.offline_reasons:
        code = text.partition(":")[0].strip()
        reasons.append(Reason(code, text, OFFLINE_HINTS.get(code, "")))
    return tuple(reasons)


def needs_action(sender: LiveSender) -> bool:
    """A person must act: the one-time code (PENDING_VERIFICATION), whatever took the
    sender OFFLINE, or a sender left unfinished in the Twilio console (DRAFT, STUBBED):
    every status but ONLINE and those Twilio and Meta are working on, as the plan's
    notes tell them (plan/diff.py)."""
    return sender.status != ONLINE and sender.status not in IN_PROGRESS


def verify_command(customer_id: str, sender: LiveSender) -> str:
    """The command that submits the one-time code Meta sent to the sender's phone."""
    return f"wa-sync verify {customer_id} {sender.phone_number} CODE"


def next_step(customer_id: str, sender: LiveSender) -> str:
    """What must happen for this sender, in plain words ("" when it is online)."""
    status = sender.status
    if status == ONLINE:
        return ""
    if status == PENDING_VERIFICATION:
        return (
            f"enter the one-time code Meta sent to {sender.phone_number}: "
            f"`{verify_command(customer_id, sender)}`"
        )
    if status == "OFFLINE":
        hints = [r.hint or r.text for r in offline_reasons(sender)]
        return "bring it back online: " + ("; ".join(hints) or "Twilio gives no reason")
    if status in IN_PROGRESS:
        return f"wait: Twilio and Meta are working on it ({status})"
    return f"finish the sender in the Twilio console (status {status})"
