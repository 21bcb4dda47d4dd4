"""Text from outside wa-sync (Twilio's above all: rejection reasons, names, error
messages, profile fields) made safe to show (SPEC §4.8, hostile answers).

A terminal obeys ESC sequences (colours, cursor moves, OSC 8 links, OSC 0 window
titles, OSC 52 clipboard writes), BEL, backspace and CR overwrite what was printed, C1
controls are ESC's 8-bit forms, and bidirectional overrides reorder what a reviewer
reads in a terminal, a CI log or a pull-request comment. Each such character is shown
as its escape instead (`\\x1b`, `\\u202e`): visible, never obeyed. Line feeds and tabs
are kept; where a line break could start a line of output, the caller flattens it.
"""

from __future__ import annotations

import re

# C0 but tab and line feed, DEL, C1; line and paragraph separators; the bidirectional
# marks, embeddings, overrides and isolates (Unicode TR9).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def visible(text: str) -> str:
    """`text` with each unsafe character written as its Python escape (`\\x1b`)."""
    return _UNSAFE.sub(lambda match: repr(match.group())[1:-1], text)


def visible_json(text: str) -> str:
    """JSON text (from json.dumps with ensure_ascii=False) with each unsafe character
    that json left raw (C1, separators, bidi) written as a JSON escape (`\\u202e`):
    the same document, which no terminal obeys. Such characters occur only in strings."""
    return _UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def one_line(text: str) -> str:
    """Text from outside (Twilio's error messages, rejection reasons, names) on one line:
    a line break in it must not start a line of wa-sync's output, where a CI log could
    read `::command::` (GitHub Actions) or a comment could read markup; a control
    character is shown escaped (`visible`), never obeyed. Such text is only shown."""
    return visible(" ".join(text.split()))


# a password in a URL (scheme://user:password@host/...): a webhook's basic auth. The
# userinfo ends at the authority's last @ (as urllib.parse reads it): a password may hold one.
# The scheme's length is bounded, or a long word without `://` costs its length squared.
URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,31}://[^/?#\s:@]*:)[^/?#\s]+@")


def without_password(url: str) -> str:
    """`url` with the password in it, if any, as *** (`https://isv:***@host/...`): a
    secret, never shown nor written (SPEC §5), while the URL stays recognisable."""
    return URL_PASSWORD.sub(r"\1***@", url)
