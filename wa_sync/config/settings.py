"""wa-sync.yaml, and the check every file of the repository goes through: read
inside the repository, scanned for credentials, parsed, checked against its schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wa_sync.config import schema
from wa_sync.config.characters import character_problems
from wa_sync.config.files import YamlFileError, read_text
from wa_sync.config.secrets import scan_credentials
from wa_sync.config.yamlfile import YamlDoc, parse_yaml
from wa_sync.errors import ConfigInvalid, Location, Problem
from wa_sync.model import Flow, Isv, Settings, TechProvider, TechProviderStatus

SETTINGS_FILE = "wa-sync.yaml"


def read_checked(root: Path, relative: str, kind: str, problems: list[Problem]) -> YamlDoc | None:
    """A file parsed and valid against the schema of `kind`, or None; its problems
    (credentials in it, YAML errors, schema errors) go to `problems`."""
    try:
        text = read_text(root, relative)
    except YamlFileError as exc:
        problems.append(exc.problem)
        return None
    secrets = scan_credentials(text, relative)
    problems += secrets
    try:
        doc = parse_yaml(text, relative)
    except YamlFileError as exc:
        problems.append(exc.problem)
        return None
    found = schema.validate(doc, kind) + character_problems(doc)
    invalid = bool(secrets) or any(p.is_error for p in found)
    if secrets:  # never echo a credential's value through a schema message
        lines = {p.where.line for p in secrets}
        found = [p for p in found if p.where.line not in lines]
    problems += found
    return None if invalid else doc


def read_settings(root: Path, problems: list[Problem]) -> tuple[Isv, Settings]:
    """wa-sync.yaml's `isv` and `settings`, the defaults when it is absent or invalid;
    its problems go to `problems`."""
    if (root / "wa-sync.yml").exists():
        problems.append(
            Problem(
                Location("wa-sync.yml", None),
                "",
                "wa-sync reads wa-sync.yaml, not wa-sync.yml",
                "rename it to wa-sync.yaml",
            )
        )
    path = root / SETTINGS_FILE
    if not path.exists() and not path.is_symlink():
        return Isv(), Settings()
    doc = read_checked(root, SETTINGS_FILE, "wa-sync", problems)
    if doc is None:
        return Isv(), Settings()
    return _isv(doc.data.get("isv", {})), _settings(doc.data.get("settings", {}))


def _isv(data: dict[str, Any]) -> Isv:
    provider = data.get("tech_provider", {})
    tech_provider = TechProvider(
        status=TechProviderStatus(provider.get("status", "not_applied")),
        business_verified=provider.get("business_verified", False),
    )
    return Isv(**{**data, "tech_provider": tech_provider})


def _settings(data: dict[str, Any]) -> Settings:
    return Settings(**{**data, "onboarding_flow": Flow(data.get("onboarding_flow", "legacy"))})


def load_settings(root: str) -> Settings:
    """Only wa-sync.yaml's settings, the defaults when it is absent (for a command that
    needs a default from them, such as `new` and `import`). Raises ConfigInvalid with
    the file's errors when it is invalid: a default taken then would pass for the
    file's own setting (an `onboarding_flow` it sets, read past a typo elsewhere)."""
    problems: list[Problem] = []
    try:
        _isv, settings = read_settings(Path(root), problems)
    except (TypeError, ValueError):
        return Settings()
    errors = [p for p in problems if p.is_error]
    if errors:
        raise ConfigInvalid(errors)
    return settings
