"""The template lifecycle of one customer (SPEC §4.4, §4.8; docs/concepts.md).

Submitted content can never change, so each declared (name, language) is compared with
its live versions, oldest first (`name`, `name_v2`, ...):

- none: created and submitted, unless WhatsApp still blocks the name because an
  approved template of that name was deleted: then blocked until the date.
- the newest matches: nothing is made (it is submitted if it never was, unless its
  name is blocked: then blocked until the date).
- the newest approved version (the one in service) matches while a newer one does
  not: nothing is made, and the newer one is no longer declared.
- the newest is approved or in review: `<name>_v<N+1>` is created and submitted (N the
  highest version live or recorded as deleted); the old one stays in service.
- the newest was rejected or never submitted: it is replaced under its own name
  (deleted, then created), unless it is protected or its name is blocked: then the
  next version is rolled out instead and it is kept.

Every other live version, and every content the configuration does not declare, is
kept and shown, or deleted with prune; `protect: true` keeps it whatever the plan.
Deleting an approved template blocks its name for 30 days: apply leaves a record of
the deletion in the subaccount (model.RETIRED_PREFIX), which later plans read; a
submission WhatsApp refuses for such a name (deleted in the console) leaves one too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wa_sync.model import ApprovalStatus, LiveContent, LiveCustomer, Template, split_version
from wa_sync.plan.categories import category_redeclared, recategorised
from wa_sync.plan.change import Action, Cause, Gate, NoteKind, Phase
from wa_sync.plan.gates import submit_gate
from wa_sync.plan.normalise import content_after, content_before, content_state
from wa_sync.plan.out import Files, Out
from wa_sync.plan.retired import blocked_names, name_block_warning, name_gate, plan_retired

UNDECLARED = "not declared in the configuration"


def plan_templates(
    out: Out, live: LiveCustomer, *, prune: bool, sender_ready: bool, now: datetime | None
) -> None:
    customer = out.customer
    when = now or datetime.now(UTC)
    gate = submit_gate(customer, sender_ready=sender_ready, isv=out.isv)
    blocked = blocked_names(live.retired, when)
    guarded = {t.name for t in customer.templates if t.protect}
    handled: set[str] = set()  # SIDs of every version of a declared template
    for template in customer.templates:
        versions = live.versions(template.name, template.language)
        protected = customer.protect or template.name in guarded
        files = (template.where.file, customer.where.file)
        rollout = _Rollout(template, versions, live.retired, blocked, protected)
        keep = _template(out, rollout, gate, files)
        reverted = bool(versions) and versions[-1].sid not in keep  # to the one in service
        for old in versions:
            if old.sid not in keep:
                _superseded(out, rollout, old, reverted=reverted, prune=prune, when=when)
        handled |= {v.sid for v in versions}
    for content in live.contents:
        if content.sid in handled:
            continue
        base, _ = content.base_name_and_version
        out.unwanted(
            f"template.{content.friendly_name}[{content.language}]",
            prune=prune,
            protected=customer.protect or base in guarded,
            what=_describe(content),
            why=UNDECLARED,
            consequence=name_block_warning(content, when),
            before=content_before(content),
            ref=content.sid,
            declared_in=(customer.where.file,),
        )
    plan_retired(out, live.retired, prune=prune, when=when)


def _describe(content: LiveContent) -> str:
    return (
        f"template {content.shown_name} [{content.shown_language}] ({content.sid}, "
        f"{content.approval_status.value})"
    )


# --- one declared template ---------------------------------------------------------------


class _Rollout:
    """One declared template with its live versions and what guards them."""

    def __init__(
        self,
        template: Template,
        versions: tuple[LiveContent, ...],
        records: tuple[LiveContent, ...],
        blocked: dict[str, datetime],
        protected: bool,
    ):
        self.template = template
        self.versions = versions
        self.records = records
        self.blocked = blocked
        self.protected = protected
        approved = [v for v in versions if v.approval_status is ApprovalStatus.APPROVED]
        self.serving = approved[-1] if approved else None  # the version in service

    def next_name(self) -> str:
        """`<name>_v<N+1>`: N the highest version live or recorded as deleted."""
        name = self.template.name
        highest = max((v.base_name_and_version[1] for v in self.versions), default=1)
        for record in self.records:
            base, version = split_version(record.retired_name or "")
            if base == name:
                highest = max(highest, version)
        return f"{name}_v{highest + 1}"


def matches(content: LiveContent, template: Template) -> bool:
    return _same_as_declared(content, template) or content_state(content) == content_state(template)


def _template(out: Out, rollout: _Rollout, gate: Gate | None, files: Files) -> set[str]:
    """The changes for one declared template; returns the SIDs of the versions it keeps."""
    template, versions, serving = rollout.template, rollout.versions, rollout.serving
    if not versions:
        _create(out, rollout, gate, files)
        return set()
    newest = versions[-1]
    keep = {newest.sid} | ({serving.sid} if serving else set())
    if matches(newest, template) and not category_redeclared(template, newest):
        until = rollout.blocked.get(newest.friendly_name)
        if until is not None and newest.approval_status is ApprovalStatus.UNSUBMITTED:
            after = {"name": newest.friendly_name, "category": template.category,
                     "language": template.language}  # fmt: skip
            _name_blocked(out, template, (Phase.APPROVAL, after, newest.sid), until, files)
        else:
            _same_content(out, template, newest, gate, files)
            _category_note(out, rollout, newest)
        return keep
    if serving is not None and matches(serving, template):
        _category_note(out, rollout, serving)  # the approved version is the declared one
        return {serving.sid}
    name, why = _replacement(rollout, newest)
    if category_redeclared(template, newest):
        why += f", as {template.category} (submitted as {newest.approval_category})"
    out.change(
        template.address,
        Action.REPLACE,
        Phase.CONTENT,
        before=content_before(newest),
        after=content_after(template, name),
        declared_in=files,
        reason=why,
        ref=newest.sid,
        subject=template,
    )
    _submit(out, template, name, None, gate, files)
    return keep


def _replacement(rollout: _Rollout, newest: LiveContent) -> tuple[str, str]:
    """The name the changed template is created under, and why."""
    status = newest.approval_status
    if status.locked and status is not ApprovalStatus.REJECTED:
        name = rollout.next_name()
        return name, (
            f"{newest.friendly_name} is {status.value} and cannot change; {name} is "
            f"created and submitted, {newest.friendly_name} stays in service until "
            "it is approved"
        )
    was = "rejected" if status.locked else "never submitted"
    if not rollout.protected and newest.friendly_name not in rollout.blocked:
        return newest.friendly_name, (
            f"{newest.friendly_name} was {was} and is replaced under its own name "
            "(deleted, then created)"
        )
    name = rollout.next_name()
    guard = "is protected" if rollout.protected else "has a blocked name"
    return name, (
        f"{newest.friendly_name} was {was} and {guard}: it is kept, and {name} is created "
        "and submitted"
    )


def _create(out: Out, rollout: _Rollout, gate: Gate | None, files: Files) -> None:
    template = rollout.template
    until = rollout.blocked.get(template.name)
    if until is not None:
        after = content_after(template, template.name)
        _name_blocked(out, template, (Phase.CONTENT, after, None), until, files)
        return
    out.change(
        template.address,
        Action.CREATE,
        Phase.CONTENT,
        after=content_after(template, template.name),
        declared_in=files,
        reason="declared but not in Twilio",
        subject=template,
    )
    _submit(out, template, template.name, None, gate, files)


def _name_blocked(
    out: Out,
    template: Template,
    what: tuple[Phase, dict[str, Any], str | None],
    until: datetime,
    files: Files,
) -> None:
    """The content to create (Phase.CONTENT) or the one to submit (Phase.APPROVAL, its
    SID), held while WhatsApp blocks the template's name (plan/retired.py)."""
    phase, after, ref = what
    blocker = name_gate(template.name, until)
    would = "create and submit" if phase is Phase.CONTENT else "submit"
    out.change(
        template.address,
        Action.BLOCKED,
        phase,
        after=after,
        ref=ref,
        declared_in=files,
        blocked_by=blocker,
        reason=f"would {would} {template.name}; blocked at {blocker.describe()}",
        subject=template,
    )


