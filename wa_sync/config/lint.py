"""The WhatsApp policy lint: one small function per rule id of shared/whatsapp-rules.md.

Rules register themselves with `@rule("RULE-ID", ...)`; `lint_config` runs them all
over the rendered, normalised model and returns every Problem found. The rule
functions live in `wa_sync.config.rules.*` and are registered when this module is
imported. Rule ids that the lint cannot check offline are listed, with the reason,
in `NOT_ENFORCED`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from wa_sync.config.rules._common import attributing, remembering
from wa_sync.errors import Problem
from wa_sync.model import Config, Customer, Template

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
    return _for_customers(config, found, origins)


def _for_customers(
    config: Config, problems: list[Problem], origins: Mapping[int, tuple[Problem, Template]]
) -> list[Problem]:
    """A problem in a library template is located in the library file. When every
    customer's rendering of that localization has it, it is the library's own and is
    reported once as it is; when only some have it (their `with:` values cause it, say
    a long business name), it names those customers, or out of a thousand renderings
    nobody could tell whose is at fault."""
    if not origins:  # no problem in a library-rendered template (the usual case)
        return problems
    users: dict[int, list[Customer]] = {}  # id(rendered template) -> its customers
    everyone: dict[tuple[str, str], set[str]] = {}  # (library, language) -> customer ids
    for customer in config.customers:
        for template in customer.templates:
            if template.library:
                users.setdefault(id(template), []).append(customer)
                everyone.setdefault((template.library, template.language), set()).add(customer.id)
    having: dict[Problem, set[str]] = {}  # the same problem, from whose renderings
    for problem, template in origins.values():
        having.setdefault(problem, set()).update(c.id for c in users.get(id(template), ()))
    attributed = []
    for problem in problems:
        origin = origins.get(id(problem))
        if origin is None:
            attributed.append(problem)
            continue
        template = origin[1]
        if having[problem] >= everyone.get((template.library, template.language), set()):
            attributed.append(problem)
        else:
            whose = _rendered_for(users.get(id(template), []))
            attributed.append(replace(problem, message=f"{problem.message} ({whose})"))
    return attributed


def _rendered_for(customers: Sequence[Customer]) -> str:
    named = ", ".join(f"{c.id} ({c.where.file})" for c in customers[:3])
    more = f" and {len(customers) - 3} more" if len(customers) > 3 else ""
    plural = "s" if len(customers) > 1 else ""
    return f"as rendered with the `with:` values of customer{plural} {named}{more}"


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
