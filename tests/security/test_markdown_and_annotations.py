"""Security review: user text in a pull-request comment (plan --format markdown) and in
GitHub Actions output (validate --format github, and every text output a workflow log
shows).

The markdown renderer puts user text in two places: plain lines (escaped: HTML
entities, backslashes before markdown's specials, and an invisible WORD JOINER that
keeps GitHub from making @mentions, #references and bare links), and <pre> blocks
(HTML-escaped, markdown's specials as entities), where GitHub renders no markdown, no
mentions and no references. Nothing a customer file, a library template or Twilio's
rejection reason holds may become a link, an image, a mention, a reference or markup.
"""

from __future__ import annotations

import html
import re

import pytest

from tests.e2e.helpers import customer_doc
from tests.security.conftest import assert_clean_error, run_offline
from wa_sync.config.repo import printable
from wa_sync.plan.change import Action, Actor, Change, Gate, Note, NoteKind, Phase, Plan
from wa_sync.render import markdown
from wa_sync.render.markdown import MARKER, render_markdown

HOSTILE = [
    "[x](http://evil.example)",
    "![i](http://evil.example/i.png)",
    "<img src=x onerror=alert(1)>",
    "<a href='http://evil.example'>a</a>",
    "<details open>",
    "</pre>",
    "</details>",
    "<script>alert(1)</script>",
    "@octocat",
    "#123",
    "owner/repo#7",
    "`tick`",
    "**bold** _em_ ~~gone~~",
    "| a | b |",
    "> quoted",
    "<!-- comment",
    "http://bare.example www.bare.example me@mail.example",
    "&lt;already&gt; &#91;entity&#93;",
    "\\[escaped\\]",
    "line\n```\nfenced\n```\n",
    "::error::injected",
]
PAYLOAD = " ".join(HOSTILE)
OUR_TAGS = re.compile(r"</?(?:details|summary|b|pre)>")
MENTION = re.compile(r"(?<![A-Za-z0-9\\&])[@#][A-Za-z0-9]")
BARE_LINK = re.compile(r"https?://|www\.|[A-Za-z0-9]@[A-Za-z0-9]", re.IGNORECASE)


def assert_inert(md: str) -> None:
    """GitHub would render `md` with no user-made link, image, mention, reference or tag."""
    inside = False
    blocks = 0
    for line in md.split("\n"):
        assert "\r" not in line
        if line == "<pre>":
            assert not inside, "a <pre> inside a <pre>"
            inside, blocks = True, blocks + 1
            continue
        if line == "</pre>":
            assert inside, "a </pre> that closes nothing"
            inside = False
            continue
        if inside:
            # raw HTML block: only entities, never a tag, never markdown's specials
            assert "<" not in line, line
            assert ">" not in line, line
            assert not set(line) & set("[]()`*_!|~\\"), line
            continue
        rest = OUR_TAGS.sub("", line.replace(MARKER, ""))
        assert "<" not in rest, line
        assert ">" not in rest, line
        assert "](" not in line, line
        assert "```" not in line, line
        assert not MENTION.search(line), line
        assert not BARE_LINK.search(line), line
        assert not line.startswith(("    ", "\t")), line  # no indented code either
    assert not inside, "a <pre> left open"
    assert md.count("<details>") == md.count("</details>")
    assert blocks == md.count("</pre>")


def hostile_plan(n_customers: int = 1, per_customer: int = 4) -> Plan:
    gate = Gate(step=3, name="access " + PAYLOAD, actor=Actor.CUSTOMER, action="act " + PAYLOAD)
    changes, notes = [], []
    for c in range(n_customers):
        customer = f"acme-{c} {PAYLOAD}"
        for i in range(per_customer):
            address = f"customer.{customer}/template.t{i}[{PAYLOAD}]"
            changes.append(
                Change(
                    customer=customer,
                    address=address,
                    action=Action.BLOCKED if i % 2 else Action.UPDATE,
                    phase=Phase.CONTENT,
                    before={"body": "old " + PAYLOAD},
                    after={"body": "new " + PAYLOAD, PAYLOAD: PAYLOAD},
                    reason="because " + PAYLOAD,
                    blocked_by=gate if i % 2 else None,
                )
            )
        notes.append(
            Note(customer=customer, address=PAYLOAD, kind=NoteKind.WARNING, message=PAYLOAD)
        )
    return Plan.of(changes, notes, emulator=True)


