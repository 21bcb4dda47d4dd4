"""A customer's subaccount renamed in the Twilio console (its FriendlyName no longer
`wa-sync:<id>`): the plan that would make a second subaccount says how to adopt the
first, rather than only to deregister the customer's live number there."""

from __future__ import annotations

import requests

from tests.e2e.helpers import customer_doc

CID = "clinic-one"


def test_a_renamed_subaccount_is_offered_for_adoption(repo, cli, emulator):
    repo.customer(CID, customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    (account,) = emulator.state()["accounts"]
    renamed = requests.post(
        f"{emulator.url}/2010-04-01/Accounts/{account['sid']}.json",
        data={"FriendlyName": "Clinic One (production)"},
        auth=(emulator.parent_sid, emulator.parent_token),
        timeout=10,
    )
    assert renamed.status_code == 200, renamed.text

    plan = cli("plan")
    assert plan.code == 0, plan.err
    assert f"add `account_sid: {account['sid']}` to customers/{CID}.yaml" in plan.out

    repo.edit(f"customers/{CID}.yaml", lambda d: d.update(account_sid=account["sid"]))
    adopted = cli("plan", "--detailed-exitcode")
    assert adopted.code == 0, adopted.out + adopted.err
    assert cli("apply", "--auto-approve").code == 0
    assert [a["sid"] for a in emulator.state()["accounts"]] == [account["sid"]]
