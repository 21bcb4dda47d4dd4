"""Control characters in Twilio's text (SPEC §4.8, hostile answers): a rejection reason,
an error message or a subaccount's name holding ESC, OSC, BEL, backspace, CR, C1 or a
bidirectional override reaches no output raw — terminal, CI log, `--report`, the
pull-request comment, JSON — but is shown escaped (`\\x1b`, `\\u202e`)."""

from __future__ import annotations

import json
import unicodedata

import pytest

from tests.e2e.helpers import customer_doc
from tests.e2e.test_import_estates import Console
from tests.e2e.test_reconcile import account_of
from tests.emulator.helpers import raw as raw_request

# clear the screen, set the window title (OSC), ring, erase, return, CSI in C1 form,
# right-to-left override and a left-to-right isolate
HOSTILE = "Bad\x1b[2J\x1b]0;pwned\x07\x08\x08\rX\x9b31m\u202eevil\u2066 done"
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def raw_controls(text: str) -> list[str]:
    """The characters a terminal or a reader would obey rather than show."""
    return [
        c
        for c in text
        if (unicodedata.category(c) == "Cc" and c not in "\n\t") or c in BIDI or c in "\u2028\u2029"
    ]


def clinic_one_s_recall(emulator) -> tuple[dict, dict]:
    """clinic-one's subaccount and its recall_offer content, in the emulator's state."""
    account = account_of(emulator, "clinic-one")
    (recall,) = [
        c
        for c in emulator.state()["contents"][account["sid"]]
        if c["friendly_name"] == "recall_offer"
    ]
    return account, recall


@pytest.fixture
def hostile(repo, cli, emulator):
    """clinic-one applied, its recall_offer template rejected with a hostile reason, its
    sender's profile edited to a hostile about, and a subaccount named for a customer
    with no file, with a hostile name."""
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    account, recall = clinic_one_s_recall(emulator)
    emulator.reject(recall["sid"], reason=HOSTILE)
    emulator.create_subaccount(f"wa-sync:gone{HOSTILE}")
    (sender,) = emulator.state()["senders"][account["sid"]]
    edited = raw_request(  # a profile edited in the Console: drift the plan shows
        emulator.url,
        "POST",
        f"/v2/Channels/Senders/{sender['sid']}",
        (account["sid"], account["auth_token"]),
        json={"profile": {"about": f"About{HOSTILE}"}},
    )
    assert edited.status_code in (200, 202), edited.text
    return repo


@pytest.mark.parametrize(
    "args",
    [
        ("plan",),
        ("plan", "-v"),
        ("plan", "--format", "markdown"),
        ("plan", "--format", "json"),
        ("status",),
        ("status", "--format", "json"),
        ("output",),
        ("output", "--format", "json"),
    ],
    ids=lambda a: " ".join(a),
)
def test_twilio_text_is_escaped_in_every_output(hostile, cli, args):
    result = cli(*args)
    assert result.code == 0, result.err
    assert raw_controls(result.out + result.err) == []
    if args[-1] == "json":
        json.loads(result.out)  # still the same JSON document


def test_the_escapes_are_visible(hostile, cli):
    status = cli("status")
    # the CR is a line break, flattened to a space; the rest shown as escapes
    assert "Bad\\x1b[2J\\x1b]0;pwned\\x07\\x08\\x08 X\\x9b31m\\u202eevil\\u2066 done" in status.out
    plan = cli("plan")
    assert "About" in plan.out
    assert "wa-sync:gone" in plan.out
    assert "\\x1b]0;pwned" in plan.out
    doc = json.loads(cli("plan", "--format", "json").out)
    # the JSON says what is where it identifies an object; its prose is what people read
    (gone,) = [note for note in doc["notes"] if note["customer"] == f"gone{HOSTILE}"]
    assert gone["address"] == f"customer.gone{HOSTILE}"
    assert "(wa-sync:goneBad\\x1b[2J\\x1b]0;pwned\\x07" in gone["message"]


