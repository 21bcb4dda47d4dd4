"""open_gateway with the emulator: embedded (--emulator) and over WA_SYNC_TWILIO_URL."""

from __future__ import annotations

from pathlib import Path

from wa_sync.connect import open_gateway
from wa_sync.emulator import Emulator
from wa_sync.model import Customer


def test_the_embedded_emulator_keeps_its_state_under_the_root(tmp_path: Path):
    # conftest points WA_SYNC_TWILIO_URL at a dead port and there are no credentials:
    # --emulator needs neither.
    environ = {"WA_SYNC_TWILIO_URL": "http://127.0.0.1:9"}
    acme = Customer(id="acme", name="Acme")
    with open_gateway(environ=environ, root=str(tmp_path), emulator=True, parallelism=2) as gw:
        assert gw.emulated is True
        created = gw.create_subaccount(acme)
        parent = gw.parent_sid
    assert (tmp_path / ".wa-sync" / "emulator.db").is_file()
    with open_gateway(environ=environ, root=str(tmp_path), emulator=True, parallelism=2) as gw:
        assert gw.parent_sid == parent
        live = gw.read([acme])
    assert live.customers["acme"].account is not None
    assert live.customers["acme"].account.sid == created.sid


def test_wa_sync_twilio_url_reaches_a_running_emulator(tmp_path: Path):
    with Emulator() as emu:
        environ = {
            "TWILIO_ACCOUNT_SID": emu.parent_sid,
            "TWILIO_AUTH_TOKEN": emu.parent_token,
            "WA_SYNC_TWILIO_URL": emu.url + "/",
        }
        with open_gateway(environ=environ, root=str(tmp_path), emulator=False, parallelism=3) as gw:
            assert gw.emulated is True
            gw.create_subaccount(Customer(id="acme", name="Acme"))
            live = gw.read([Customer(id="acme", name="Acme")])
        assert live.customers["acme"].account is not None
        paths = [e["path"] for e in emu.request_log()]
        # the create's lookup, the read's listing, then the subaccount's two listings
        # (made at once, in either order)
        assert paths[:2] == ["/2010-04-01/Accounts.json", "/2010-04-01/Accounts.json"]
        assert sorted(paths[2:]) == ["/v1/ContentAndApprovals", "/v2/Channels/Senders"]
    assert not (tmp_path / ".wa-sync").exists()
