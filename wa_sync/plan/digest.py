"""Digests for the stale-plan check (SPEC §3): one of the configuration in scope and
one per customer of the live objects a plan was computed from."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from wa_sync.model import Config, Customer, Flow, LiveCustomer, TechProviderStatus
from wa_sync.plan.normalise import content_state, sender_state


def _json(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _sha256_text(text: str) -> str:
    # surrogatepass: a plan file's JSON may hold a lone surrogate ("\ud800")
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _sha256(doc: Any) -> str:
    return _sha256_text(_json(doc))


def document_digest(doc: Mapping[str, Any]) -> str:
    """A saved plan's seal: sha256 of its document without its own `digest`, so that
    `apply PLANFILE` refuses any edit, options and entries included (SPEC §4.8)."""
    return _sha256({key: value for key, value in doc.items() if key != "digest"})


def customer_config_text(c: Customer) -> str:
    """One customer's part of the configuration digest: what can change its plan."""
    doc: dict[str, Any] = {
        "id": c.id,
        "name": c.name,
        "account_sid": c.account_sid,
        "waba_id": c.waba_id,
        "onboarding": [
            c.onboarding.terms_accepted,
            str(c.onboarding.business_verification),
            str(c.onboarding.access_request),
            str(c.onboarding.invitation),
        ],
        "senders": [[s.sender_id, sender_state(s), *_ignored(s.ignore)] for s in c.senders],
        "templates": [
            [t.name, t.category, content_state(t), *_ignored(t.ignore)] for t in c.templates
        ],
    }
    if c.onboarding.flow is Flow.EMBEDDED_SIGNUP:  # a legacy customer's digest is as it was
        doc["onboarding"] += [str(c.onboarding.flow), str(c.onboarding.signup)]
    guarded = [s.sender_id for s in c.senders if s.protect] + [
        t.address for t in c.templates if t.protect
    ]
    if c.protect or guarded:  # a key only when something is protected
        doc["protect"] = [c.protect, guarded]
    return _json(doc)


def _ignored(ignore: tuple[str, ...]) -> list[list[str]]:
    """`ignore:` changes a plan; absent, the digest is what it was before the key existed."""
    return [list(ignore)] if ignore else []


def config_digest(
    config: Config, scope: Iterable[str], parts: Mapping[str, str] | None = None
) -> str:
    """Everything in the configuration that can change a plan for `scope`: the digest
    of `{"customers": [...], "settings": [prune, max_delete_fraction]}` as canonical
    JSON. `parts` has customer_config_text of customers already worked out (a plan
    builder makes them while waiting on Twilio); the JSON is joined from the parts,
    byte for byte what dumping the whole document gives (its keys sorted)."""
    wanted = set(scope)
    known = parts or {}
    customers = ",".join(
        known.get(c.id) or customer_config_text(c) for c in config.customers if c.id in wanted
    )
    chosen: list[object] = [config.settings.prune, config.settings.max_delete_fraction]
    if config.isv.tech_provider.status is not TechProviderStatus.NOT_APPLIED:
        chosen.append(str(config.isv.tech_provider.status))  # gates embedded_signup senders
    settings = _json(chosen)
    return _sha256_text(f'{{"customers":[{customers}],"settings":{settings}}}')


def live_digest(live: LiveCustomer) -> str:
    """Every live fact a plan for this customer depends on."""
    account = live.account
    return _sha256(
        {
            "account": [account.sid, account.friendly_name, account.status] if account else None,
            "senders": sorted(
                [s.sid, s.sender_id, s.status, s.waba_id, sender_state(s)] for s in live.senders
            ),
            "contents": sorted(
                [
                    c.sid,
                    c.friendly_name,
                    str(c.approval_status),
                    c.approval_name,
                    c.approval_category,
                    content_state(c),
                ]
                for c in live.contents
            ),
            # wa-sync's records of deleted approved templates (a key only when there are)
            **(
                {"retired": sorted([c.sid, c.friendly_name, c.date_created] for c in live.retired)}
                if live.retired
                else {}
            ),
        }
    )
