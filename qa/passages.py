"""Sentences grouped into overlapping passages, the unit that retrieval ranks."""

from __future__ import annotations

from collections.abc import Sequence


def group_passages(
    spans: Sequence[tuple[int, int]], size: int = 4, overlap: int = 1, max_chars: int = 1200
) -> list[tuple[int, int]]:
    """Group consecutive sentences into windows that share `overlap` sentences with the next one.

    Defaults: 4 sentences (about 100 words) keep a fact and its context together while 1,200 characters stay
    within the 256 word pieces all-MiniLM-L6-v2 reads, and an overlap of 1 keeps a fact split over a window edge
    whole in one of them.

    Args:
        spans: `(start, end)` character spans of an article's sentences, in text order (from `split_sentences`).
        size: most sentences in a passage.
        overlap: sentences a passage shares with the next; fewer when `max_chars` leaves no room for them.
        max_chars: most characters from a passage's first sentence start to its last sentence end; a single
            sentence longer than that still makes a passage of its own.

    Returns:
        Inclusive `(first, last)` sentence indexes, in order, covering every sentence; one window for a short
        article, none for no sentences.

    Raises:
        ValueError: if size < 1, overlap < 0, overlap >= size or max_chars < 1.
    """
    if size < 1 or overlap < 0 or overlap >= size or max_chars < 1:
        raise ValueError(f"need size >= 1, 0 <= overlap < size, max_chars >= 1; got {size=}, {overlap=}, {max_chars=}")
    windows: list[tuple[int, int]] = []
    first = 0
    while first < len(spans):
        last = first
        while (
            last + 1 < len(spans)
            and last + 1 - first < size
            and spans[last + 1][1] - spans[first][0] <= max_chars
        ):
            last += 1
        windows.append((first, last))
        if last == len(spans) - 1:
            break
        following = last + 1
        next_first = following
        while (
            following - next_first < overlap
            and next_first - 1 > first
            and spans[following][1] - spans[next_first - 1][0] <= max_chars
        ):
            next_first -= 1
        first = next_first
    return windows
