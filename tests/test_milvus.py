"""The index on Milvus Lite, embedded in the test process: the same answers through the same API."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import qa
from qa.serve import running

ZELENSKY = "how many Chinese nationals did Zelensky claim?"
GLACIER = ("Glaciers in the Alps shrink\n\nThe Rhone glacier lost 4 percent of its volume in 2022. "
           "Swiss scientists measured the loss with drones.\n")


@pytest.fixture
def milvus_bot(milvus_store: str) -> Iterator[qa.QA]:
    with qa.open_index(milvus_store) as bot:
        yield bot


def test_the_zelensky_question_is_answered_with_offsets_that_round_trip(milvus_bot: qa.QA):
    answer = milvus_bot.ask(ZELENSKY)

    assert answer.found and answer.short_answer.text == "at least 155"
    article = milvus_bot.article(answer.citation.doc_id)
    assert article.text[answer.citation.start:answer.citation.end] == answer.sentence
    assert answer.sentence[answer.short_answer.start:answer.short_answer.end] == "at least 155"
    for c in answer.corroborating:
        assert "155" in milvus_bot.article(c.doc_id).text[c.start:c.end]


def test_an_ask_on_milvus_lite_prints_no_timestamp_warning(milvus_store: str, caplog: pytest.LogCaptureFixture):
    iterator_log = logging.getLogger("pymilvus.client.iterator.query_iterator")  # pymilvus does not propagate it
    iterator_log.addHandler(caplog.handler)
    try:
        with qa.open_index(milvus_store) as bot:  # a fresh open reads every article row through the iterator
            assert bot.ask(ZELENSKY).found
    finally:
        iterator_log.removeHandler(caplog.handler)

    assert not [r for r in caplog.records if "mvccTs" in r.getMessage()]


@pytest.mark.parametrize(
    ("question", "short", "doc"),
    [
        ("Who is the spokesperson of China's foreign ministry?", "Lin Jian", None),
        ("Which Chinese contract soldier was killed in the Zaporizhia region?", "Rui Zhao", "000"),
        ("Where will Russian officials meet U.S. diplomats?", "Istanbul", "003"),
    ],
)
def test_short_answers_match_the_embedded_index(milvus_bot: qa.QA, bot: qa.QA, question: str, short: str,
                                                doc: str | None):
    answer = milvus_bot.ask(question)

    assert answer.found and answer.short_answer.text == short == bot.ask(question).short_answer.text
    if doc:
        assert answer.citation.doc_id.startswith(doc)


def test_counts_search_and_unknown_articles(milvus_bot: qa.QA, bot: qa.QA):
    passages = milvus_bot.search("Chinese soldiers captured", k=5)

    assert milvus_bot.counts == bot.counts
    assert milvus_bot.model_name == bot.model_name
    assert len(passages) == 5 and all(p.text in milvus_bot.article(p.doc_id).text for p in passages)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    with pytest.raises(KeyError):
        milvus_bot.article("no-such-article")


def test_an_empty_store_says_how_to_build_it(tmp_path: Path):
    with pytest.raises(qa.IndexNotFoundError, match="qa index CORPUS --store"):
        qa.open_index(f"milvus-lite:{tmp_path / 'empty.db'}")
    with pytest.raises(qa.IndexStoreError, match="ending in .db"):
        qa.open_index(f"milvus-lite:{tmp_path / 'index.sqlite'}")


def test_add_change_delete_embed_only_what_changed(small_corpus: Path, milvus_copy: str, index_copy: Path):
    uri, folder = milvus_copy, index_copy  # the embedded index: the reference
    (small_corpus / "new.txt").write_text(GLACIER, encoding="utf-8")

    added, reference = qa.build_index(small_corpus, uri), qa.build_index(small_corpus, folder)
    with qa.open_index(uri) as bot:
        glacier = bot.ask("How much of its volume did the Rhone glacier lose in 2022?")

    assert (added.added, added.updated, added.removed, added.embedded) == (1, 0, 0, 2) == (
        reference.added, reference.updated, reference.removed, reference.embedded)
    assert not added.full_rebuild and glacier.found and glacier.citation.doc_id == "new"

    path = small_corpus / "004_fd5b037eee5d7828.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("Kim Jog Un", "Kim Jong Un"), encoding="utf-8")
    (small_corpus / "000_404809e14ec4b5ef.txt").unlink()

    changed, reference = qa.build_index(small_corpus, uri), qa.build_index(small_corpus, folder)
    with qa.open_index(uri) as bot, qa.open_index(folder) as embedded:
        text = bot.article("004_fd5b037eee5d7828").text
        rui = [p.doc_id for p in bot.search("Rui Zhao Zaporizhia", k=10)]
        counts = bot.counts
        with pytest.raises(KeyError):
            bot.article("000_404809e14ec4b5ef")
        expected_counts = embedded.counts

    assert (changed.added, changed.updated, changed.removed) == (0, 1, 1)
    assert changed.embedded == reference.embedded  # only the changed article's sentences
    assert "Kim Jong Un" in text and "Kim Jog Un" not in text
    assert "000_404809e14ec4b5ef" not in rui
    # the old rows of the changed article and every row of the removed one are gone, not only hidden
    assert counts == expected_counts


def test_a_full_rebuild_fills_new_collections_and_switches_the_alias_last(small_corpus: Path, milvus_copy: str):
    uri = milvus_copy
    with qa.open_index(uri) as old:
        rebuilt = qa.build_index(small_corpus, uri, rebuild=True)
        assert old.is_stale()  # a reader on the old generation learns a new one is published ...
        assert old.ask(ZELENSKY).short_answer.text == "at least 155"  # ... and still answers from the old one
        with qa.open_index(uri) as new:
            assert new.generation != old.generation and not new.is_stale()
            assert new.ask(ZELENSKY).short_answer.text == "at least 155"

    assert rebuilt.full_rebuild and rebuilt.reason == "rebuild requested" and rebuilt.embedded == rebuilt.sentences


def test_a_build_killed_midway_leaves_every_article_whole(small_corpus: Path, milvus_copy: str, index_copy: Path):
    uri = milvus_copy
    with qa.open_index(uri) as bot:
        before = {doc: bot.article(doc).text for doc in ("002_8f53a767d3a9432f", "004_fd5b037eee5d7828")}
    edits = {"002_8f53a767d3a9432f": ("Beijing’s credibility", "Beijing’s standing"),
             "004_fd5b037eee5d7828": ("Kim Jog Un", "Kim Jong Un")}
    for doc, (old, new) in edits.items():
        path = small_corpus / f"{doc}.txt"
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    (small_corpus / "new.txt").write_text(GLACIER, encoding="utf-8")

    # A separate process (Milvus Lite opens a file in one process at a time) kills itself with SIGKILL once two
    # articles (the new one, then 002) have switched to their new version and the new rows of 004 are written.
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import os, signal, qa
        def progress(stage, done, total):
            if stage == "write" and done == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        qa.build_index({str(small_corpus)!r}, {uri!r}, progress=progress)
    """)], capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr

    with qa.open_index(uri) as bot:
        answer = bot.ask(ZELENSKY)
        texts = {doc: bot.article(doc).text for doc in before}
        passages = bot.search("Beijing standing Kim Jong Un", k=20)
    assert answer.found and answer.short_answer.text == "at least 155"
    for doc, text in texts.items():  # each article is its old version or its new one, whole
        assert text in (before[doc], before[doc].replace(*edits[doc]))
    assert texts["002_8f53a767d3a9432f"] != before["002_8f53a767d3a9432f"]
    assert texts["004_fd5b037eee5d7828"] == before["004_fd5b037eee5d7828"]
    assert all(p.text in texts.get(p.doc_id, p.text) for p in passages)

    again = qa.build_index(small_corpus, uri)
    reference = qa.build_index(small_corpus, index_copy)
    with qa.open_index(uri) as bot:
        assert all(bot.article(doc).text == before[doc].replace(*edits[doc]) for doc in before)
        assert bot.ask("How much of its volume did the Rhone glacier lose in 2022?").citation.doc_id == "new"
        counts = bot.counts
    assert (again.added, again.updated) == (0, 1)  # the articles switched before the kill are not embedded again
    assert counts == {"articles": reference.articles, "passages": reference.passages, "sentences": reference.sentences}


