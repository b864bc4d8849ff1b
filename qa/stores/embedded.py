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
from qa.fusion import Ranked, retrieve
from qa.lexical import LexicalIndex
from qa.models import Article, ArticleInfo, Passage, Sentence


_OPEN_ATTEMPTS = 3


class EmbeddedStore:
    """One generation of an index folder, opened read-only."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self.location = str(index_dir)
        self._lock = threading.Lock()
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
        self.lexical = LexicalIndex.load(generation / store.LEXICAL)
        self.model_dir = store.model_dir(self.index_dir, manifest.model_fingerprint)
        self.catalog = Catalog(generation / store.CATALOG, readonly=True)  # last: the one load that needs closing

    def counts(self) -> dict[str, int]:
        m = self.manifest
        return {"articles": m.articles, "passages": m.passages, "sentences": m.sentences}

    def latest_generation(self) -> str | None:
        try:
            return store.read_manifest(self.index_dir).generation
        except IndexStoreError:
            return None

    def ranked(self, question: str, vector: np.ndarray, k: int) -> list[Ranked]:
        return retrieve(question, vector, self.lexical, self.dense, self, k=k)

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
