"""Strings from the corpus made safe to print on a terminal, for the CLI and the chat.

A title, an id, a file name or an article's text can hold ESC, NUL or other control characters (a JSONL id
of "\x1b[31mred" would recolour the user's terminal, or worse). Each one is shown as a visible escape
instead: "\x1b" becomes "\\x1b". JSON output is never passed through here: it stays exact.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the bidirectional overrides that can reorder what a line seems to say
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` with every control character shown as an escape (`\\x1b`); tabs and newlines kept.

    Args:
        text: a string read from the corpus or the index.
        one_line: also escape tabs and newlines, for a title, an id or a path printed on one line.
    """
    return (_UNSAFE_ONE_LINE if one_line else _UNSAFE).sub(_escape, text)
