"""Fixtures the gateway's tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import cli, emulator, env, repo  # noqa: F401 (fixtures)
from tests.gateway.scripted import ScriptedServer, Sleeps


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
