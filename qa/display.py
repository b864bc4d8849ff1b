r"""Text for a terminal: strings from the corpus made safe to print, and the CLI's marks and clipping.

A title, an id, a file name or an article's text can hold ESC, NUL or other control characters (a JSONL id
of "ESC[31mred" would recolour the user's terminal, or worse). Each one is shown as a visible escape
instead: ESC becomes the four characters \x1b. JSON output is never passed through here: it stays exact.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from typing import TextIO

# C0 controls, DEL, C1 controls, and the bidirectional overrides that can reorder what a line seems to say
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, one_line: bool = False) -> str:
    r"""`text` with every control character shown as an escape (`\x1b`); tabs and newlines kept.

    Args:
        text: a string read from the corpus or the index.
        one_line: also escape tabs and newlines, for a title, an id or a path printed on one line.
    """
    return (_UNSAFE_ONE_LINE if one_line else _UNSAFE).sub(_escape, text)


def supports_colour(out: TextIO | None = None) -> bool:
    """Colour for `out` (stdout): a terminal, NO_COLOR unset, TERM not dumb."""
    out = out or sys.stdout
    return out.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def styled(text: str, sgr: str) -> str:
    """`text` in the SGR style (e.g. "1" bold) when stdout takes colour."""
    return f"\033[{sgr}m{text}\033[0m" if supports_colour(sys.stdout) else text


def highlighted(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with the spans in bold yellow on a terminal, in bold with NO_COLOR, unmarked in a pipe."""
    if not spans or not sys.stdout.isatty() or os.environ.get("TERM") == "dumb":
        return text
    sgr = "1" if os.environ.get("NO_COLOR") else "1;33"
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [text[last:start], f"\033[{sgr}m", text[start:end], "\033[0m"]
        last = end
    return "".join(out) + text[last:]


_STOPWORDS = frozenset("""a an and are as at be by did do does for from had has have how in is it its of on or
that the their this to was were what when where which who whom whose why will with""".split())


def question_words(text: str) -> set[str]:
    """The words of a question worth marking in a snippet: lower-cased, without stop words."""
    return {w for w in re.findall(r"\w+", text.lower()) if w not in _STOPWORDS and len(w) > 1}


def word_spans(text: str, words: set[str]) -> list[tuple[int, int]]:
    """Where `words` occur in `text`, as (start, end)."""
    # a word matches the question's when they share their first five letters: "captured" marks "capture"
    stems = {w[:5] for w in words}
    return [m.span() for m in re.finditer(r"\w+", text)
            if m.group().lower() in words or (len(m.group()) >= 5 and m.group().lower()[:5] in stems)]


def shell_word(text: str) -> str:
    """`text` as one word for a shell command line, quoted when it needs to be."""
    return text if re.fullmatch(r"[\w./:-]+", text) else "'" + printable(text, one_line=True).replace("'", "'\\''") + "'"


def clip(text: str, width: int) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
