"""Characters no value of a configuration file may hold: control characters (C0 but tab
and line feed, DEL, C1), bidirectional embeddings, overrides and isolates, and the
Unicode line and paragraph separators. They are invisible in a review, can rewrite a
line of a terminal or CI log (ESC, CR, backspace), or show text in another order than
WhatsApp sends it (Trojan Source, CVE-2021-42574). YAML lets them in through escapes
("\\e", "\\u202E") and, for some, as they are.
"""

from __future__ import annotations

import re
import unicodedata

from wa_sync.config.yamlfile import YamlDoc, strings
from wa_sync.errors import Problem

FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# names Unicode gives these control characters only as aliases
_CONTROL_NAMES = {
    0x00: "NULL",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x0B: "LINE TABULATION",
    0x0C: "FORM FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
}
FIX = (
    "remove it: control characters and bidirectional overrides are invisible in review "
    "and can disguise the text; write a line break as a real one"
)


def forbidden_character(text: str) -> str | None:
    """How the first forbidden character of `text` is shown ("U+202E (RIGHT-TO-LEFT
    OVERRIDE) at position 4"), or None when it has none."""
    found = FORBIDDEN.search(text)
    if found is None:
        return None
    code = ord(found.group())
    name = _CONTROL_NAMES.get(code) or unicodedata.name(found.group(), "a control character")
    return f"U+{code:04X} ({name}) at position {found.start() + 1}"


def character_problems(doc: YamlDoc) -> list[Problem]:
    """A problem for each string value of `doc` that holds a forbidden character."""
    return [
        doc.problem(path, f"holds the character {shown}", FIX)
        for path, text in strings(doc.data)
        if (shown := forbidden_character(text)) is not None
    ]