@pytest.mark.parametrize(
    "level",
    [markdown._full, markdown._lines_only, markdown._counts_only],
    ids=["full", "lines only", "counts only"],
)
def test_every_rendering_level_is_inert_even_with_hostile_ids(level):
    plan = hostile_plan()
    customers = markdown._customers(plan)
    md = markdown._document(plan, customers, markdown._quiet(plan, customers), level)
    assert_inert(md)


def test_a_plan_too_long_for_one_comment_falls_back_and_stays_inert():
    plan = hostile_plan(n_customers=60, per_customer=10)
    md = render_markdown(plan)
    assert len(md) <= markdown.LIMIT
    assert "too long for one comment" in md
    assert_inert(md)


def test_pre_keeps_the_text_readable():
    """Escaping changes how the text is written, not what a reader sees."""
    text = "Hi {{1}}, " + PAYLOAD
    assert html.unescape(markdown.pre(text)) == text
    assert (
        html.unescape(markdown.escape("a @b #1 [c]")).replace("\\", "").replace("\u2060", "")
        == "a @b #1 [c]"
    )


@pytest.fixture
def hostile_estate(repo):
    doc = customer_doc(1)
    doc["templates"][1]["body"] = "Hi {{1}}, " + PAYLOAD.replace("\n", " ")
    doc["templates"][1]["variables"] = {"1": "Maria " + HOSTILE[0]}
    doc["templates"].append(
        {
            "name": "choices",
            "language": "en",
            "category": "UTILITY",
            "types": {
                "twilio/quick-reply": {
                    "body": "Hi {{1}}, pick one. " + HOSTILE[2],
                    "actions": [
                        {"title": "@octocat", "id": "a"},
                        {"title": "<b>x</b>", "id": "b"},
                    ],
                }
            },
            "variables": {"1": "Maria"},
        }
    )
    doc["senders"][0]["profile"]["address"] = "1 Main St " + HOSTILE[1]
    doc["senders"][0]["profile"]["description"] = "We are " + HOSTILE[4]
    repo.customer("clinic-1", doc)
    return repo


def test_the_plan_comment_is_inert_end_to_end(hostile_estate, cli, emulator):
    first = cli("plan", "--format", "markdown")
    assert first.code == 0, first.err
    assert "onerror" in first.out  # the text is there, escaped
    assert_inert(first.out)
    assert cli("apply", "--auto-approve").code == 0
    for contents in emulator.state()["contents"].values():
        for content in contents:
            emulator.reject(content["sid"], reason="Rejected " + PAYLOAD)
    hostile_estate.edit(
        "customers/clinic-1.yaml",
        lambda d: d["templates"][1].update(body="Hi {{1}}, changed. " + HOSTILE[3]),
    )
    second = cli("plan", "--format", "markdown")
    assert second.code == 0, second.err
    assert "Rejected" in second.out
    assert_inert(second.out)


# --- GitHub Actions workflow commands -------------------------------------------------------

ANNOTATION = re.compile(r"^::(error|warning) file=([^,:]*)(?:,line=(\d+))?::(.*)$")


def decode_property(text: str) -> str:
    return (
        text.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r")
    ).replace("%25", "%")


def github_lines(output: str) -> list[re.Match]:
    lines = output.rstrip("\n").split("\n")
    *annotations, summary = lines
    assert summary.startswith(("Invalid:", "Valid:")), summary
    found = []
    for line in annotations:
        match = ANNOTATION.match(line)
        assert match, f"not one well-formed annotation: {line!r}"
        assert "\r" not in line
        found.append(match)
    return found


