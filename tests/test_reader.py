"""The reading model that ships inside qa: it loads offline, reads windows, and finds the answer in a
neighbouring sentence."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import qa
from qa.answer import CALIBRATION_FEATURES, COMBINER_FEATURES, WEIGHTS_FILE, Weights
from qa.features import FEATURES
from qa.reader import WEIGHTS_DIR, Reader, Window, focus_windows

SQUID_GAME = """Netflix renews its biggest hit
date 2022-06-12

Netflix said on Sunday that the wildly popular South Korean survival drama will return for a second season, after its first became the most watched series in the streaming service's history.
"Squid Game" is officially coming back, and its creator Hwang Dong-hyuk will write and direct every episode again.
The first season was watched for 1.65 billion hours in its first four weeks, according to the company.
"""


def test_the_shipped_reader_loads_offline_from_the_package():
    config = json.loads((WEIGHTS_DIR / "config.json").read_text(encoding="utf-8"))
    card = (WEIGHTS_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")

    (reading,) = Reader().read("Who said it?", [Window("A title", ("Lin Jian said it.",))])

    assert (WEIGHTS_DIR / "reader.onnx").stat().st_size < 25_000_000
    assert len(reading.sentence_logits) == 1
    assert config["sha256"] == hashlib.sha256((WEIGHTS_DIR / "reader.onnx").read_bytes()).hexdigest()
    for data_set in ("SQuAD", "RealTimeQA", "TrecQA", "WikiQA", "CNN/DailyMail", "BBC"):
        assert data_set in card, f"the model card does not list {data_set}"


# The case the reader was built for, and still misses (README, "Limits"): it reads "the wildly popular
# South Korean survival drama" as the answer to "which show". Strict: the suite fails the day it passes.
NEIGHBOUR_MISS = pytest.mark.xfail(strict=True, reason="the reader prefers the sentence that repeats the question "
                                   "and describes the show to the one that names it")


@NEIGHBOUR_MISS
def test_the_reader_prefers_the_sentence_that_names_the_answer():
    window = Window("Netflix renews its biggest hit", (
        "Netflix said on Sunday that the wildly popular South Korean survival drama will return for a second season.",
        '"Squid Game" is officially coming back, and its creator will write and direct every episode again.',
    ))

    (reading,) = Reader().read("Which wildly popular show will return for a second season?", [window])

    assert len(reading.sentence_logits) == 2
    assert reading.margins()[1] > reading.margins()[0]


def test_windows_hold_each_best_sentence_with_its_neighbours():
    ranked = [("a", 5), ("b", 2), ("a", 6), ("a", 4), ("b", 1), ("a", 9)]

    windows = focus_windows(ranked, k=3)

    assert windows == [[3, 0, 2], [4, 1], [5]]


def test_the_shipped_weights_weigh_exactly_the_features_qa_computes():
    weights = Weights.load()
    raw = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))

    assert set(weights.ranker.weights) == set(FEATURES)
    assert set(weights.combiner.weights) == set(COMBINER_FEATURES)
    assert set(weights.calibration.weights) == set(CALIBRATION_FEATURES)
    assert weights.windows > 0, "the shipped answerer reads with the reader"
    assert {"command", "sets", "commit"} <= set(raw["provenance"])


def test_weights_for_other_features_are_refused(tmp_path: Path):
    raw = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    raw["ranker"]["weights"]["a_feature_qa_does_not_compute"] = 1.0
    (tmp_path / "answerer.json").write_text(json.dumps(raw), encoding="utf-8")

    with pytest.raises(qa.ModelUnavailableError, match="refit"):
        Weights.load(tmp_path / "answerer.json")


@NEIGHBOUR_MISS
def test_an_answer_only_in_the_neighbouring_sentence_is_quoted_from_it(tmp_path: Path, corpus_dir: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "squid.txt").write_text(SQUID_GAME, encoding="utf-8")
    for name in ("000_404809e14ec4b5ef.txt", "003_a7d3e74dcfafbf5a.txt"):
        (corpus / name).write_text((corpus_dir / name).read_text(encoding="utf-8"), encoding="utf-8")
    qa.build_index(corpus, tmp_path / "index")

    with qa.open_index(tmp_path / "index") as bot:
        answer = bot.ask("Which wildly popular show will return for a second season?")

    assert answer.found
    assert "Squid Game" in answer.sentence
    assert answer.short_answer is not None and "Squid Game" in answer.short_answer.text


def test_the_zelensky_question_is_answered_with_the_reader(bot: qa.QA):
    answer = bot.ask("how many Chinese nationals did Zelensky claim?")

    assert answer.found
    assert answer.short_answer is not None and answer.short_answer.text == "at least 155"
