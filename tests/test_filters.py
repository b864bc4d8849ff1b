"""Filters on ask and search: a date range, outlets or corpus folders, undated articles; on both stores."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

import qa

GLACIER = "How much of its volume did the Rhone glacier lose?"
ARTICLES = {
    "bbc/2025-03-14.txt": ("Rhone glacier shrinks over winter", "2025-03-14", "BBC",
                           "The Rhone glacier lost 3 percent of its volume over the winter, Swiss scientists said. "
                           "They measured the glacier with drones and radar."),
    "reuters/2025-04-11.txt": ("Swiss glaciers melt early", "2025-04-11", "Reuters",
                               "The Rhone glacier lost 5 percent of its volume by early April, the glaciology "
                               "network said. Skiing resorts closed their lower slopes."),
    "bbc/2025-04-25.txt": ("Alpine melt speeds up in April", "2025-04-25", "BBC",
                           "The Rhone glacier lost 6 percent of its volume since January, researchers in Zurich "
                           "said on Friday. Meltwater filled the lake below the glacier."),
    "reuters/2025-05-09.txt": ("Glacier loss passes record", "2025-05-09", "Reuters",
                               "The Rhone glacier lost 8 percent of its volume this year, the highest loss since "
                               "records began. Officials warned hikers about falling ice."),
}


def _write(folder: Path, path: str, title: str, day: str | None, source: str | None, body: str) -> None:
    lines = [title] + ([f"Date: {day}"] if day else []) + ([f"Source: {source}"] if source else []) + ["", body]
    (folder / path).parent.mkdir(parents=True, exist_ok=True)
    (folder / path).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def dated_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four dated articles from two outlets, in one sub-folder each, all about the same glacier."""
    folder = tmp_path_factory.mktemp("dated") / "corpus"
    for path, (title, day, source, body) in ARTICLES.items():
        _write(folder, path, title, day, source, body)
    return folder


@pytest.fixture(scope="module")
def with_undated(tmp_path_factory: pytest.TempPathFactory, dated_corpus: Path) -> Path:
    """The dated corpus and one article without a date."""
    folder = tmp_path_factory.mktemp("undated") / "corpus"
    shutil.copytree(dated_corpus, folder)
    _write(folder, "misc/glacier.txt", "Glacier notes", None, None,
           "The Rhone glacier lost 9 percent of its volume, a hiking blog claimed. Nobody checked the figure.")
    return folder


@pytest.fixture(scope="module", params=["embedded", "milvus-lite"])
def bot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, with_undated: Path) -> Iterator[qa.QA]:
    """The corpus with the undated article, indexed in a folder and in Milvus Lite."""
    folder = tmp_path_factory.mktemp(request.param)
    location = str(folder / "index") if request.param == "embedded" else f"milvus-lite:{folder / 'index.db'}"
    qa.build_index(with_undated, location)
    with qa.open_index(location) as opened:
        yield opened


def _cited(answer: qa.Answer) -> set[str]:
    assert answer.citation is not None
    return {c.doc_id for c in [answer.citation, *answer.corroborating, *(c.citation for c in answer.candidates)]}


def _dates(bot: qa.QA, doc_ids: set[str]) -> set[str | None]:
    by_id = {a.doc_id: a.date for a in bot.articles()}
    return {by_id[d] for d in doc_ids}


def test_april_cites_only_articles_dated_in_april(tmp_path: Path, dated_corpus: Path):
    qa.build_index(dated_corpus, tmp_path / "index")
    with qa.open_index(tmp_path / "index") as bot:
        answer = bot.ask(GLACIER, since="2025-04-01", until="2025-04-30")

        assert answer.found and answer.short_answer.text in ("5 percent", "6 percent")
        assert _dates(bot, _cited(answer)) <= {"2025-04-11", "2025-04-25"}
        assert {p.doc_id for p in answer.related} <= {a.doc_id for a in bot.articles() if a.date and a.date.startswith("2025-04")}


def test_a_date_filter_is_applied_in_retrieval_on_both_stores(bot: qa.QA):
    answer = bot.ask(GLACIER, since="2025-05", undated="drop")

    assert answer.found and answer.short_answer.text == "8 percent"
    assert _dates(bot, _cited(answer)) == {"2025-05-09"}
    assert [p.doc_id for p in bot.search(GLACIER, k=5, since=date(2025, 5, 1), undated="drop")] == ["reuters/2025-05-09"]


