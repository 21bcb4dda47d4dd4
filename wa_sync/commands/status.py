"""`wa-sync status`: per customer, the onboarding stage, who must act next, sender
status, template approvals with Twilio's rejection reasons, and the Twilio limits
that bite ISVs (SPEC §3). A customer whose subaccount Twilio does not answer for is
shown apart, with Twilio's reason, and the others in full (SPEC §4.2); exit 1 then."""

from __future__ import annotations

import argparse
import json
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from wa_sync.commands.common import EMULATOR_BANNER, load_and_connect, read_owned
from wa_sync.config.limits import recent_signups, signup_dates, signup_limit
from wa_sync.errors import TwilioError, WaSyncError
from wa_sync.health import needs_action, next_step, offline_reasons
from wa_sync.identity import AccountIndex
from wa_sync.model import (
    ApprovalStatus,
    Config,
    Customer,
    Isv,
    LiveAccount,
    LiveCustomer,
    LiveEstate,
    LiveSender,
)
from wa_sync.onboarding import NO_ISV, ONBOARDED, onboarding_stage
from wa_sync.plan.change import Action
from wa_sync.plan.diff import diff_customer
from wa_sync.runtime import Runtime
from wa_sync.visible import visible
from wa_sync.wording import listed

SUBACCOUNT_LIMIT = 1000  # Twilio's default per parent (error 21480), raised on request
# Templates per WhatsApp Business Account, each name+language counting (LC-LIMIT-COUNT):
# 250 until the business is verified and its display name approved, then 6,000.
TEMPLATE_LIMITS = (250, 6000)
NEAR = 0.9  # warn from 90% of a limit
DECLINED = {"DECLINED", "REJECTED"}  # Twilio reports Meta's refusal of a display name as DECLINED
DAILY_CAP = 250  # business-initiated messages a day while the display name is rejected
WIDTH = 100  # where the text view wraps a customer's detail lines


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root,
        only=args.customer,
        fmt=args.format,
        emulator=args.emulator,
        runtime=runtime,
        verbose=bool(args.verbose),
    )


def run(
    *,
    root: str,
    only: Sequence[str] | None,
    fmt: str,
    emulator: bool,
    runtime: Runtime,
    verbose: bool = False,
) -> int:
    connected = load_and_connect(runtime, root=root, only=only, shard=None, emulator=emulator)
    unread: dict[str, str] = {}  # customer id -> why Twilio was not read for it

    def not_read(customer_id: str, error: TwilioError) -> None:
        unread[customer_id] = str(error)  # the gateway's words: Twilio's, credentials hidden

    with connected as (loaded, gateway):
        live = read_owned(loaded, gateway, runtime, on_unread=not_read)
        report = status_report(
            loaded.in_scope, live, emulated=gateway.emulated, isv=loaded.config.isv, unread=unread
        )
    report["signups"] = signup_report(loaded.config, datetime.now(UTC).date())
    runtime.stdout.write(
        json.dumps(report, indent=2, sort_keys=True) + "\n"
        if fmt == "json"
        else render(report, verbose=verbose)
    )
    if report["not_read"]:  # shown whole above; an unknown state must not pass for a known one
        raise WaSyncError(not_read_error([c["id"] for c in report["not_read"]]))
    return 0


def status_report(
    customers: Sequence[Customer],
    live: LiveEstate,
    *,
    emulated: bool,
    isv: Isv = NO_ISV,
    unread: Mapping[str, str] | None = None,
) -> dict:
    """The report of the customers read (`customers`), and apart from them (`not_read`)
    those whose subaccount Twilio did not answer for, with why (SPEC §4.2)."""
    unread = unread or {}
    index = AccountIndex(live.accounts)
    rows = [_customer_status(c, live.customers[c.id], isv) for c in customers if c.id not in unread]
    count = len(live.accounts)
    warning = subaccount_limit_warning(count)
    return {
        "emulator": emulated,
        "subaccounts": count,
        "customers": rows,
        "not_read": [
            _not_read(c, index.match(c, live.parent_sid), unread[c.id])
            for c in customers
            if c.id in unread
        ],
        "warnings": [warning] if warning else [],
    }