def test_a_hostile_error_message_is_escaped_in_the_summary_log_and_report(
    repo, cli, emulator, tmp_path
):
    repo.customer("clinic-one", customer_doc(1))
    emulator.fail_next("POST", r"/Content$", status=400, count=20, message=HOSTILE)
    report = tmp_path / "report.jsonl"
    result = cli("apply", "--auto-approve", "-vv", "--report", str(report))
    assert result.code == 1
    assert "\\x1b]0;pwned" in result.out + result.err
    written = report.read_text(encoding="utf-8")
    assert raw_controls(result.out + result.err + written) == []
    records = [json.loads(line) for line in written.splitlines()]
    assert any("\\x1b]0;pwned" in json.dumps(r, ensure_ascii=False) for r in records)


def test_a_hostile_template_name_made_in_the_console_is_escaped_when_pruned(
    repo, cli, emulator, tmp_path
):
    """An undeclared content's name is Twilio's text too: the plan, apply's progress and
    summary lines and the report show it escaped."""
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    Console(emulator, account_of(emulator, "clinic-one")["sid"]).content(
        f"console{HOSTILE}", body="Hello"
    )
    report = tmp_path / "report.jsonl"
    result = cli("apply", "--auto-approve", "--prune", "--report", str(report))
    assert result.code == 0, result.out + result.err
    assert "delete customer.clinic-one/template.consoleBad\\x1b[2J" in result.out
    assert raw_controls(result.out + result.err + report.read_text(encoding="utf-8")) == []


def test_a_line_break_in_a_whatsapp_name_starts_no_line_of_output(repo, cli, emulator):
    """Twilio checks the names it is sent, so only a hostile answer holds a line break:
    written into the emulator's state, as such an answer would bring it. `output`'s text
    shows the name on its own row, the break as a space, so that no line starts with a
    CI log command; its JSON keeps the name as Twilio gave it (json escapes the break)."""
    forged = "recall_offer\n::error file=customers/clinic-one.yaml::forged\r\n::warning::too"
    recall = whatsapp_name_from_twilio(repo, cli, emulator, forged)

    result = cli("output")

    assert result.code == 0, result.err
    assert [line for line in result.out.splitlines() if line.startswith("::")] == []
    row = next(line for line in result.out.splitlines() if recall in line)
    assert row.endswith(
        "recall_offer ::error file=customers/clinic-one.yaml::forged ::warning::too"
    )
    doc = json.loads(cli("output", "--format", "json").out)
    assert doc["customers"]["clinic-one"]["recall_offer"]["en"]["whatsapp_name"] == forged


def test_a_del_in_twilio_s_text_reaches_no_json_output_raw(repo, cli, emulator):
    """DEL (0x7f) is a control character the hostile fixture above lacks: `output` and
    `status` escape it in JSON (`output` by json's ensure_ascii, the others through
    visible_json, since json.dumps with ensure_ascii=False leaves it raw)."""
    named = "recall\x7foffer"
    whatsapp_name_from_twilio(repo, cli, emulator, named)

    for args in (("output", "--format", "json"), ("status", "--format", "json")):
        result = cli(*args)
        assert result.code == 0, result.err
        assert raw_controls(result.out) == [], args
    doc = json.loads(cli("output", "--format", "json").out)  # the same document
    assert doc["customers"]["clinic-one"]["recall_offer"]["en"]["whatsapp_name"] == named


def whatsapp_name_from_twilio(repo, cli, emulator, name: str) -> str:
    """clinic-one applied, its recall_offer's WhatsApp name then `name` in the emulator's
    state, as a hostile answer would bring it (Twilio checks the names it is sent); the
    content's SID."""
    repo.customer("clinic-one", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    _, recall = clinic_one_s_recall(emulator)
    with emulator.store.tx() as db:
        db.execute("UPDATE contents SET approval_name = ? WHERE sid = ?", (name, recall["sid"]))
    return recall["sid"]
