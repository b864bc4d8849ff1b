"""The dense side sees each article's title: a headline finds its own article, also when another article's
sentences say much the same thing, and the title vectors follow every change to the corpus."""

from __future__ import annotations

from pathlib import Path

import qa

RETIREMENT = """Grandmaster Ivanova ends her playing career
date 2025-02-03

The 34-year-old announced on Monday that the tournament in Wijk aan Zee would be her last.
She won four national titles and coached the junior team for a decade.
"""

LOOKALIKE = """Chess clubs report record membership
date 2025-02-04

A chess grandmaster ending a playing career usually draws a crowd, organisers said.
Clubs across the country signed up more new members last year than in any year before.
"""


def _corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "ivanova.txt").write_text(RETIREMENT, encoding="utf-8")
    (folder / "clubs.txt").write_text(LOOKALIKE, encoding="utf-8")
    return folder


def test_a_headline_finds_its_own_article_on_the_dense_side_too(tmp_path: Path):
    qa.build_index(_corpus(tmp_path / "corpus"), tmp_path / "index")

    with qa.open_index(tmp_path / "index") as bot:
        passages = bot.search("Grandmaster Ivanova ends her playing career", k=4)

    best = next(p for p in passages if p.dense_rank == 1)
    assert best.doc_id == "ivanova"
    assert passages[0].doc_id == "ivanova"


def test_a_changed_title_replaces_the_old_title_vector(tmp_path: Path):
    corpus = _corpus(tmp_path / "corpus")
    qa.build_index(corpus, tmp_path / "index")
    (corpus / "clubs.txt").write_text(LOOKALIKE.replace("Chess clubs report record membership",
                                                        "Grandmaster Ivanova ends her playing career"), encoding="utf-8")
    (corpus / "ivanova.txt").unlink()

    report = qa.build_index(corpus, tmp_path / "index")

    assert (report.updated, report.removed, report.embedded) == (1, 1, 2)
    with qa.open_index(tmp_path / "index") as bot:
        passages = bot.search("Grandmaster Ivanova ends her playing career", k=4)
        assert {p.doc_id for p in passages} == {"clubs"}
        assert passages[0].dense_rank == 1
        assert len(bot._store.titles) == bot.counts["articles"] == 1