def _not_read(customer: Customer, account: LiveAccount | None, why: str) -> dict[str, Any]:
    """A customer Twilio did not answer for: who it is and why, never a row with no
    senders or templates, which would pass for what Twilio holds."""
    return {
        "id": customer.id,
        "name": customer.name,
        "flow": customer.onboarding.flow.value,
        "subaccount_sid": account.sid if account else None,
        "reason": why,
    }


def not_read_error(customer_ids: Sequence[str]) -> str:
    """What status says on standard error, after the report, when Twilio was not read
    for some customers."""
    return (
        f"Twilio could not be read for {len(customer_ids)} customer(s) "
        f"({listed(customer_ids)}), so their stage, senders and templates are unknown; "
        "the status above says why for each, and shows the other customers. Run it again "
        "once Twilio answers for them"
    )


def signup_report(config: Config, today: date) -> dict[str, int] | None:
    """Embedded Signups in the last 7 days against Meta's limit (SPEC §1.1); None when no
    customer has a signup date."""
    if not signup_dates(config):
        return None
    return {"last_7_days": recent_signups(config, today), "limit": signup_limit(config)}


def subaccount_limit_warning(count: int, limit: int = SUBACCOUNT_LIMIT) -> str | None:
    """A warning once the parent holds 90% of Twilio's default subaccount limit."""
    if count < NEAR * limit:
        return None
    return (
        f"the parent account has {count:,} subaccounts; Twilio's default limit is {limit:,} "
        f"(error 21480 when reached): ask Twilio support to raise it, or close unused ones"
    )


def template_limit_warning(count: int) -> str | None:
    """A warning when a WhatsApp Business Account nears its template limit: 250 until
    the business is verified (more than 250 means it is), then 6,000."""
    small, large = TEMPLATE_LIMITS
    if count >= NEAR * large:
        return (
            f"{count:,} templates submitted to WhatsApp; a WhatsApp Business Account holds "
            f"at most {large:,}: delete unused ones (prune removes superseded _vN versions)"
        )
    if NEAR * small <= count <= small:
        return (
            f"{count} templates submitted to WhatsApp; a WhatsApp Business Account holds at "
            f"most {small} until the business is verified and its display name approved "
            f"(then {large:,}): verify the business, or delete unused templates"
        )
    return None


def _customer_status(customer: Customer, live: LiveCustomer, isv: Isv) -> dict[str, Any]:
    """One customer's row of the report: its stage, senders, templates, and the changes
    a plan holds back until an onboarding step is done (`blocked`, with who acts)."""
    stage = onboarding_stage(customer, live, isv)
    approvals = Counter(c.approval_status.value for c in live.contents)
    return {
        "id": customer.id,
        "name": customer.name,
        "flow": customer.onboarding.flow.value,
        "steps": stage.last_step,
        "subaccount_sid": live.account.sid if live.account else None,
        "stage": {
            "step": stage.step if stage.step != ONBOARDED else None,
            "name": stage.name,
            "next_action": stage.next_action,
            "actor": stage.actor.value if stage.actor else None,
            "waiting": stage.waiting,
        },
        "senders": [sender_health(customer.id, s) for s in live.senders],
        "templates": dict(sorted(approvals.items())),
        "rejections": _rejections(customer, live),
        "blocked": _blocked(customer, live, isv),
        "warnings": _customer_warnings(live),
    }


def _rejections(customer: Customer, live: LiveCustomer) -> list[dict[str, Any]]:
    """The rejected contents, named as the plan and `output` name them: by the template
    that declares them (`recall_offer`, for its version `recall_offer_v2` too), else by
    the name WhatsApp knows them by; with that WhatsApp name, and WhatsApp's reason."""
    declared = {template.key for template in customer.templates}
    rejections = []
    for content in live.contents:
        if content.approval_status is not ApprovalStatus.REJECTED:
            continue
        base, _version = content.base_name_and_version
        declares = (base, content.language) in declared
        rejections.append(
            {
                "name": base if declares else content.whatsapp_name,
                "whatsapp_name": content.whatsapp_name,
                "language": content.language,
                "reason": content.rejection_reason,
            }
        )
    return rejections


