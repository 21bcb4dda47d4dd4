"""What a command that reads Twilio imports before its first request.

`plan` forks its load and sends its first request before the loader (Jinja, the lint,
the libraries), the planner (deepdiff), YAML and the twilio SDK's client (with
`requests`) are imported: a tenth of a second or more of each plan (docs/performance.md). These
imports are the path to that first request; the modules below must not be on it.
"""

from __future__ import annotations

import subprocess
import sys

LATER = (
    "wa_sync.config.repo",
    "jinja2",
    "deepdiff",
    "requests",
    "twilio.rest",
    "twilio.http",
    "yaml",  # wa-sync.yaml's settings are read while the first request is on its way
    "hashlib",  # for --shard only
)
# `plan` prints the plan it makes: its types and renderers come once it is made (apply
# needs them at once, for a saved plan).
LATER_IN_PLAN = (
    "wa_sync.plan.change",
    "wa_sync.render.text",
    "wa_sync.render.json",
    "wa_sync.render.markdown",
)


def imported(modules: str, watched: tuple[str, ...]) -> list[str]:
    """Which of `watched` a new interpreter has imported after importing `modules`."""
    code = f"import sys, {modules}; print(' '.join(m for m in {watched!r} if m in sys.modules))"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return found.stdout.split()


def test_the_path_to_the_first_request_imports_no_loader_planner_or_sdk_client():
    path = "wa_sync.cli, wa_sync.commands.plan, wa_sync.commands.apply, wa_sync.connect, "
    assert imported(path + "wa_sync.gateway.pages", LATER) == []


def test_a_plans_first_request_goes_before_its_renderers_are_imported():
    path = "wa_sync.cli, wa_sync.commands.plan, wa_sync.connect, wa_sync.gateway.pages"
    assert imported(path, LATER_IN_PLAN) == []