def test_undated_articles_are_kept_unless_dropped(bot: qa.QA):
    kept = {p.doc_id for p in bot.search(GLACIER, k=10, since="2025-05")}
    dropped = {p.doc_id for p in bot.search(GLACIER, k=10, since="2025-05", undated="drop")}

    assert kept == {"reuters/2025-05-09", "misc/glacier"}
    assert dropped == {"reuters/2025-05-09"}


def test_sources_match_an_outlet_or_a_folder_ignoring_case(bot: qa.QA):
    by_outlet = {p.doc_id for p in bot.search(GLACIER, k=10, sources=["bbc"])}
    by_folder = {p.doc_id for p in bot.search(GLACIER, k=10, sources=["MISC", "Reuters"])}

    assert by_outlet == {"bbc/2025-03-14", "bbc/2025-04-25"}
    assert by_folder == {"misc/glacier", "reuters/2025-04-11", "reuters/2025-05-09"}
    answer = bot.ask(GLACIER, sources="BBC", since="2025-04")
    assert answer.found and answer.citation.doc_id == "bbc/2025-04-25"


def test_a_filter_that_matches_nothing_says_so(bot: qa.QA):
    answer = bot.ask(GLACIER, since="2026-01-01", undated="drop")

    assert not answer.found and answer.citation is None and answer.related == []
    assert answer.message == ("The filter (since 2026-01-01, dated articles only) left nothing: "
                              "no article of the archive matches it. Widen or drop it.")
    assert bot.search(GLACIER, sources=["le monde"]) == []
    assert "source le monde" in bot.ask(GLACIER, sources=["le monde"]).message


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"since": "April 2025"}, "since='April 2025' is not a date"),
    ({"until": "2025-02-30"}, "until='2025-02-30' is not a real day"),
    ({"since": "2025-05", "until": "2025-04"}, "since (2025-05-01) is after until (2025-04-30)"),
    ({"sources": [""]}, "a source is an outlet name or a corpus folder"),
    ({"undated": "maybe"}, 'undated must be "keep" or "drop"'),
])
def test_a_filter_qa_cannot_read_is_a_plain_filter_error(bot: qa.QA, kwargs: dict, message: str):
    with pytest.raises(qa.FilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        bot.ask(GLACIER, **kwargs)


def test_the_cli_filters_ask_and_search(tmp_path: Path, dated_corpus: Path, capsys: pytest.CaptureFixture[str]):
    from qa.cli import main

    qa.build_index(dated_corpus, tmp_path / "index")
    index = ["--index", str(tmp_path / "index")]

    assert main(["ask", GLACIER, "--since", "2025-05", *index]) == 0
    assert "8 percent" in capsys.readouterr().out
    assert main(["search", GLACIER, "--source", "bbc", "--source", "nobody", "--until", "2025-03", *index]) == 0
    assert capsys.readouterr().out.startswith("1. Rhone glacier shrinks over winter [bbc/2025-03-14#")
    assert main(["ask", GLACIER, "--source", "le monde", *index]) == 1
    assert capsys.readouterr().out == ("The filter (source le monde) left nothing: no article of the archive matches it. "
                                       "Widen or drop it.\n")
    assert main(["ask", GLACIER, "--since", "April", *index]) == 2
    assert "since='April' is not a date" in capsys.readouterr().err


def test_the_dense_selector_finds_what_numpy_finds_among_the_allowed_ids():
    import numpy as np

    from qa.dense import DenseIndex

    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(500, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1000, 1500, dtype=np.int64)
    index = DenseIndex.create()
    index.add(ids, vectors)
    allowed = np.sort(rng.choice(ids, 40, replace=False))
    query = vectors[7] * 0.5 + vectors[300] * 0.5

    scores, found = index.search(query, 10, allowed)
    subset = vectors[allowed - 1000] @ (query / 1.0)
    expected = allowed[np.argsort(-subset)[:10]]
    assert found[0].tolist() == expected.tolist()
    assert np.allclose(scores[0], np.sort(subset)[::-1][:10], atol=1e-5)


def test_the_lexical_mask_keeps_the_unfiltered_scores_of_the_allowed_passages():
    import numpy as np

    from qa.lexical import LexicalIndex, tokenize

    texts = [f"the Rhone glacier lost {n} percent" if n % 3 else f"skiing resorts closed {n} slopes" for n in range(30)]
    index = LexicalIndex.build(list(range(100, 130)), tokenize(texts))
    allowed = np.asarray([101, 104, 105, 110, 111, 129], dtype=np.int64)

    everything = dict(index.search("Rhone glacier", 30))
    assert index.search("Rhone glacier", 3, allowed) == sorted(
        ((pid, s) for pid, s in everything.items() if pid in allowed), key=lambda p: (-p[1], p[0]))[:3]
