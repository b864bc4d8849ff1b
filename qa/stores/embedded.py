"""The embedded index folder as a `Store`: the SQLite catalog, bm25s and FAISS of one generation.

Read from many threads at once: FAISS and bm25s search memory-mapped arrays without writing them, and
the one SQLite connection is used under a lock (each catalog call takes a millisecond or two). All files
of the generation are opened here, so a build that publishes a newer generation and deletes this one
afterwards does not disturb its readers: on Linux an open or mapped file outlives its name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from qa import store
from qa.catalog import Catalog
from qa.dense import DenseIndex
from qa.errors import IndexStoreError
from qa.filters import Filter, article_date
from qa.fusion import Ranked, retrieve
from qa.lexical import LexicalIndex
from qa.models import Article, ArticleInfo, Passage, Sentence
from qa.spelling import Vocabulary


_OPEN_ATTEMPTS = 3


class EmbeddedStore:
    """One generation of an index folder, opened read-only."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self.location = str(index_dir)
        self._lock = threading.Lock()
        self._filter_rows: tuple[list, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._newest: tuple[str | None] | None = None
        for attempt in range(_OPEN_ATTEMPTS):
            manifest = store.read_manifest(self.index_dir)
            try:
                self._load(manifest)
                return
            except IndexStoreError:
                # A build published (and dropped the generation this open began with) meanwhile: open the new one.
                if attempt + 1 == _OPEN_ATTEMPTS or store.read_manifest(self.index_dir).generation == manifest.generation:
                    raise

    def _load(self, manifest: store.Manifest) -> None:
        generation = store.generation_dir(self.index_dir, manifest)
        self.manifest = manifest
        self.generation = manifest.generation
        self.model_name = manifest.model_name
        self.model_fingerprint = manifest.model_fingerprint
        self.built_at = manifest.built_at
        self.dense = DenseIndex.load(generation / store.DENSE, expected=manifest.sentences, layout=manifest.dense)
        self.titles = DenseIndex.load(generation / store.TITLES, expected=manifest.articles)
        self.lexical = LexicalIndex.load(generation / store.LEXICAL)
        self.model_dir = store.model_dir(self.index_dir, manifest.model_fingerprint)
        self.vocabulary = Vocabulary.load(generation / store.VOCABULARY)  # None in an index built before qa kept one
        self.catalog = Catalog(generation / store.CATALOG, readonly=True)  # last: the one load that needs closing

    def counts(self) -> dict[str, int]:
        m = self.manifest
        return {"articles": m.articles, "passages": m.passages, "sentences": m.sentences}

    def latest_generation(self) -> str | None:
        try:
            return store.read_manifest(self.index_dir).generation
        except IndexStoreError:
            return None

    def title_keys(self, passage_ids: Sequence[int]) -> dict[int, int]:
        with self._lock:
            return self.catalog.title_keys(passage_ids)
    def ranked(self, question: str, vector: np.ndarray, k: int, within: Filter | None = None) -> list[Ranked]:
        allowed = None if within is None else self._admitted(within)
        if allowed is not None and not len(allowed[0]):
            return []
        return retrieve(question, vector, self.lexical, self.dense, self, k=k, allowed=allowed, titles=self.titles)

    def newest_date(self) -> str | None:
        # Every ask reads it (a relative date phrase counts from it): read once, as the filter rows are.
        articles = self._rows()[0]
        with self._lock:
            if self._newest is None:
                dates = [d for _, _, day, _ in articles if (d := article_date(day)) is not None]
                self._newest = (max(dates).isoformat() if dates else None,)
            return self._newest[0]

    def _admitted(self, within: Filter) -> tuple[np.ndarray, np.ndarray]:
        articles, passage_docs, passage_ids, sentence_docs, sentence_ids = self._rows()
        codes = np.asarray([i for i, (_, source, day, path) in enumerate(articles) if within.admits(source, day, path)],
                           dtype=np.int64)
        return passage_ids[np.isin(passage_docs, codes)], sentence_ids[np.isin(sentence_docs, codes)]

    def _rows(self) -> tuple[list, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every article's metadata and the article of each passage and sentence id, read once: a generation
        does not change once published."""
        with self._lock:
            if self._filter_rows is None:
                articles, passages, sentences = self.catalog.filter_rows()
                code = {row[0]: i for i, row in enumerate(articles)}
                self._filter_rows = (
                    articles,
                    np.fromiter((code[d] for d, _ in passages), np.int64, len(passages)),
                    np.fromiter((i for _, i in passages), np.int64, len(passages)),
                    np.fromiter((code[d] for d, _ in sentences), np.int64, len(sentences)),
                    np.fromiter((i for _, i in sentences), np.int64, len(sentences)),
                )
            return self._filter_rows

    def passages_of_sentences(self, sentence_ids: Sequence[int]) -> dict[int, list[int]]:
        with self._lock:
            return self.catalog.passages_of_sentences(sentence_ids)

    def passages(self, ids: Sequence[int]) -> dict[int, Passage]:
        with self._lock:
            return self.catalog.passages(ids)

    def passage_sentences(self, passage_ids: Sequence[int]) -> dict[int, list[tuple[int, Sentence]]]:
        with self._lock:
            return self.catalog.passage_sentences(passage_ids)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return self.dense.vectors(ids)

    def idf(self, terms: Sequence[str]) -> list[float]:
        return self.lexical.idf(terms)

    def cooccurrence(self, candidates: Sequence[str], context: Sequence[str]) -> list[int]:
        return self.lexical.cooccurrence(candidates, context)

    def article_meta(self, doc_ids: Iterable[str]) -> dict[str, dict[str, str | None]]:
        with self._lock:
            return self.catalog.article_meta(doc_ids)

    def article(self, doc_id: str) -> Article | None:
        with self._lock:
            return self.catalog.article(doc_id)

    def article_list(self) -> list[ArticleInfo]:
        with self._lock:
            return self.catalog.article_list()

    def sentences(self, doc_id: str) -> list[Sentence]:
        with self._lock:
            return self.catalog.sentences(doc_id)

    def content_hashes(self) -> dict[str, str]:
        with self._lock:
            return self.catalog.content_hashes()

    def close(self) -> None:
        with self._lock:
            self.catalog.close()
