"""Fixtures: an emulator per test and real twilio SDK clients routed to it over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from twilio.rest import Client

from tests.emulator.helpers import EmulatorHttpClient
from wa_sync.emulator import Emulator

ClientFactory = Callable[..., Client]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    """Start emulators with non-default settings; all are closed after the test."""
    started: list[Emulator] = []

    def start(**settings: Any) -> Emulator:
        started.append(Emulator(**settings).start())
        return started[-1]

    yield start
    for emulator in started:
        emulator.close()


@pytest.fixture
def client_for(emu: Emulator) -> ClientFactory:
    """A real SDK client with the given credentials, talking to `emu` (or to `on=`)."""

    def make(
        username: str, password: str, account_sid: str | None = None, *, on: Emulator = emu
    ) -> Client:
        return Client(
            username, password, account_sid=account_sid, http_client=EmulatorHttpClient(on.url)
        )

    return make


@pytest.fixture
def parent(emu: Emulator, client_for: ClientFactory) -> Client:
    return client_for(emu.parent_sid, emu.parent_token)


@pytest.fixture
def sub(emu: Emulator, parent: Client, client_for: ClientFactory) -> Client:
    """A client authenticated as a fresh subaccount of the parent."""
    account = parent.api.v2010.accounts.create(friendly_name="wa-sync:sub")
    return client_for(account.sid, account.auth_token)
