"""The plan as JSON (`plan --format json` and `plan --out FILE`), documented by
schema/plan.schema.json, and the reading side for `apply PLANFILE`.

`format_version` is 1. A plan carries no secret: only SIDs, names and the
declared content, never an auth token. Its `digest` covers the whole document
(options, scope and every entry): `apply PLANFILE` refuses a plan edited by hand
(SPEC §4.8). It is a seal against edits, not a signature: it keeps no secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from wa_sync import __version__
from wa_sync.errors import UsageError
from wa_sync.model import thaw
from wa_sync.plan.change import Action, Change, Note, Plan, kept_counts, summary_line
from wa_sync.plan.digest import document_digest
from wa_sync.schemas import load_schema
from wa_sync.visible import visible_json

FORMAT_VERSION = 1


def change_doc(change: Change) -> dict[str, Any]:
    gate = change.blocked_by
    return {
        "address": change.address,
        "customer": change.customer,
        "action": change.action.value,
        "phase": change.phase.name.lower(),
        "cause": change.cause.value,
        "reason": change.reason,
        "ref": change.ref,
        "before": thaw(change.before) if change.before is not None else None,
        "after": thaw(change.after) if change.after is not None else None,
        "blocked_by": None
        if gate is None
        else {
            "step": gate.step,
            "name": gate.name,
            "actor": gate.actor.value,
            "action": gate.action,
        },
    }


def note_doc(note: Note) -> dict[str, Any]:
    return {
        "customer": note.customer,
        "address": note.address,
        "kind": note.kind.value,
        "message": note.message,
    }


def plan_doc(plan: Plan) -> dict[str, Any]:
    counts = plan.counts()
    undeclared, protected = kept_counts(plan)
    return {
        "format_version": FORMAT_VERSION,
        "wa_sync_version": __version__,
        "emulator": plan.emulator,
        "parent_account": plan.parent_account,
        "customers": list(plan.customers),
        "options": {"prune": plan.prune, "allow_mass_delete": plan.allow_mass_delete},
        "config_digest": plan.config_digest,
        "live_digests": dict(sorted(plan.live_digests.items())),
        "summary": {
            **{action.value: counts[action] for action in Action},
            "has_changes": plan.has_changes,
            "undeclared": undeclared,
            "protected": protected,
            "unread": len(plan.unread),
            "inactive": len(plan.inactive),
            "line": summary_line(plan),
        },
        "changes": [change_doc(c) for c in plan.changes],
        "notes": [note_doc(n) for n in plan.notes],
    }


def render_json(plan: Plan) -> str:
    doc = plan_doc(plan)
    doc["digest"] = document_digest(doc)
    return visible_json(json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False)) + "\n"


@dataclass(frozen=True, slots=True)
class SavedPlan:
    """What `apply PLANFILE` needs from a saved plan to redo and check it."""

    customers: tuple[str, ...]
    prune: bool
    allow_mass_delete: bool
    emulator: bool
    parent_account: str
    config_digest: str
    live_digests: Mapping[str, str]
    changes: tuple[tuple[str, str], ...]  # (address, action)


def read_plan(text: str, *, source: str) -> SavedPlan:
    """The saved plan in `text` (read from `source`); raises UsageError naming `source`
    when it is not a plan made by this wa-sync or was edited since."""
    doc = _parsed(text, source)
    # another version's plan; a JSON document without one is no plan (the schema says so)
    if isinstance(doc, dict) and doc.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
        raise UsageError(
            f"{source}: plan format_version {doc.get('format_version')!r} is not "
            f"{FORMAT_VERSION}; make the plan again with this version of wa-sync"
        )
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(load_schema("plan")).iter_errors(doc)
    )
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise UsageError(
            f"{source}: not a valid wa-sync plan file at {where}: {error.message}. "
            "Save a new one with `wa-sync plan --out FILE`."
        )
    if doc["digest"] != document_digest(doc):
        raise UsageError(
            f"{source}: the plan was edited after `wa-sync plan` saved it (its digest does "
            "not match its content; options and entries are part of it). Nothing was "
            "changed. Save a new one with `wa-sync plan --out FILE` and review that."
        )
    options = doc["options"]
    return SavedPlan(
        customers=tuple(doc["customers"]),
        prune=bool(options["prune"]),
        allow_mass_delete=bool(options["allow_mass_delete"]),
        emulator=bool(doc["emulator"]),
        parent_account=str(doc.get("parent_account", "")),
        config_digest=doc["config_digest"],
        live_digests=dict(doc["live_digests"]),
        changes=tuple((c["address"], c["action"]) for c in doc["changes"]),
    )


def _parsed(text: str, source: str) -> Any:
    """The JSON value of `text`, or a UsageError: bad syntax, nesting deeper than Python
    parses (100,000 `[`), an integer of more digits than Python converts."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"{exc.lineno}: not a wa-sync plan file (invalid JSON: {exc.msg})"
    except RecursionError:
        problem = " not a wa-sync plan file (its JSON is nested too deeply)"
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        problem = " not a wa-sync plan file (it holds a number of 4300 digits or more)"
    raise UsageError(f"{source}:{problem}. Save one with `wa-sync plan --out FILE`.")
