"""What a user of the Python API sees beyond answers: reprs, a closed index, a missing article, a stale corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import qa

ZELENSKY = "how many Chinese nationals did Zelensky claim?"


def test_reprs_are_one_short_line(bot: qa.QA, default_index: Path):
    answer = bot.ask(ZELENSKY)

    assert repr(bot) == f"<QA {str(default_index)!r} {bot.manifest.generation} articles=5, passages=29, sentences=90>"
    assert len(repr(answer)) < 300 and "\n" not in repr(answer)
    assert "short_answer='at least 155'" in repr(answer) and "001_0b0befd10767e2d2:0-154" in repr(answer)
    assert len(answer.model_dump_json()) > 2000  # the whole model is still there
    article = bot.article(answer.citation.doc_id)
    assert repr(article) == f"Article(doc_id='001_0b0befd10767e2d2', title='{article.title}', chars={len(article.text)})"


def test_a_closed_index_says_so(default_index: Path):
    bot = qa.open_index(default_index)
    bot.close()

    assert "closed" in repr(bot)
    for call in (lambda: bot.ask(ZELENSKY), lambda: bot.search("x"), lambda: bot.article("x"), bot.articles):
        with pytest.raises(qa.IndexClosedError, match="closed; open it again"):
            call()
    bot.close()


def test_a_missing_article_is_a_key_error_and_a_qa_error(bot: qa.QA):
    with pytest.raises(qa.ArticleNotFoundError) as raised:
        bot.article("nope")

    assert isinstance(raised.value, KeyError) and isinstance(raised.value, qa.QAError)
    assert str(raised.value).startswith("no article 'nope' in ")
    with pytest.raises(KeyError):
        bot.sentences("nope")


def test_articles_and_sentences_match_the_texts(bot: qa.QA):
    listed = bot.articles()

    assert len(listed) == bot.counts["articles"]
    for info in listed:
        article = bot.article(info.doc_id)
        assert (info.title, info.path, info.chars) == (article.title, article.path, len(article.text))
        for sentence in bot.sentences(info.doc_id):
            assert article.text[sentence.start:sentence.end] == sentence.text


def test_corpus_changes_finds_what_the_next_build_would(small_corpus: Path, default_index: Path, tmp_path: Path):
    index = tmp_path / "index"
    shutil.copytree(default_index, index)
    with qa.open_index(index) as bot:
        assert not bot.corpus_changes(small_corpus)
        assert not bot.is_stale()

        (small_corpus / "new.txt").write_text("New\n\nThe bridge opened on Friday.\n")
        changed = next(small_corpus.glob("001_*.txt"))
        changed.write_text(changed.read_text() + "\nOne more sentence.\n")
        next(small_corpus.glob("003_*.txt")).unlink()
        (small_corpus / "old-empty.txt").write_text("")
        os.utime(small_corpus / "old-empty.txt", (bot.manifest.built_at - 60, bot.manifest.built_at - 60))

        changes = bot.corpus_changes(small_corpus)
        assert changes.added == ["new"]
        assert changes.changed == [changed.stem]
        assert changes.removed == ["003_a7d3e74dcfafbf5a"]
        assert changes.summary() == "1 new, 1 changed, 1 removed"

        qa.build_index(small_corpus, index)
        assert bot.is_stale()
    with qa.open_index(index) as reopened:
        assert not reopened.corpus_changes(small_corpus) and not reopened.is_stale()
