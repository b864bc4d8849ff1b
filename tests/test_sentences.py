"""Sentences located by character offsets, and the passages grouped from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.documents import parse_article, scan_corpus
from qa.passages import group_passages
from qa.sentences import MAX_SENTENCE_CHARS, split_sentences


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. has called the reports “disturbing”. U.S. intelligence has also alleged it.",
            ["The U.S. has called the reports “disturbing”.", "U.S. intelligence has also alleged it."],
        ),
        (
            "Mr. Smith met Dr. Jones at 10 a.m. in Washington. Mr Zelensky was not there.",
            ["Mr. Smith met Dr. Jones at 10 a.m. in Washington.", "Mr Zelensky was not there."],
        ),
        (
            '"Our soldiers are like brothers – willing to die," he remarked. He left.',
            ['"Our soldiers are like brothers – willing to die," he remarked.', "He left."],
        ),
        (
            "His comrades waited 8–10 hours for aid. Russia has suffered 1,028,610 casualties.",
            ["His comrades waited 8–10 hours for aid.", "Russia has suffered 1,028,610 casualties."],
        ),
        (
            "Lin Pan received a St. George's Cross near Bakhmut. He was 38.",
            ["Lin Pan received a St. George's Cross near Bakhmut.", "He was 38."],
        ),
        (
            "“Is this the end?” she asked. Nobody answered.",
            ["“Is this the end?” she asked.", "Nobody answered."],
        ),
        (
            'He said: "We will study this judgement. "It does not affect other cases." Napier sued in 2001.',
            ['He said: "We will study this judgement.', '"It does not affect other cases."', "Napier sued in 2001."],
        ),
        (
            "The film shows his early days in Wham! along with his battles with Sony.",
            ["The film shows his early days in Wham! along with his battles with Sony."],
        ),
        ("Same. Same. Same.", ["Same.", "Same.", "Same."]),
    ],
)
def test_tricky_news_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_spans_are_trimmed_and_never_cross_a_line() -> None:
    text = "  Headline without a stop  \n\nFirst sentence here. Second one!\n- a list item\n\n\n"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Headline without a stop", "First sentence here.", "Second one!", "- a list item",
    ]
    assert spans[0] == (2, 25)


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("") == [] and split_sentences(" \n\n\t") == []


def test_a_table_run_together_is_cut_into_pieces_below_the_limit() -> None:
    text = "Results: " + ", ".join(f"team {i} scored {i * 3} points" for i in range(200)) + "."
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(0 < end - start <= MAX_SENTENCE_CHARS for start, end in spans)
    assert " ".join(text[s:e] for s, e in spans) == text
    assert all(text[s:e].endswith(",") for s, e in spans[:-1])


def test_offsets_index_the_cleaned_article_text(corpus_dir: Path) -> None:
    raw = next(raw for raw in scan_corpus(corpus_dir).articles if raw.doc_id.startswith("000"))
    article = parse_article(raw)
    found = sentences(article.text)
    assert "Sun later returned to China in March." in found
    assert "He lamented the disorganized nature of the Russian military compared to the Chinese forces." in found
    assert "Lin Pan allegedly received a St. George's Cross for rescuing comrades near Bakhmut, despite being " \
        "unable to speak Russian." in found


def test_passages_cover_every_sentence_with_one_shared() -> None:
    spans = [(i * 100, i * 100 + 90) for i in range(10)]
    windows = group_passages(spans)
    assert windows == [(0, 3), (3, 6), (6, 9)]
    covered = {i for first, last in windows for i in range(first, last + 1)}
    assert covered == set(range(10))


def test_a_short_article_is_one_passage() -> None:
    assert group_passages([(0, 40), (41, 80)]) == [(0, 1)]
    assert group_passages([]) == []


def test_passages_stay_under_max_chars_and_long_sentences_stand_alone() -> None:
    spans = [(0, 500), (501, 1000), (1001, 2400), (2401, 2500), (2501, 2600)]
    windows = group_passages(spans, size=4, overlap=1, max_chars=1200)
    assert windows == [(0, 1), (2, 2), (3, 4)]
    for first, last in windows:
        assert first == last or spans[last][1] - spans[first][0] <= 1200


def test_passages_of_the_default_articles(corpus_dir: Path) -> None:
    for raw in scan_corpus(corpus_dir).articles:
        spans = split_sentences(parse_article(raw).text)
        windows = group_passages(spans)
        assert windows[0][0] == 0 and windows[-1][1] == len(spans) - 1
        for (first, last), (next_first, _) in zip(windows, windows[1:]):
            assert next_first <= last and next_first > first


def test_bad_passage_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        group_passages([(0, 1)], size=2, overlap=2)
    with pytest.raises(ValueError):
        group_passages([(0, 1)], size=0)