def _superseded(
    out: Out, rollout: _Rollout, old: LiveContent, *, reverted: bool, prune: bool, when: datetime
) -> None:
    """A version the template no longer uses: older than the ones kept, or (`reverted`:
    the configuration is back to the version in service) newer than that."""
    serving = rollout.serving
    versions = rollout.versions
    if serving is not None and reverted and versions.index(old) > versions.index(serving):
        why = f"newer than {serving.friendly_name}, the approved version that is declared"
    else:
        why = f"superseded by a newer version of {rollout.template.name}"
    out.unwanted(
        f"template.{old.friendly_name}[{old.language}]",
        prune=prune,
        protected=rollout.protected,
        what=_describe(old),
        why=why,
        consequence=name_block_warning(old, when),
        before=content_before(old),
        ref=old.sid,
        cause=Cause.CONFIG,
    )


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
    out: Out, template: Template, newest: LiveContent, gate: Gate | None, files: Files
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


def _category_note(out: Out, rollout: _Rollout, content: LiveContent) -> None:
    template = rollout.template
    message = recategorised(template, content, rollout.next_name)  # called if said
    if message:
        kind = NoteKind.INFO if "category" in template.ignore else NoteKind.RECATEGORISED
        out.note(template.address, kind, message)


def _submit(
    out: Out,
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
