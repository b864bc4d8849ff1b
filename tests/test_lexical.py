"""BM25 over passages: tokens, ranking checked against rank_bm25, and the files on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from qa.errors import CorruptIndexError
from qa.lexical import LexicalIndex, tokenize

PASSAGES = {
    101: "Oil prices rose sharply on Monday after Opec agreed to cut production by two million barrels a day.",
    102: "The football club won the FA Cup final at Wembley, beating Arsenal 2-1 in extra time.",
    103: "Shares in oil and gas companies fell as investors worried about weaker demand from China.",
    104: "Election officials said 1,028,610 ballots were counted in the capital before midnight.",
    105: "Zelensky said Ukrainian forces captured two Chinese nationals fighting for Russia in Donetsk.",
    106: "China denied that its citizens were fighting in Ukraine and urged all sides to talk.",
    107: "The central bank held interest rates at 4.75%, saying inflation in services was stubborn.",
    108: "Petrol prices at the pump climbed for a third week, motoring groups said.",
    109: "Arsenal's manager said the club would appeal against the red card shown in the final.",
    110: "Russia's foreign ministry summoned the Ukrainian ambassador over the claims.",
}
QUERIES = [
    "oil prices",
    "who won the cup final",
    "how many Chinese nationals were captured fighting for Russia",
    "interest rates inflation",
    "ballots counted in the capital",
    "Ukrainian ambassador",
    "club appeal red card",
]


@pytest.fixture
def index() -> LexicalIndex:
    return LexicalIndex.build(list(PASSAGES), tokenize(list(PASSAGES.values())))


def test_tokenize_keeps_numbers_and_stems_words() -> None:
    tokens = tokenize(["Officials counted 1,028,610 ballots; turnout was 3.5% in Zürich.", "the of and"])

    assert tokens == [["offici", "count", "1028610", "ballot", "turnout", "3.5", "zurich"], []]


def test_questions_and_passages_share_terms() -> None:
    question, passage = tokenize(["Who won the elections?", "Labour won an election"])

    assert set(question) <= set(passage)


def test_scores_equal_rank_bm25_with_the_okapi_variant() -> None:
    corpus = tokenize(list(PASSAGES.values()))
    reference = BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.0)
    okapi = LexicalIndex.build(list(PASSAGES), corpus, method="atire", idf_method="robertson")

    for query in QUERIES:
        expected = reference.get_scores(tokenize([query])[0])
        ranked = [(pid, score) for pid, score in zip(PASSAGES, expected) if score > 0]
        ranked.sort(key=lambda hit: (-hit[1], hit[0]))

        hits = okapi.search(query, k=len(PASSAGES))

        assert [pid for pid, _ in hits] == [pid for pid, _ in ranked], query
        np.testing.assert_allclose([s for _, s in hits], [s for _, s in ranked], rtol=1e-5)


def test_default_lucene_scoring_agrees_with_rank_bm25_on_the_best_passage(index: LexicalIndex) -> None:
    reference = BM25Okapi(tokenize(list(PASSAGES.values())), k1=1.5, b=0.75, epsilon=0.0)

    for query in QUERIES:
        best = list(PASSAGES)[int(np.argmax(reference.get_scores(tokenize([query])[0])))]

        hits = index.search(query, k=3)

        assert hits[0][0] == best, query
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
        assert all(s > 0 for _, s in hits)


def test_search_finds_the_passage_for_a_question(index: LexicalIndex) -> None:
    assert index.search("How many Chinese nationals did Zelensky say were captured?", k=1)[0][0] == 105
    assert sorted(pid for pid, _ in index.search("oil", k=10)) == [101, 103]  # only passages with the word


def test_numbers_are_found_with_or_without_separators(index: LexicalIndex) -> None:
    assert index.search("1,028,610", k=1)[0][0] == 104
    assert index.search("were 1028610 ballots counted?", k=1)[0][0] == 104


def test_unknown_words_find_nothing(index: LexicalIndex) -> None:
    assert index.search("quantum entanglement", k=5) == []
    assert index.search("the and of", k=5) == []


def test_idf_is_higher_for_rarer_terms(index: LexicalIndex) -> None:
    said, zelenski, unknown = index.idf(["said", "zelenski", "quantum"])

    assert zelenski > said > 0
    assert unknown >= zelenski, "a word the archive never uses weighs like its rarest"


def test_save_and_load_round_trip(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lexical")

    loaded = LexicalIndex.load(tmp_path / "lexical")

    assert len(loaded) == len(PASSAGES)
    for query in QUERIES:
        assert loaded.search(query, k=5) == index.search(query, k=5)


def test_an_index_of_passages_without_terms_finds_nothing(tmp_path: Path) -> None:
    LexicalIndex.build([1, 2], tokenize(["The", "and of"])).save(tmp_path / "lexical")

    assert LexicalIndex.load(tmp_path / "lexical").search("oil", k=5) == []


@pytest.mark.parametrize(
    "name", ["ids.npy", "data.csc.index.npy", "indptr.csc.index.npy", "vocab.index.json", "params.index.json"]
)
def test_truncated_or_missing_files_are_a_corrupt_index(index: LexicalIndex, tmp_path: Path, name: str) -> None:
    folder = tmp_path / "lexical"
    index.save(folder)
    path = folder / name
    path.write_bytes(path.read_bytes()[:-3])

    with pytest.raises(CorruptIndexError, match=name):
        LexicalIndex.load(folder)

    path.unlink()
    with pytest.raises(CorruptIndexError, match=name):
        LexicalIndex.load(folder)


def test_load_never_unpickles(index: LexicalIndex, tmp_path: Path) -> None:
    folder = tmp_path / "lexical"
    index.save(folder)
    np.save(folder / "ids.npy", np.array([object()] * len(PASSAGES), dtype=object), allow_pickle=True)

    with pytest.raises(CorruptIndexError, match="ids.npy"):
        LexicalIndex.load(folder)


def test_a_demonym_matches_its_country_and_us_stays_a_word() -> None:
    question, sentence = tokenize(["What did China call the U.S. reports?", "Chinese officials met U.S. diplomats"])

    assert "china" in question and "china" in sentence
    assert "usa" in question and "usa" in sentence
