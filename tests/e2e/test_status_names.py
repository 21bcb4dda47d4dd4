"""`wa-sync status` names a rejected template as the plan and `output` do: by the
template that declares it, with the name WhatsApp knows it by when that differs (a
`_vN` version, a content made in the Console), never by its FriendlyName alone."""

from __future__ import annotations

import json

from tests.e2e.test_import_estates import Console
from tests.e2e.test_lifecycle import CID, by_name, live_v1, roll_out_v2_and_reject
from tests.e2e.test_reconcile import account_of

__all__ = ["live_v1"]  # the fixture, used by name


def rejections(cli) -> list[dict]:
    result = cli("status", "--format", "json")
    assert result.code == 0, result.err
    (customer,) = json.loads(result.out)["customers"]
    return customer["rejections"]


def test_a_rejected_version_is_named_by_its_template(repo, cli, emulator, live_v1):
    roll_out_v2_and_reject(repo, cli, emulator)

    assert rejections(cli) == [
        {
            "name": "recall_offer",
            "whatsapp_name": "recall_offer_v2",
            "language": "en",
            "reason": "PROMOTIONAL",
        }
    ]
    text = cli("status").out
    assert 'rejected: recall_offer[en] as recall_offer_v2: "PROMOTIONAL"' in text
    # as `output` names it: the template's row, its rejected version under it
    rows = cli("output").out.splitlines()
    template_row = next(line for line in rows if " recall_offer " in line)
    assert template_row.split()[1] == "recall_offer"
    assert rows[rows.index(template_row) + 1].split()[-2:] == ["rejected", "recall_offer_v2"]


def test_a_console_template_is_named_by_its_whatsapp_name(repo, cli, emulator, live_v1):
    """A content made in the Console, whose FriendlyName is no template name and which
    it submitted under another name: no template declares it, so its WhatsApp name."""
    sid = Console(emulator, account_of(emulator, CID)["sid"]).content(
        "Spring Promo",
        body="Spring is here: 10% off a check-up.",
        submit_as="spring_promo",
        category="MARKETING",
    )
    emulator.reject(sid, "PROMOTIONAL")

    assert rejections(cli) == [
        {
            "name": "spring_promo",
            "whatsapp_name": "spring_promo",
            "language": "en",
            "reason": "PROMOTIONAL",
        }
    ]
    assert 'rejected: spring_promo[en]: "PROMOTIONAL"' in cli("status").out
    assert "recall_offer" in by_name(emulator)  # the declared ones are not rejected
