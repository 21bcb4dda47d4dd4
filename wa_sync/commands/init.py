"""`wa-sync init [DIR]`: scaffold an estate repository whose files work as written.

The estate gets the layout of SPEC §2 (`wa-sync.yaml`, `customers/`, `templates/`,
`schema/`, the JSON Schemas its files' `$schema` headers point at), one example customer
per onboarding flow the schema accepts, one library template, editor settings, a
pre-commit configuration that runs the installed wa-sync, and GitHub workflows that use
wa-sync's action (action.yml) from a pinned ref: plan on pull requests, apply on merge,
a daily drift check. The files come from `wa_sync/scaffold/`, installed with the package.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
from importlib import resources
from pathlib import Path
from typing import TextIO

from wa_sync import SOURCE_REPOSITORY, __version__
from wa_sync.commands.files import write_file
from wa_sync.errors import UsageError
from wa_sync.gitinfo import toplevel
from wa_sync.runtime import Runtime
from wa_sync.schemas import schema_file_text

# The action the workflows use: this release's tag of the repository wa-sync comes from.
DEFAULT_ACTION = f"{SOURCE_REPOSITORY}@v{__version__}"
ACTION_PATTERN = re.compile(r"(?P<repo>[\w.-]+/[\w.-]+)@(?P<ref>[\w./-]+)\Z")

# estate path -> file in wa_sync/scaffold/ (package data keeps no dot-files)
SCAFFOLD = {
    "wa-sync.yaml": "wa-sync.yaml",
    # one customer per onboarding flow: `legacy` (SPEC §1) and `embedded_signup` (§1.1)
    "customers/example-clinic.yaml": "customer-legacy.yaml",
    "customers/example-cafe.yaml": "customer-embedded.yaml",
    "templates/appointment_reminder.yaml": "template.yaml",
    "README.md": "README.md",
    ".gitignore": "gitignore",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    ".vscode/settings.json": "vscode-settings.json",
    ".github/workflows/wa-sync-plan.yml": "workflow-plan.yml",
    ".github/workflows/wa-sync-apply.yml": "workflow-apply.yml",
    ".github/workflows/wa-sync-drift.yml": "workflow-drift.yml",
}
# In an estate already (it has SETTINGS), `--force` refreshes only the files wa-sync owns,
# the schemas, workflows, pre-commit and editor settings, which it rewrites on each
# release; the rest is the ISV's (docs/commands/init.md):
SETTINGS = "wa-sync.yaml"
# the estate's data, never written there: another example customer would be onboarded
ESTATE_DATA = (SETTINGS, "customers/", "templates/")
# starting points the ISV makes its own (its own ignores, its own words), written only
# where missing
STARTING_POINTS = ("README.md", ".gitignore")
# the schemas of the three file kinds, where the files' `$schema` headers point
SCHEMA_KINDS = ("wa-sync", "customer", "template")


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    run(
        directory=args.directory or args.root,
        action=args.action,
        force=args.force,
        out=runtime.stdout,
    )
    return 0


def run(*, directory: str, action: str, force: bool, out: TextIO) -> list[Path]:
    """Write every file of a new estate into `directory`; returns the paths written. In
    an estate already, `--force` refreshes only the files wa-sync owns (`refresh`)."""
    files = estate_files(action)
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{directory} is not a directory: choose a new or an existing directory")
    an_estate = os.path.lexists(root / SETTINGS)
    refreshing = an_estate and force
    if refreshing:
        files = {name: text for name, text in files.items() if refreshed(root, name)}
    in_the_way = sorted(
        {str(d) for name in files for d in Path(name).parents if (root / d).is_file()}
    )
    if in_the_way:  # checked first: nothing is written unless all of it can be
        raise UsageError(
            f"{', '.join(in_the_way)} is a file where wa-sync init needs a directory: move or "
            "rename it, then run init again"
        )
    existing = sorted(name for name in files if (root / name).exists())
    if (existing or an_estate) and not force:
        raise UsageError(_replaces_nothing(directory, existing, an_estate=an_estate))
    if refreshing:
        written = refresh(root, files, directory=directory, action=action, out=out)
    else:
        for name, text in files.items():
            write_file(root / name, text, force=force, shown=Path(name))
        written = [root / name for name in files]
        out.write(f"Initialized a wa-sync estate in {directory}: {len(files)} files.\n\n")
    top = toplevel(directory)
    below = top is not None and os.path.realpath(top) != os.path.realpath(directory)
    if top is not None and below:
        out.write(_below_the_top(directory, top))
    out.write(REFRESHED_STEPS if refreshing else next_steps(directory, in_a_repository=below))
    return written


def refreshed(root: Path, name: str) -> bool:
    """Whether `init --force` in the estate at `root` writes the scaffold's file `name`:
    wa-sync's own files always, the ISV's starting points only where missing, the
    estate's data never."""
    if name.startswith(ESTATE_DATA):
        return False
    return name not in STARTING_POINTS or not os.path.lexists(root / name)


