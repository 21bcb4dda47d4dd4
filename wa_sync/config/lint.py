"""The WhatsApp policy lint: one small function per rule id of shared/whatsapp-rules.md.

Rules register themselves with `@rule("RULE-ID", ...)`; `lint_config` runs them all
over the rendered, normalised model and returns every Problem found. The rule
functions live in `wa_sync.config.rules.*` and are registered when this module is
imported. Rule ids that the lint cannot check offline are listed, with the reason,
in `NOT_ENFORCED`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from wa_sync.config.attribution import for_customers
from wa_sync.config.rules._common import attributing, remembering
from wa_sync.errors import Problem
from wa_sync.model import Config

Rule = Callable[[Config], Iterable[Problem]]
RULES: list[Rule] = []
# rule id -> the function that checks it (one function may check several close ids)
RULE_IDS: dict[str, Rule] = {}

# Confidence-A rules of whatsapp-rules.md that a lint over the repository's files
# cannot check, and why. tests/lint keeps this and RULE_IDS in step with the file.
NOT_ENFORCED: dict[str, str] = {
    "TPL-NAME-REUSE": "needs the WABA's deletion history, which is live state, not config",
    "TPL-CAT-MIXED": "whether a text is promotional is Meta's judgement; no sourced word list",
    "BTN-SESSION-MAX": "applies to unapproved in-session messages; every template is "
    "submitted for approval",
    "LC-EDIT-STATUS": "about editing live templates; the plan creates a new version instead",
    "LC-EDIT-FIELDS": "about editing live templates; the plan creates a new version instead",
    "LC-EDIT-CAT": "about editing live templates; the plan creates a new version instead",
    "LC-EDIT-RATE": "needs the live edit history",
    "LC-TW-LOCKED": "handled by the plan: submitted content is replaced by a new version",
    "LC-DELETE-DISABLED": "about live template status, not config",
    "LC-ARCHIVE": "about live template activity, not config",
    "LC-LIMIT-RATE": "depends on how many templates one apply creates against live state",
    "DN-GENERIC": "not machine-checkable without word lists, and none is sourced",
    "DN-CHANGE-RATE": "needs the live display-name change history",
    "DN-REJECT-EFFECT": "a consequence of a rejection, not a property of the config",
    "PRF-VERT-META": "the files use Twilio's profile.vertical names (PRF-VERT-TW); "
    "the Meta enum applies after Twilio's translation",
}


def rule(*ids: str) -> Callable[[Rule], Rule]:
    """Register a check for the rule ids it reports; every Problem it yields must carry
    one of them as `rule`."""

    def register(fn: Rule) -> Rule:
        RULES.append(fn)
        for rule_id in ids:
            if rule_id in RULE_IDS:
                raise ValueError(f"rule id {rule_id} registered twice")
            RULE_IDS[rule_id] = fn
        return fn

    return register


def lint_config(config: Config) -> list[Problem]:
    """Every WhatsApp policy problem in `config`, errors and warnings."""
    with remembering(), attributing() as origins:
        found = [problem for check in RULES for problem in check(config)]
    return for_customers(config, found, origins)


# Importing the rule modules registers their rules.
from wa_sync.config.rules import (  # noqa: E402, F401
    authentication,
    buttons,
    display_name,
    numbers,
    profile,
    samples,
    templates,
    variables,
)
