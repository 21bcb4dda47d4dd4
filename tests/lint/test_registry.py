"""The lint's rule table matches shared/whatsapp-rules.md: every confidence-A rule is either
checked or listed in NOT_ENFORCED with a reason, and every Problem carries a known rule id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.lint import test_buttons, test_senders, test_templates, test_variables
from wa_sync.config.lint import NOT_ENFORCED, RULE_IDS, RULES, lint_config

# Copied from /work/shared/whatsapp-rules.md (the "id" and "conf" columns of §1-§4):
# every id whose confidence is A, including "A (heuristic check)", "A/C",
# "A (len) / C (scheme)" and "A (Twilio 63013) / C (Meta error text)".
_CONFIDENCE_A_TEXT = """
TPL-NAME-CHARS TPL-NAME-LEN TPL-NAME-UNIQUE TPL-NAME-REUSE TPL-CAT-ENUM TPL-CAT-MIXED
TPL-LANG-ENUM TPL-LANG-ONE TPL-BODY-REQ TPL-BODY-LEN TPL-HDR-TEXT-LEN TPL-HDR-TEXT-VARS
TPL-HDR-MEDIA TPL-HDR-LOCATION TPL-FOOTER-LEN TPL-EMOJI-MAX
VAR-POS-FORMAT VAR-NAMED-FORMAT VAR-BRACES VAR-SEQ VAR-EDGE VAR-ADJ VAR-DENSITY VAR-SAMPLE
VAR-SAMPLE-WS VAR-SPECIAL VAR-TW-KEY VAR-TW-COUNT VAR-URL-SLASH
BTN-TOTAL BTN-QR-COUNT BTN-QR-GROUP BTN-URL-COUNT BTN-URL-LEN BTN-URL-WAME BTN-PHONE-COUNT
BTN-PHONE-LEN BTN-COPY-COUNT BTN-SESSION-MAX
AUTH-BODY AUTH-TYPE AUTH-EXPIRY AUTH-NO-MEDIA AUTH-BTN-LEN
LC-EDIT-STATUS LC-EDIT-FIELDS LC-EDIT-CAT LC-EDIT-RATE LC-TW-LOCKED LC-DELETE-DISABLED
LC-ARCHIVE LC-LIMIT-COUNT LC-LIMIT-RATE
DN-CHARS DN-NONALNUM-RUN DN-SPACES DN-CAPS DN-EMOJI DN-WHATSAPP DN-GENERIC DN-BRAND
DN-CHANGE-RATE DN-REJECT-EFFECT
PRF-ABOUT PRF-ADDR PRF-EMAIL PRF-WEB-COUNT PRF-WEB-LEN PRF-VERT-TW PRF-VERT-META
"""
CONFIDENCE_A = _CONFIDENCE_A_TEXT.split()
# Confidence B and C ids that the lint checks (B: error past the most lenient value,
# warning past the strictest; C: warning).
CHECKED_B_C = {
    "VAR-TW-VALUE",
    "VAR-AUTH-LEN",
    "BTN-LABEL-LEN",
    "DN-LEN",
    "PRF-DESC",
    "DN-META",
    "DN-URL",
}
# Ids the lint adds that are not rows of whatsapp-rules.md, with where they come from.
EXTRA = {"SND-PHONE-E164": "SPEC §4.6 E.164 numbers; Twilio sender id whatsapp:<E.164>"}

RULES_FILE_CANDIDATES = [
    Path(__file__).resolve().parents[2].parent / "shared" / "whatsapp-rules.md",
    Path("/work/shared/whatsapp-rules.md"),
]


def _ids_in_rules_file(path: Path) -> dict[str, str]:
    ids = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = [c.strip() for c in line.replace("\\|", "").strip().strip("|").split("|")]
        if len(cols) >= 5 and re.fullmatch(r"[A-Z]+(-[A-Z0-9]+)+", cols[0]):
            ids[cols[0]] = cols[3]
    return ids


def test_every_confidence_a_rule_is_checked_or_explained():
    missing = [i for i in CONFIDENCE_A if i not in RULE_IDS and i not in NOT_ENFORCED]
    assert missing == []
    assert not set(RULE_IDS) & set(NOT_ENFORCED)
    assert set(NOT_ENFORCED) <= set(CONFIDENCE_A)
    assert all(reason for reason in NOT_ENFORCED.values())


def test_every_registered_id_is_a_documented_rule_or_a_listed_extra():
    assert set(RULE_IDS) <= set(CONFIDENCE_A) | CHECKED_B_C | set(EXTRA)
    assert set(RULE_IDS) >= CHECKED_B_C
    assert set(RULES) == set(RULE_IDS.values())


def test_the_copied_ids_match_the_shared_rules_file():
    path = next((p for p in RULES_FILE_CANDIDATES if p.is_file()), None)
    if path is None:
        pytest.skip("shared/whatsapp-rules.md is not present in this environment")
    documented = _ids_in_rules_file(path)
    assert sorted(i for i, conf in documented.items() if conf.startswith("A")) == sorted(
        CONFIDENCE_A
    )
    assert set(documented) >= CHECKED_B_C


ALL_CASES = [
    case
    for module in (test_templates, test_variables, test_buttons, test_senders)
    for case in module.CASES
]


def test_every_rule_id_has_a_failing_and_passing_example():
    assert {case[0] for case in ALL_CASES} == set(RULE_IDS)


@pytest.mark.parametrize("case", ALL_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(ALL_CASES)])
def test_every_problem_carries_a_registered_rule_id(case):
    _, bad, _, _ = case
    for problem in lint_config(bad):
        assert problem.rule in RULE_IDS
        assert problem.where.file
