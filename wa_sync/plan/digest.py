"""Digests for the stale-plan check (SPEC §3): one of the configuration in scope and
one per customer of the live objects a plan was computed from."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from wa_sync.model import Config, LiveCustomer
from wa_sync.plan.normalise import content_state, sender_state


def _sha256(doc: Any) -> str:
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def config_digest(config: Config, scope: Iterable[str]) -> str:
    """Everything in the configuration that can change a plan for `scope`."""
    wanted = set(scope)
    customers = []
    for c in config.customers:
        if c.id not in wanted:
            continue
        customers.append(
            {
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
                "senders": [[s.sender_id, sender_state(s)] for s in c.senders],
                "templates": [[t.name, t.category, content_state(t)] for t in c.templates],
            }
        )
    settings = config.settings
    return _sha256(
        {
            "settings": [settings.prune, settings.max_delete_fraction],
            "customers": customers,
        }
    )


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
        }
    )