def test_qa_serve_answers_from_milvus(milvus_store: str):
    with running(milvus_store) as server, httpx.Client(base_url=server.url) as http:
        answer = http.get("/ask", params={"q": ZELENSKY}).json()
        stats = http.get("/stats").json()

    assert answer["short_answer"]["text"] == "at least 155"
    assert stats["location"] == milvus_store and stats["articles"] == 5 and stats["generation"] == "g000001"


def test_a_milvus_server_on_loopback_takes_a_prefix(corpus_dir: Path, tmp_path: Path):
    """The milvus:// path (what a cluster gets), against `milvus-lite server` bound to 127.0.0.1 on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "data"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "milvus-lite server did not start"
                time.sleep(0.2)
        uri = f"milvus://127.0.0.1:{port}/newsroom"
        report = qa.build_index(corpus_dir, uri)
        with qa.open_index(uri) as bot:
            answer = bot.ask(ZELENSKY)
            generation = bot.generation
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert report.articles == 5 and report.full_rebuild
    assert answer.short_answer.text == "at least 155" and generation == "g000001"


def test_idf_matches_the_embedded_index_and_follows_an_update_of_an_open_store(small_corpus: Path, milvus_copy: str,
                                                                             index_copy: Path):
    from qa.stores import open_store

    uri, folder = milvus_copy, index_copy
    terms = ["zelenski", "china", "glacier", "said"]  # as qa's tokenizer gives them; "glacier" in no article yet
    milvus = open_store(uri)
    try:
        before = milvus.idf(terms)
        embedded = open_store(folder)
        assert before == pytest.approx(embedded.idf(terms))
        embedded.close()

        (small_corpus / "new.txt").write_text(GLACIER, encoding="utf-8")
        qa.build_index(small_corpus, uri), qa.build_index(small_corpus, folder)
        time.sleep(1.1)  # the open store checks at most once a second whether a build wrote it
        after = milvus.idf(terms)
        embedded = open_store(folder)
        assert after == pytest.approx(embedded.idf(terms)) and after != before
        embedded.close()
    finally:
        milvus.close()


def test_a_milvus_lite_file_open_in_another_process_is_a_clear_error(milvus_store: str, corpus_dir: Path):
    with qa.open_index(milvus_store):
        other = subprocess.run([sys.executable, "-m", "qa.cli", "index", str(corpus_dir), "--store", milvus_store],
                               capture_output=True, text=True, timeout=300)

    assert other.returncode == 2  # qa: a problem with the index
    assert "one process at a time" in other.stderr and "milvus-lite server" in other.stderr
    assert "Traceback" not in other.stderr


def test_articles_sentences_and_corpus_changes_agree_with_the_embedded_index(milvus_bot: qa.QA, bot: qa.QA,
                                                                             corpus_dir: Path):
    assert milvus_bot.articles() == bot.articles()
    for info in bot.articles():
        assert milvus_bot.sentences(info.doc_id) == bot.sentences(info.doc_id)
    assert milvus_bot.corpus_changes(corpus_dir) == bot.corpus_changes(corpus_dir)
    assert not milvus_bot.corpus_changes(corpus_dir).added
    with pytest.raises(qa.ArticleNotFoundError):
        milvus_bot.sentences("no-such-article")
