"""A password in a sender's webhook URL set in the Twilio console (basic auth) is a
secret: no plan format, `status` nor `import` shows or writes it (SPEC §5), and the
plan still updates the URL to the declared one."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.helpers import customer_doc

CID = "clinic-one"
SECRET = "S3cret-pw"  # in each password below: no part of it is ever shown


@pytest.mark.parametrize(
    "password",
    ["Sup3r-S3cret-pw", "Sup3r@S3cret-pw"],
    ids=["plain", "with-an-at-sign"],  # the userinfo ends at the host's @, the last one
)
def test_a_webhook_password_from_twilio_is_never_shown(repo, cli, emulator, password):
    doc = customer_doc(1)
    doc["senders"][0]["webhook"] = {"callback_url": "https://hooks.example/wa"}
    repo.customer(CID, doc)
    assert cli("apply", "--auto-approve").code == 0
    (account,) = emulator.state()["accounts"]
    (sender,) = emulator.state()["senders"][account["sid"]]
    set_in_console = requests.post(
        f"{emulator.url}/v2/Channels/Senders/{sender['sid']}",
        json={"webhook": {"callback_url": f"https://isv:{password}@hooks.example/wa"}},
        auth=(account["sid"], account["auth_token"]),
        timeout=10,
    )
    assert set_in_console.status_code == 202, set_in_console.text

    outputs = [
        cli("plan", "-vv"),
        cli("plan", "--format", "json"),
        cli("plan", "--format", "markdown"),
        cli("status", "--format", "json"),
    ]
    assert all(result.code == 0 for result in outputs)
    assert "isv:***@hooks.example/wa" in outputs[0].out  # the drift, without the secret
    assert not [r for r in outputs if SECRET in r.out + r.err]
    imported = cli("import", CID, "--account-sid", account["sid"], "--force")
    assert SECRET not in imported.out + imported.err
    written = (repo.root / "customers" / f"{CID}.yaml").read_text(encoding="utf-8")
    assert "isv:***@hooks.example/wa" in written
    assert SECRET not in written

    repo.customer(CID, doc)
    assert cli("apply", "--auto-approve").code == 0
    (sender,) = emulator.state()["senders"][account["sid"]]
    assert sender["webhook"]["callback_url"] == "https://hooks.example/wa"
