"""Credentials pasted into YAML (SPEC §4.6): found by shape, reported without the value.

The raw text is scanned, comments included, since a token in a comment is committed
to git just the same. Twilio SIDs (AC..., HX..., SK... followed by 32 hex digits) are
identifiers, not secrets, and the 32 hex digits inside them are not reported as tokens;
an API key SID (SK...) is reported, since it is only ever written down with its secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from wa_sync.errors import Location, Problem
from wa_sync.visible import URL_PASSWORD

# a word of 32 letters and digits (34 with an SK prefix), file names such as <md5>.png aside
CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{32,34}(?![A-Za-z0-9]|\.[A-Za-z]{2,4}\b)")
HEX32 = re.compile(r"[0-9a-fA-F]{32}")
KEY_SID = re.compile(r"SK[0-9a-fA-F]{32}")
SECRET_KEY = re.compile(
    r"^\s*-?\s*[\"']?(auth_?token|api_?secret|api_?key|secret|password|token)[\"']?\s*:\s*\S",
    re.IGNORECASE,
)

SECRET_WORDS = re.compile(r"(?i)token|secret|password|api_?key")
IN_URL = "a password in a URL (user:password@)"
URL_FIX = (
    "remove user:password@ from the URL (and the password from git history, and change it "
    "if it was ever committed): plans show each URL, in pull-request comments too. Twilio "
    "signs every webhook request (the X-Twilio-Signature header): have the receiver check "
    "that signature instead"
)

FIX = (
    "remove it from the file (and from git history), and rotate it in the Twilio Console "
    "if it was ever committed; wa-sync reads credentials only from the environment: "
    "TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or TWILIO_API_KEY with TWILIO_API_SECRET"
)


def scan_credentials(text: str, file: str) -> list[Problem]:
    """One error per line that holds something shaped like a credential."""
    return list(_scan(text, file))


def _scan(text: str, file: str) -> Iterator[Problem]:
    if not _maybe(text):
        return
    for number, line in enumerate(text.splitlines(), start=1):
        what = _kind(line)
        if what:
            yield Problem(
                Location(file, number),
                "",
                f"this line holds what looks like {what}; credentials never belong in "
                "configuration files (the value is not shown)",
                URL_FIX if what == IN_URL else FIX,
            )


def _maybe(text: str) -> bool:
    """A quick test that rules out most files without looking at each line."""
    return bool(CANDIDATE.search(text) or SECRET_WORDS.search(text) or URL_PASSWORD.search(text))


def _kind(line: str) -> str:
    for match in CANDIDATE.finditer(line):
        word = match.group()
        if KEY_SID.fullmatch(word):
            return "a Twilio API key SID (SK...), which comes with a secret"
        if len(word) != 32:
            continue  # a SID such as AC... or HX...: an identifier, not a secret
        if HEX32.fullmatch(word):
            return "a Twilio auth token (32 hexadecimal digits)"
        if not (word.isdigit() or word.isalpha() or word.islower() or word.isupper()):
            return "an API secret (32 letters and digits)"
    if URL_PASSWORD.search(line):
        return IN_URL
    named = SECRET_KEY.match(line)
    return f"a credential (the key {named.group(1)!r})" if named else ""
