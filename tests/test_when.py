"""Time in the question: date phrases read as ranges relative to as_of, preferred in retrieval."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import qa
from qa.when import read_time
from tests.test_filters import dated_corpus  # noqa: F401  (the fixture: four dated glacier articles)

AS_OF = date(2025, 4, 20)


@pytest.mark.parametrize(("question", "phrase", "since", "until"), [
    ("How many soldiers died in April 2025?", "in April 2025", date(2025, 4, 1), date(2025, 4, 30)),
    ("What happened in 2023?", "in 2023", date(2023, 1, 1), date(2023, 12, 31)),
    ("Who won in May?", "in May", date(2024, 5, 1), date(2024, 5, 31)),  # the last May before as_of
    ("What was said on April 12, 2025?", "on April 12, 2025", date(2025, 4, 12), date(2025, 4, 12)),
    ("What was said on 3 March 2025?", "on 3 March 2025", date(2025, 3, 3), date(2025, 3, 3)),
    ("What happened before May 2025?", "before May 2025", None, date(2025, 4, 30)),
    ("Who has led it since 2024?", "since 2024", date(2024, 1, 1), None),
    ("Who was captured this week?", "this week", date(2025, 4, 14), AS_OF),
    ("What did China say last week?", "last week", date(2025, 4, 7), AS_OF),
    ("What did Trump say last month?", "last month", date(2025, 3, 1), date(2025, 3, 31)),
    ("What happened yesterday?", "yesterday", date(2025, 4, 19), date(2025, 4, 19)),
    ("Which show was recently green lit?", "recently", date(2025, 4, 7), AS_OF),
])
def test_date_phrases_are_read_as_ranges(question: str, phrase: str, since: date | None, until: date | None):
    reading = read_time(question, AS_OF)

    assert reading is not None and (reading.phrase, reading.since, reading.until) == (phrase, since, until)


def test_latest_and_questions_without_time():
    assert read_time("What is the latest count?", AS_OF).latest
    assert read_time("What is the most recent figure?", AS_OF).latest
    assert read_time("What may happen to the march?", AS_OF) is None
    assert read_time("Who was captured this week?", None) is None  # nothing to count from


@pytest.fixture(scope="module")
def glacier_bot(tmp_path_factory: pytest.TempPathFactory, dated_corpus: Path):  # noqa: F811
    index = tmp_path_factory.mktemp("when") / "index"
    qa.build_index(dated_corpus, index)
    with qa.open_index(index) as bot:
        yield bot


def test_this_week_counts_from_as_of_or_the_newest_article(glacier_bot: qa.QA):
    question = "How much of its volume did the Rhone glacier lose this week?"

    assert glacier_bot.ask(question, time_phrases="off").citation.doc_id == "bbc/2025-03-14"
    assert glacier_bot.ask(question, as_of="2025-04-27").citation.doc_id == "bbc/2025-04-25"
    assert glacier_bot.ask(question).citation.doc_id == "reuters/2025-05-09"  # as_of: the newest article's day
    assert glacier_bot.ask(question, as_of=date(2025, 4, 14), time_phrases="filter").short_answer.text == "5 percent"


def test_the_latest_prefers_the_newest_article_that_answers(glacier_bot: qa.QA):
    question = "How much of its volume did the Rhone glacier lose, in the latest report?"

    assert glacier_bot.ask(question, time_phrases="off").short_answer.text == "3 percent"
    answer = glacier_bot.ask(question)
    assert answer.found and answer.short_answer.text == "8 percent" and answer.citation.date == "2025-05-09"


def test_an_explicit_filter_wins_over_the_phrase(glacier_bot: qa.QA):
    answer = glacier_bot.ask("How much of its volume did the Rhone glacier lose this week?", since="2025-03", until="2025-03")

    assert answer.citation.doc_id == "bbc/2025-03-14"


def test_a_bad_as_of_or_mode_is_refused(glacier_bot: qa.QA):
    with pytest.raises(qa.FilterError, match="as_of='soon' is not a date"):
        glacier_bot.ask("what happened this week?", as_of="soon")
    with pytest.raises(ValueError, match="time_phrases must be one of"):
        glacier_bot.ask("what happened this week?", time_phrases="maybe")
