"""Sentence spans with character offsets into an article's text.

`split_sentences(text)` returns half-open `(start, end)` spans such that `text[start:end]` is a sentence,
trimmed of surrounding whitespace. A sentence never crosses a line break: headlines, list items and table
rows carry no final period, so each line is split on its own.

The boundaries come from sentencex (rule-based, compiled, about 100 M characters/s here) and are then
corrected for habits of news text that it gets wrong: a paragraph of a multi-paragraph quote that opens
with `"` at the end of the previous sentence, a `!` or `?` inside a title ("Wham! along with..."),
punctuation-only fragments. bench/experiments/splitter.py compares it with pysbd, blingfire, syntok and a regex.
"""

from __future__ import annotations

import re

import sentencex

MAX_SENTENCE_CHARS = 1000
"""A longer "sentence" (a table row run together, a list without stops) is cut below this length, so that
an embedding of it still means something."""

_LINE = re.compile(r"[^\n\r]+")
_DANGLING_OPENING_QUOTE = re.compile(r"[.!?…][\"'”’)]*\s+[\"“‘']$")
_LEADING_CLOSING_QUOTE = re.compile(r"[\"”’']\s")
_LOWERCASE_START = re.compile(r"[\"'“‘(\[]?[a-z]")
_WORD = re.compile(r"\w")
# Where to cut an over-long sentence, best first; each must leave a piece of at least a third of the limit.
_CUT_POINTS = (re.compile(r"[;:]\s"), re.compile(r",\s"), re.compile(r"\s[–—-]\s"), re.compile(r"\s"))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split text into sentences, located by character offsets.

    Args:
        text: an article's cleaned text; paragraphs and lines separated by newlines.

    Returns:
        Half-open `(start, end)` spans in text order, one per sentence: `text[start:end]` is the sentence,
        never empty, with no leading or trailing whitespace and no line break inside.
    """
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        start, end = _trim(text, line.start(), line.end())
        if start == end:
            continue
        for sentence_start, sentence_end in _split_line(text[start:end]):
            spans.extend(_cut_long(text, start + sentence_start, start + sentence_end))
    return spans


def _split_line(line: str) -> list[tuple[int, int]]:
    """Sentences of one line, as spans relative to the line."""
    raw = [(b["start_index"], b["end_index"]) for b in sentencex.get_sentence_boundaries("en", line)]
    return _refine(line, raw)


def _refine(line: str, raw: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Trim spans, then fix quote marks, lowercase continuations and punctuation-only fragments."""
    spans = [span for span in (_trim(line, s, e) for s, e in raw) if span[0] < span[1]]
    if not spans:
        start, end = _trim(line, 0, len(line))
        return [(start, end)] if start < end else []
    fixed: list[tuple[int, int]] = [spans[0]]
    for start, end in spans[1:]:
        prev_start, prev_end = fixed[-1]
        # `...his skills. "What I understand`: that quote opens the next sentence, it does not close this one.
        dangling = _DANGLING_OPENING_QUOTE.search(line, prev_start, prev_end)
        if dangling:
            fixed[-1] = _trim(line, prev_start, dangling.end() - 1)
            start = dangling.end() - 1
        # `present." Shares` split as `present.` + `" Shares`: that quote closes the previous sentence.
        elif start == prev_end and _LEADING_CLOSING_QUOTE.match(line, start, end):
            fixed[-1] = (prev_start, start + 1)
            start = _skip_space(line, start + 1)
            if start >= end:
                continue
        if _LOWERCASE_START.match(line, start) or not _WORD.search(line, start, end):
            fixed[-1] = (fixed[-1][0], end)
            continue
        fixed.append((start, end))
    if len(fixed) > 1 and not _WORD.search(line, *fixed[0]):
        fixed[0:2] = [(fixed[0][0], fixed[1][1])]
    return fixed


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a span longer than MAX_SENTENCE_CHARS at clause boundaries, else at spaces, else anywhere."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        window_end = start + MAX_SENTENCE_CHARS
        cut = window_end
        for pattern in _CUT_POINTS:
            matches = [m.start() + 1 for m in pattern.finditer(text, start + MAX_SENTENCE_CHARS // 3, window_end)]
            if matches:
                cut = matches[-1]
                break
        piece = _trim(text, start, cut)
        if piece[0] < piece[1]:
            pieces.append(piece)
        start = _skip_space(text, cut)
    if start < end:
        pieces.append(_trim(text, start, end))
    return pieces


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at
