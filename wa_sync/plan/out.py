"""What the diff of one customer collects: its Changes and Notes, with the rules every
part of the diff shares (a gated change, an object the configuration no longer wants)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wa_sync.model import Customer, Isv
from wa_sync.plan.change import Action, Cause, Change, Gate, Note, NoteKind, Phase

# Says whether the files an object is declared in changed since the base revision.
CauseOf = Callable[[Iterable[str]], Cause]
Files = tuple[str, ...]  # the files an object is declared in


def always_config(files: Iterable[str]) -> Cause:
    return Cause.CONFIG


@dataclass
class Out:
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

    def unwanted(
        self,
        local: str,
        *,
        prune: bool,
        protected: bool,
        what: str,
        why: str,
        consequence: str = "",
        **kw: Any,
    ) -> None:
        """An object the configuration no longer wants (`what` names it, `why` says why):
        deleted with prune, saying the `consequence` of deleting it (`kw` as for
        `change`: before, ref, cause or declared_in),
        kept and shown as protected when `protect: true` guards it, else kept and
        shown as undeclared. Only the deletion is a change (SPEC §4.8)."""
        if prune and protected:
            self.note(
                local,
                NoteKind.PROTECTED,
                f"{what} is {why}; kept because `protect: true` guards it (prune would delete it)",
            )
        elif prune:
            reason = f"{what} is {why}" + (f"; {consequence}" if consequence else "")
            self.change(local, Action.DELETE, Phase.CLEANUP, reason=reason, **kw)
        else:
            self.note(
                local,
                NoteKind.UNDECLARED,
                f"{what} is {why}; kept because prune is off (`--prune` deletes it)",
            )
