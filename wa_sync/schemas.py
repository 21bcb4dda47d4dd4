"""The JSON Schemas of schema/*.schema.json, as installed with the package.

The files live in `wa_sync/schema/`, installed as package data; the repository's
`schema/`, where editors find them, is a link to that directory, so the same
files serve a checkout, an editable install and a wheel.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


def schema_file_text(kind: str) -> str:
    """The text of `<kind>.schema.json` (customer, template, wa-sync, plan)."""
    return resources.files("wa_sync").joinpath("schema", f"{kind}.schema.json").read_text("utf-8")


@cache
def load_schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_file_text(kind))
    return schema