def _blocked(customer: Customer, live: LiveCustomer, isv: Isv) -> list[dict[str, Any]]:
    """The changes the plan blocks (SPEC §4.1 `!`), each with its gate and who must act."""
    changes, _notes = diff_customer(customer, live, prune=False, isv=isv)
    return [
        {
            "address": change.address,
            "step": change.blocked_by.step,
            "gate": change.blocked_by.name,
            "actor": change.blocked_by.actor.value,
            "action": change.blocked_by.action,
        }
        for change in changes
        if change.action is Action.BLOCKED and change.blocked_by is not None
    ]


def _customer_warnings(live: LiveCustomer) -> list[str]:
    warnings = []
    if live.account is not None and live.account.status != "active":
        warnings.append(
            f"subaccount {live.account.sid} is {live.account.status}: Twilio refuses its "
            "credentials, so its senders and templates cannot be read or changed"
        )
    for sender in live.senders:
        if (sender.pending_display_name_status or "").upper() in DECLINED:
            warnings.append(
                f"{sender.phone_number}: WhatsApp rejected the display name "
                f"{sender.pending_display_name!r}; until a display name is approved the sender "
                f"is capped at {DAILY_CAP} business-initiated messages a day: choose a name "
                "that follows WhatsApp's display name rules and apply again"
            )
    submitted = sum(c.approval_status.locked for c in live.contents)
    warning = template_limit_warning(submitted)
    return [*warnings, warning] if warning else warnings


def sender_health(customer_id: str, sender: LiveSender) -> dict[str, Any]:
    """A sender as Twilio reports it, with what its status means (SPEC §3 `status`)."""
    return {
        "phone_number": sender.phone_number,
        "status": sender.status,
        "display_name": sender.display_name,
        "pending_display_name": sender.pending_display_name,
        "pending_display_name_status": sender.pending_display_name_status,
        "offline_reasons": list(sender.offline_reasons),
        "offline_hints": [r.hint for r in offline_reasons(sender) if r.hint],
        "quality_rating": sender.quality_rating,
        "messaging_limit": sender.messaging_limit,
        "needs_action": needs_action(sender),
        "next_step": next_step(customer_id, sender),
    }


# --- the text view -----------------------------------------------------------------


def render(report: dict, *, verbose: bool = False) -> str:
    """A table a person can scan (one row per customer and sender), each customer's next
    action, senders that are not online, rejections and warnings on indented lines below
    its row; with `verbose`, every sender's quality rating and messaging limit too. The
    customers Twilio did not answer for come last, each a row of `?` with why below it."""
    header = ("CUSTOMER", "STAGE", "ACTION BY", "SENDERS", "TEMPLATES")
    rows: list[tuple[tuple[str, ...], list[str]]] = []
    for customer in report["customers"]:
        *above, last = _rows(customer)  # the details go below a customer's last sender
        rows += [(row, []) for row in above]
        rows.append((last, _details(customer, verbose=verbose)))
    for customer in report["not_read"]:  # last, next to the line that counts them
        why = f"Twilio could not be read for this customer: {customer['reason']}"
        rows.append(((customer["id"], "not read", "?", "?", "?"), _wrapped("not read: ", why)))
    widths = [max(len(r[i]) for r in [header, *(c for c, _ in rows)]) for i in range(4)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, [*widths, 0], strict=True)).rstrip()

    lines = [EMULATOR_BANNER] if report["emulator"] else []
    lines.append(line(header))
    for row, details in rows:
        lines += [line(row), *details]
    lines += [f"warning: {w}" for w in report["warnings"]]
    signups = report.get("signups")
    if signups:
        lines.append(
            f"Embedded Signups in the last 7 days: {signups['last_7_days']} of the "
            f"{signups['limit']} Meta allows."
        )
    onboarded = sum(c["stage"]["step"] is None for c in report["customers"])
    read = len(report["customers"])
    unread = len(report["not_read"])
    if not unread:
        lines.append(f"{onboarded} of {read} customers fully onboarded.")
    else:  # never "0 of 2 customers fully onboarded" for 3: what was not read is unknown
        of_read = f"{onboarded} of the {read} customers read fully onboarded; " if read else ""
        lines.append(f"{of_read}{unread} customer(s) not read from Twilio, their state unknown.")
    acting = [s["status"] for c in report["customers"] for s in c["senders"] if s["needs_action"]]
    if acting:  # a DRAFT one, left unfinished in the console, named too
        *kinds, last = sorted({*acting, "OFFLINE", "PENDING_VERIFICATION"})
        lines.append(f"{len(acting)} sender(s) need action ({', '.join(kinds)} or {last}).")
    return visible("\n".join(lines)) + "\n"