HOSTILE_FILE_NAMES = [
    "a,line=1::x.yaml",
    "b%0A::error::x.yaml",
    "c::warning file=x::y.yaml",
    "d\nnewline.yaml",
    "e\r::error::cr.yaml",
    "f%25.yaml",
]


def test_github_annotations_cannot_be_broken_by_file_names(repo):
    for name in HOSTILE_FILE_NAMES:
        (repo.root / "customers" / name).write_text("name: x\n", encoding="utf-8")
    result = run_offline("validate", "--root", str(repo.root), "--format", "github")
    assert result.code == 1
    matches = github_lines(result.out)
    files = {decode_property(m.group(2)) for m in matches}
    for name in HOSTILE_FILE_NAMES:  # a line break in a name is shown as an escape
        assert f"customers/{printable(name)}" in files


def test_text_output_cannot_be_broken_by_file_names(repo):
    for name in HOSTILE_FILE_NAMES:
        (repo.root / "customers" / name).write_text("name: x\n", encoding="utf-8")
    for fmt in ("text", "json"):
        output = assert_clean_error(
            run_offline("validate", "--root", str(repo.root), "--format", fmt)
        )
        assert_no_workflow_command(output)


HOSTILE_VALUES = {
    "key with a newline and a command": '"x\\n::error file=evil.yaml::pwned": 1\n',
    "value with a carriage return": 'name: "a\\r::warning::pwned"\nbad_key: 1\n',
    "percent-encoded newline": 'name: Clinic\n"a%0A::error::pwned": 1\n',
    "stop-commands": 'name: Clinic\n"::stop-commands::tok": 1\n',
    "unicode line separators": 'name: Clinic\n"a\\u2028b\\u0085c::error::x": 1\n',
}


@pytest.mark.parametrize("text", HOSTILE_VALUES.values(), ids=HOSTILE_VALUES.keys())
def test_github_annotations_cannot_be_broken_by_file_contents(repo, text):
    (repo.root / "customers" / "clinic-1.yaml").write_text(text, encoding="utf-8")
    result = run_offline("validate", "--root", str(repo.root), "--format", "github")
    assert result.code == 1
    matches = github_lines(result.out)
    assert matches
    assert all(decode_property(m.group(2)) == "customers/clinic-1.yaml" for m in matches)


# --- workflow commands hidden in the text a workflow log shows -------------------------------


def assert_no_workflow_command(text: str) -> None:
    """GitHub Actions runs any log line that starts with `::` as a workflow command."""
    for line in re.split(r"\r\n|\r|\n", text):
        assert not line.lstrip().startswith("::"), f"a workflow command in the log: {line!r}"


def test_text_outputs_never_start_a_line_with_user_text(hostile_estate, cli, emulator):
    hostile_estate.edit(
        "customers/clinic-1.yaml",
        lambda d: d["templates"][1].update(body="Hi {{1}},\n::error::pwned\n::add-mask::x"),
    )
    outputs = [cli("validate"), cli("plan"), cli("apply", "--auto-approve")]
    for contents in emulator.state()["contents"].values():
        for content in contents:
            emulator.reject(content["sid"], reason="bad\n::error::pwned\r::warning::x")
    outputs += [cli("status"), cli("plan"), cli("output")]
    for result in outputs:
        assert_no_workflow_command(result.out + result.err)


def test_twilio_free_text_is_one_line():
    from wa_sync.gateway.shapes import one_line

    assert one_line("bad\n::error::x\r::warning::y\u2028z\x85w") == (
        "bad ::error::x ::warning::y z w"
    )


def test_validate_text_never_starts_a_line_with_user_text(repo):
    (repo.root / "customers" / "clinic-1.yaml").write_text(
        'name: Clinic\n"x\\n::error::pwned": 1\n', encoding="utf-8"
    )
    for fmt in ("text", "json"):
        output = assert_clean_error(
            run_offline("validate", "--root", str(repo.root), "--format", fmt)
        )
        assert_no_workflow_command(output)
