"""Where an index lives, behind one small protocol: the embedded folder (the default) or Milvus.

`open_store(location)` reads the location the way the facade is given it:

    index/                        an embedded index folder (SQLite + bm25s + FAISS): qa.stores.embedded
    milvus-lite:PATH.db           Milvus Lite, embedded in this process: qa.stores.milvus
    milvus://HOST:PORT[/PREFIX]   a Milvus server or cluster, collections named PREFIX_... (default "qa")

The answer path (`qa.api`, `qa.answer`) sees only `Store`: the fused ranking of passages for a question,
and what the answerer reads about them (their sentences with offsets and vectors, the articles' metadata,
the idf of the question's terms). Each implementation keeps its own build, so that a publish is atomic in
the way its engine allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from qa.filters import Filter
    from qa.fusion import Ranked
    from qa.indexer import Progress
    from qa.models import Article, ArticleInfo, IndexReport, Passage, Sentence
    from qa.spelling import Vocabulary

MILVUS_SCHEMES = ("milvus://", "milvus-lite:")


@runtime_checkable
class Store(Protocol):
    """One open generation of an index, safe to read from several threads at once."""

    location: str
    generation: str
    model_name: str
    model_fingerprint: str
    model_dir: Path
    built_at: float  # when a build last wrote this generation, in seconds since the epoch
    vocabulary: Vocabulary | None  # the articles' words, for correcting typos; None when the store keeps none

    def counts(self) -> dict[str, int]:
        """How many articles, passages and sentences the generation holds."""

    def latest_generation(self) -> str | None:
        """The generation the index names now (a build may have published one since this was opened)."""

    def ranked(self, question: str, vector: np.ndarray, k: int, within: Filter | None = None) -> list[Ranked]:
        """The k passages that best match a question, BM25 and embedding rankings fused by rank, best first;
        with `within`, only passages of the articles it admits, filtered inside both searches."""

    def cooccurrence(self, candidates: Sequence[str], context: Sequence[str]) -> list[int]:
        """For each candidate BM25 term, the most context terms one passage holds with it (typo correction)."""

    def newest_date(self) -> str | None:
        """The newest article date of the index (ISO day), or None when no article is dated."""

    def passages(self, ids: Sequence[int]) -> dict[int, Passage]:
        """Passages by id, with their text and their article's title."""

    def passage_sentences(self, passage_ids: Sequence[int]) -> dict[int, list[tuple[int, Sentence]]]:
        """For each passage id, its sentences as (sentence id, Sentence), in article order."""

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The unit embedding of each sentence id, float32 of shape (len(ids), 384), in the order of ids."""

    def idf(self, terms: Sequence[str]) -> list[float]:
        """The index's inverse document frequency of already tokenized terms."""

    def article_meta(self, doc_ids: Iterable[str]) -> dict[str, dict[str, str | None]]:
        """Title, source, date, url and path of each article, without its text."""

    def article(self, doc_id: str) -> Article | None:
        """An article's cleaned text and metadata, or None."""

    def article_list(self) -> list[ArticleInfo]:
        """Every article without its text, by date (undated last) then id."""

    def sentences(self, doc_id: str) -> list[Sentence]:
        """The sentences of one article, in order; empty for an unknown article."""

    def content_hashes(self) -> dict[str, str]:
        """The content hash of every article, by id: what a build compares the corpus with."""

    def close(self) -> None:
        """Release what the store holds open."""


def is_milvus(location: str | Path) -> bool:
    """Whether a location names a Milvus store rather than an index folder."""
    return str(location).startswith(MILVUS_SCHEMES)


def open_store(location: str | Path) -> Store:
    """Open the current generation of the index at `location` (an index folder or a Milvus URI).

    Raises:
        IndexNotFoundError: nothing is indexed there yet.
        CorruptIndexError, IndexVersionError: the index cannot be read by this qa.
    """
    if is_milvus(location):
        from qa.stores.milvus import MilvusStore

        return MilvusStore.open(str(location))
    from qa.stores.embedded import EmbeddedStore

    return EmbeddedStore(Path(location))


def build(
    corpus_dir: str | Path,
    location: str | Path,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    wait: float = 0.0,
    max_article_bytes: int | None = None,
    csv_columns: dict[str, str] | None = None,
    ann_from: int | None = None,
) -> IndexReport:
    """Build or update the index at `location` from a corpus folder; see `qa.build_index`."""
    limit: dict = {} if max_article_bytes is None else {"max_article_bytes": max_article_bytes}
    if csv_columns:
        limit["csv_columns"] = csv_columns
    if is_milvus(location):
        from qa.stores.milvus_build import build_milvus

        return build_milvus(corpus_dir, str(location), rebuild=rebuild, progress=progress, **limit)
    from qa.indexer import build_index

    ann = {} if ann_from is None else {"ann_from": ann_from}
    return build_index(corpus_dir, location, rebuild=rebuild, progress=progress, wait=wait, **limit, **ann)
