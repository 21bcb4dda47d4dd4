"""Contract fixtures: Twilio's OpenAPI descriptions and SDK traffic recorded from the emulator.

Each spec comes from $WA_SYNC_OAI_DIR, else <repo>/../shared/twilio-oai, else
<repo>/.contract-specs (`make contract-specs` fills it from npm with the files the others
lack: ../shared/twilio-oai has no twilio_sync_v1.json, the apply lock's API).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from openapi_core import Config, OpenAPI
from twilio.http.response import Response

from tests.contract.adapters import Exchange
from tests.emulator.helpers import EmulatorHttpClient

REPO = Path(__file__).resolve().parents[2]
SPEC_FILES = {
    "https://api.twilio.com": "twilio_api_v2010.json",
    "https://content.twilio.com": "twilio_content_v1.json",
    "https://messaging.twilio.com": "twilio_messaging_v2.json",
    "https://sync.twilio.com": "twilio_sync_v1.json",
}


def spec_path(name: str) -> Path | None:
    """The first of the candidate directories that holds the file `name`."""
    candidates = [
        os.environ.get("WA_SYNC_OAI_DIR"),
        REPO.parent / "shared" / "twilio-oai",
        REPO / ".contract-specs",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / name).is_file():
            return Path(candidate) / name
    return None


# Properties Twilio leaves out of an answer while they are unset: nullable enums whose
# enum lacks null, so that null is not a valid value (openapi-core reads it so, and the
# contract must catch a null there) and absence is how "unset" is said. The policy that
# every documented property is present skips them, as it skips write-only ones.
OMITTED_WHILE_UNSET = {"messaging.v2.channels_sender.configuration": ("account_type",)}


def omitted_while_unset(spec: dict[str, Any]) -> dict[str, Any]:
    schemas = spec.get("components", {}).get("schemas", {})
    for name, properties in OMITTED_WHILE_UNSET.items():
        documented = schemas.get(name, {}).get("properties", {})
        for prop in (p for p in properties if p in documented):  # older specs lack some
            documented[prop]["writeOnly"] = True
    return spec


@pytest.fixture(scope="session")
def specs() -> dict[str, OpenAPI]:
    """One OpenAPI per product host; every documented response property is required."""
    paths = {host: spec_path(name) for host, name in SPEC_FILES.items()}
    missing = [SPEC_FILES[host] for host, path in paths.items() if path is None]
    if missing:
        pytest.fail(  # never a silent skip: `make test` fetches them first
            f"Twilio OpenAPI files not found: {', '.join(missing)}; set WA_SYNC_OAI_DIR "
            f"or run make contract-specs"
        )
    config = Config(spec_validator_cls=None, response_properties_default_policy="required")
    return {
        host: OpenAPI.from_dict(
            omitted_while_unset(json.loads(path.read_text("utf-8"))), config=config
        )
        for host, path in paths.items()
        if path is not None
    }


class RecordingHttpClient(EmulatorHttpClient):
    """Routes the SDK to the emulator and keeps every exchange for validation."""

    def __init__(self, base_url: str, exchanges: list[Exchange]) -> None:
        super().__init__(base_url)
        self.exchanges = exchanges

    def request(
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        auth: Any = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        response = super().request(
            method, url, params=params, data=data, headers=headers, auth=auth,
            timeout=timeout or 10, allow_redirects=allow_redirects,
        )  # fmt: skip
        self.exchanges.append(
            Exchange(
                method=method.upper(),
                url=url,
                params=dict(params) if params else None,
                status=response.status_code,
                body=response.text,
                headers=dict(response.headers or {}),
            )
        )
        return response
