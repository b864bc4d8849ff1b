"""Asking the default corpus: quoted sentences, citations that round-trip, and plain refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qa

EVALDEV = Path(__file__).resolve().parents[2] / "shared" / "evaldev"



def test_zelensky_question_quotes_the_155_sentence(bot: qa.QA):
    answer = bot.ask("how many Chinese nationals did Zelensky claim?")

    assert answer.found
    assert "155" in answer.sentence
    assert answer.short_answer is not None
    assert answer.short_answer.text in ("at least 155", "155")
    assert answer.sentence[answer.short_answer.start:answer.short_answer.end] == answer.short_answer.text
    article = bot.article(answer.citation.doc_id)
    assert article.text[answer.citation.start:answer.citation.end] == answer.sentence
    assert answer.citation.title == article.title
    assert answer.confidence >= 0.5


def test_the_155_figure_is_corroborated_by_the_other_articles(bot: qa.QA):
    answer = bot.ask("how many Chinese nationals did Zelensky claim?")

    cited = {answer.citation.doc_id} | {c.doc_id for c in answer.corroborating}
    assert {d[:3] for d in cited} == {"001", "002", "004"}
    for c in answer.corroborating:
        text = bot.article(c.doc_id).text
        assert "155" in text[c.start:c.end]


def test_candidates_are_the_sentences_ask_decides_between(bot: qa.QA):
    question = "how many Chinese nationals did Zelensky claim?"
    answer = bot.ask(question)

    ranked = bot.candidates(question)
    assert ranked[0].sentence.text == answer.sentence and ranked[0].sentence.doc_id == answer.citation.doc_id
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    assert [c.sentence for c in answer.candidates] == [s.sentence.text for s in ranked[1:len(answer.candidates) + 1]]


@pytest.mark.parametrize(
    ("question", "short", "doc"),
    [
        ("Who is the spokesperson of China's foreign ministry?", "Lin Jian", None),
        ("Which Chinese contract soldier was killed in the Zaporizhia region?", "Rui Zhao", "000"),
        ("Where will Russian officials meet U.S. diplomats?", "Istanbul", "003"),
        ("How many casualties has Russia suffered according to Ukraine's General Staff?", "1,028,610", "004"),
    ],
)
def test_short_answers(bot: qa.QA, question: str, short: str, doc: str | None):
    answer = bot.ask(question)

    assert answer.found
    assert answer.short_answer is not None and answer.short_answer.text == short
    if doc:
        assert answer.citation.doc_id.startswith(doc)


@pytest.mark.parametrize(
    "question",
    [
        "Who is the prime minister of Japan?",
        "Who won the Club World Cup final?",
        "How many goals did Marcus Rashford score last season?",
        "How do I subscribe to the newsletter?",
    ],
)
def test_questions_the_archive_cannot_answer_are_declined(bot: qa.QA, question: str):
    answer = bot.ask(question)

    assert not answer.found
    assert answer.sentence is None and answer.citation is None
    assert "no answer" in answer.message
    assert answer.related, "the closest passages are still offered"
    scores = [c.score for c in answer.candidates]
    assert scores and scores == sorted(scores, reverse=True), "best candidate first"


# Known misses of the current answerer, kept visible: strict xfail fails the suite the day they pass.
KNOWN_MISSES = {
    "How many Chinese citizens applied at the recruitment center in 2023?":
        "quotes the '51 Chinese nationals ... recruitment center' sentence: '31 individuals approached the center' "
        "shares too few words with the question, and the reader does not bridge the paraphrase",
    "What did China call Kyiv's accusations?":
        "the reader of 2,768 steps prefers a 001 sentence about the captured fighters to 'termed the accusations "
        "as \"absolutely groundless\"', and declines at 0.43 (threshold 0.40)",
    "What did one captured fighter say about his experience with weapons?":
        "declined at 0.27: the reader of 2,768 steps, better on RealTimeQA and SQuAD, is less sure of the "
        "'never held a weapon' sentence than the one before it was",
}


def _seed_cases() -> list:
    path = EVALDEV / "seed" / "seed_questions.jsonl"
    if not path.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{path} is not beside the repository"))]
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        pytest.param(item, id=item["q"][:40],
                     marks=[pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[item["q"]])] if item["q"] in KNOWN_MISSES else [])
        for item in items
    ]


@pytest.mark.parametrize("item", _seed_cases())
def test_dev_seed_questions_are_answered_from_a_gold_article(bot: qa.QA, item: dict):
    answer = bot.ask(item["q"])

    assert answer.found, f"declined at confidence {answer.confidence}"
    assert any(a.lower() in answer.sentence.lower() for a in item["answers"]), answer.sentence
    assert any(answer.citation.doc_id.startswith(d) for d in item["docs"]), answer.citation.doc_id


def test_search_returns_fused_passages(bot: qa.QA):
    passages = bot.search("Chinese soldiers captured in Donetsk", k=5)

    assert len(passages) == 5
    assert all(p.score is not None for p in passages)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert any(p.lexical_rank and p.dense_rank for p in passages)


def test_an_empty_question_is_refused(bot: qa.QA):
    for question in ("", "   \n\t"):
        with pytest.raises(qa.EmptyQuestionError):
            bot.ask(question)


def test_answers_serialise_to_json_and_back(bot: qa.QA):
    answer = bot.ask("Where will Russian officials meet U.S. diplomats?")

    assert qa.Answer.model_validate(json.loads(answer.model_dump_json())) == answer