def _rows(customer: dict) -> list[tuple[str, ...]]:
    """The customer's row, then one more row per further sender."""
    stage = customer["stage"]
    done = stage["step"] is None
    step = "onboarded" if done else f"{stage['step']}/{customer['steps']} {stage['name']}"
    actor = stage["actor"] or "-"
    senders = [f"{s['phone_number']} {s['status']}" for s in customer["senders"]] or ["-"]
    templates = ", ".join(f"{n} {k}" for k, n in customer["templates"].items()) or "-"
    first = (customer["id"], step, actor, senders[0], templates)
    return [first, *(("", "", "", sender, "") for sender in senders[1:])]


def _details(customer: dict, *, verbose: bool) -> list[str]:
    stage = customer["stage"]
    lines = []
    if stage["step"] is not None:
        lines += _wrapped("next: ", stage["next_action"])
    said = stage["next_action"] if stage["step"] is not None else ""
    for sender in customer["senders"]:
        lines += _sender_lines(sender, verbose=verbose, said=said)
    for r in customer["rejections"]:
        named = "" if r["whatsapp_name"] == r["name"] else f" as {r['whatsapp_name']}"
        rejected = f'{r["name"]}[{r["language"]}]{named}: "{r["reason"]}"'
        lines += _wrapped("rejected: ", rejected)
    lines += _blocked_lines(customer)
    for warning in customer["warnings"]:
        lines += _wrapped("warning: ", warning)
    return lines


def _blocked_lines(customer: dict) -> list[str]:
    """One line per gate: what it blocks, and who must do what to open it."""
    gates: dict[tuple[int, str, str, str], list[str]] = {}
    for b in customer["blocked"]:
        what = b["address"].removeprefix(f"customer.{customer['id']}/")
        gates.setdefault((b["step"], b["gate"], b["actor"], b["action"]), []).append(what)
    lines = []
    for (step, gate, actor, action), blocked in sorted(gates.items()):
        count = f"{len(blocked)} change{'s' if len(blocked) > 1 else ''}"
        text = f"{count} at step {step} ({gate}): {actor} must {action}: {', '.join(blocked)}"
        lines += _wrapped("blocked: ", text)
    return lines


def _sender_lines(sender: dict, *, verbose: bool, said: str) -> list[str]:
    """A sender that is not online (what to do, unless the `next:` line `said` it), a
    display name in review, and the quality and limit when worth a look (or `verbose`)."""
    label = f"sender {sender['phone_number']}: "
    lines = []
    if sender["status"] != "ONLINE":
        reasons = "".join(f" [{r}]" for r in sender["offline_reasons"])
        todo = "" if sender["next_step"] in said else f": {sender['next_step']}"
        lines += _wrapped(label, f"{sender['status']}{reasons}{todo}")
    if (sender["pending_display_name_status"] or "").upper() == "PENDING_REVIEW":
        lines += _wrapped(label, f"display name {sender['pending_display_name']!r} in review")
    if verbose or sender["quality_rating"] not in (None, "HIGH", "UNKNOWN"):
        quality = sender["quality_rating"] or "unknown"
        limit = sender["messaging_limit"] or "unknown"
        lines += _wrapped(label, f"quality {quality}, messaging limit {limit}")
    return lines


def _wrapped(label: str, text: str) -> list[str]:
    """`text` under `label`, wrapped at WIDTH: Twilio's text (a reason, a name) on lines
    of its own, where a word that starts `::` never starts a line, as a CI log reads a
    line `::error::...` (leading spaces aside) as a command: it stays on the line before."""
    lines: list[str] = []
    for line in textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent="  " + label,
        subsequent_indent=" " * (2 + len(label)),
        break_long_words=False,
        break_on_hyphens=False,
    ):
        if lines and line.lstrip().startswith("::"):
            lines[-1] += " " + line.lstrip()
        else:
            lines.append(line)
    return lines