def refresh(
    root: Path, files: dict[str, str], *, directory: str, action: str, out: TextIO
) -> list[Path]:
    """Write those of `files` that are missing or differ in the estate at `root`, and
    say which it replaced, added and kept."""
    changes = {name: _change(root / name, text) for name, text in files.items()}
    for name, change in changes.items():
        if change != "unchanged":
            write_file(root / name, files[name], force=change == "replaced", shown=Path(name))
    out.write(
        f"Refreshed wa-sync's own files in {directory}, an estate already (it has "
        f"{SETTINGS}):\n" + "".join(f"  {change:<9}  {name}\n" for name, change in changes.items())
    )
    data = [name for name in ESTATE_DATA if os.path.lexists(root / name)]
    ours = [name for name in STARTING_POINTS if name not in files]
    out.write(
        "Kept as they are:\n"
        f"  {', '.join(data)}: your estate's data, which init never writes into an estate\n"
        + (f"  {', '.join(ours)}: yours to edit, written only where missing\n" if ours else "")
        + f"The workflows use {action} (--action OWNER/REPO@REF pins another).\n\n"
    )
    return [root / name for name, change in changes.items() if change != "unchanged"]


def _change(path: Path, text: str) -> str:
    """What writing `text` at `path` does: added, replaced or unchanged."""
    if not os.path.lexists(path):
        return "added"
    try:
        return "unchanged" if path.read_bytes() == text.encode("utf-8") else "replaced"
    except OSError:  # a directory, say: writing it says why it cannot
        return "replaced"


def _replaces_nothing(directory: str, existing: list[str], *, an_estate: bool) -> str:
    if an_estate:
        return (
            f"{directory} is a wa-sync estate already (it has {SETTINGS}), and wa-sync init "
            "replaces nothing: pass --force to refresh the files wa-sync owns (schemas, "
            f"workflows, pre-commit and editor settings); it keeps your {SETTINGS}, "
            f"customers/, templates/, {' and '.join(STARTING_POINTS)} as they are"
        )
    return (
        f"{directory} already has {', '.join(existing)}: wa-sync init writes a new estate "
        "and replaces nothing; pass --force to overwrite those files with fresh ones"
    )


def _below_the_top(directory: str, top: str) -> str:
    """GitHub runs only the workflows at the top of a repository, and pre-commit reads
    only its configuration there: those written into `directory` never run."""
    relative = Path(os.path.relpath(os.path.realpath(directory), os.path.realpath(top)))
    workflows = Path(top) / ".github" / "workflows"
    return (
        f"Note: {directory} is inside the git repository at {top}, not at its top. GitHub runs "
        f"only the workflows in {workflows}, and pre-commit reads only "
        f"{Path(top) / '.pre-commit-config.yaml'}: move the three workflows of "
        f"{Path(directory) / '.github' / 'workflows'} there and give each wa-sync step "
        f"`root: {relative.as_posix()}` (docs/github-action.md), and give the pre-commit "
        f"hook `--root {relative.as_posix()}` and its `files:` pattern that folder; or make "
        f"{directory} a repository of its own.\n\n"
    )


def estate_files(action: str) -> dict[str, str]:
    """The estate's files, path -> text, with the workflows pinned to `action`."""
    match = ACTION_PATTERN.match(action)
    if match is None:
        raise UsageError(
            f"--action {action!r} is not OWNER/REPO@REF (a release tag or a commit SHA), "
            f"e.g. {DEFAULT_ACTION}"
        )
    fill = {
        "@ACTION@": action,
        "@SOURCE@": f"https://github.com/{match['repo']}",
        "@REF@": match["ref"],
    }
    files = {}
    for name, source in SCAFFOLD.items():
        text = resources.files("wa_sync").joinpath("scaffold", source).read_text("utf-8")
        for placeholder, value in fill.items():
            text = text.replace(placeholder, value)
        files[name] = text
    for kind in SCHEMA_KINDS:
        files[f"schema/{kind}.schema.json"] = schema_file_text(kind)
    return files


def next_steps(directory: str, *, in_a_repository: bool = False) -> str:
    first = (
        f"cd {shlex.quote(directory)}"
        if in_a_repository
        else f"cd {shlex.quote(directory)} && git init (if it is not a repository yet)"
    )
    steps = [
        first,
        "Edit wa-sync.yaml (your ISV's details), then replace the example customers in "
        "customers/ with your own (wa-sync new customer ID).",
        "Check it: wa-sync validate, then wa-sync --emulator plan (no Twilio needed).",
        "On GitHub: add the secrets TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, then push; "
        "pull requests get a plan comment and merges are applied (README.md).",
        "pre-commit install, to validate before each commit.",
    ]
    numbered = "".join(f"  {i}. {step}\n" for i, step in enumerate(steps, 1))
    return f"Next steps:\n{numbered}"


REFRESHED_STEPS = (
    "Next steps:\n"
    "  1. git diff: see what changed (edits of your own to a replaced file are gone: put "
    "back those you need).\n"
    "  2. wa-sync validate, then commit the refresh.\n"
)
