"""The WhatsApp policy lint: one small function per rule id of shared/whatsapp-rules.md.

Rules register themselves with `@rule`; `lint_config` runs them all over the
rendered, normalised model and returns every Problem found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from wa_sync.errors import Problem
from wa_sync.model import Config

Rule = Callable[[Config], Iterable[Problem]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def lint_config(config: Config) -> list[Problem]:
    return [problem for check in RULES for problem in check(config)]
