"""The short answer inside a quoted sentence: the span of the type the question asks for."""

from __future__ import annotations

import pytest

from qa.spans import best_span

CASES = [
    ("how many Chinese nationals did Zelensky claim?",
     "Zelensky has claimed that at least 155 Chinese nationals are fighting.", "at least 155"),
    ("Who is the spokesperson of China's foreign ministry?",
     "However, spokesperson Lin Jian rubbished the claim.", "Lin Jian"),
    ("Who chairs the committee?", "The committee is chaired by Mohammad  Yasin\nWattoo, its founder.",
     "Mohammad  Yasin\nWattoo"),
    ("Who spoke first?", "It was Lin Jian’s turn.", "Lin Jian"),
]


@pytest.mark.parametrize(("question", "sentence", "expected"), CASES)
def test_the_short_answer_is_the_typed_span_and_its_offsets_round_trip(question: str, sentence: str, expected: str):
    span = best_span(sentence, question)

    assert span is not None and span.text == expected
    assert sentence[span.start:span.end] == span.text


def test_a_sentence_without_the_wanted_type_has_no_short_answer():
    assert best_span("Officials declined to comment.", "how many soldiers were killed?") is None
