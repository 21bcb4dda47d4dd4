"""Each change's cause: `config` when the YAML changed since the base revision,
`drift` when someone changed Twilio by hand and the YAML did not change."""

from __future__ import annotations

import json
import subprocess

import requests

from tests.e2e.helpers import customer_doc


def git(root, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def changes_of(cli) -> list[dict]:
    result = cli("plan", "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)["changes"]


def test_hand_edit_in_twilio_is_drift_and_yaml_edit_is_config(repo, cli, emulator):
    repo.customer("clinic-one", customer_doc(1))
    git(repo.root, "init", "-q")
    git(repo.root, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    git(repo.root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "x")
    assert cli("apply", "--auto-approve").code == 0

    # someone edits the profile in the Twilio console: the YAML did not change
    (account,) = emulator.state()["accounts"]
    (sender,) = emulator.state()["senders"][account["sid"]]
    edited = requests.post(
        f"{emulator.url}/v2/Channels/Senders/{sender['sid']}",
        json={"profile": {"about": "Edited by hand"}},
        auth=(account["sid"], account["auth_token"]),
        timeout=10,
    )
    assert edited.status_code == 202, edited.text
    (change,) = changes_of(cli)
    assert change["action"] == "update"
    assert change["cause"] == "drift"
    assert change["before"]["profile"]["about"] == "Edited by hand"
    assert "drift" in cli("plan").out

    # now the YAML changes too: the same update is caused by the configuration
    repo.edit(
        "customers/clinic-one.yaml", lambda d: d["senders"][0]["profile"].update(about="New words")
    )
    (change,) = changes_of(cli)
    assert change["cause"] == "config"
