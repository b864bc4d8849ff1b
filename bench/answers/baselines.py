"""Two sentence-retrieval baselines that quote the top sentence and never abstain.

They read the same articles (qa.documents) and the same sentence split (qa.sentences) as qa itself, so any
difference with qa comes from how it ranks and picks, not from what it sees.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.documents import parse_article, scan_corpus
from qa.embedding import Embedder
from qa.errors import DocumentError
from qa.lexical import LexicalIndex, tokenize
from qa.sentences import split_sentences


@dataclass
class Hit:
    """The sentence a baseline quotes."""

    sentence: str
    doc_id: str
    url: str | None
    score: float


class SentenceBaselines:
    """BM25 and MiniLM-cosine rankers over every sentence of a corpus folder.

    Args:
        corpus_dir: the folder qa indexed.
        model_dir: an exported embedding model (the `model/` folder of a qa index).
        cache_dir: where sentence embeddings are kept between runs, keyed by a hash of the sentences.
    """

    def __init__(self, corpus_dir: Path, model_dir: Path, cache_dir: Path) -> None:
        self.sentences: list[tuple[str, str, str | None]] = []
        for raw in scan_corpus(Path(corpus_dir)).articles:
            try:
                article = parse_article(raw)
            except DocumentError:
                continue
            for start, end in split_sentences(article.text):
                self.sentences.append((article.text[start:end], article.doc_id, article.url))
        texts = [s for s, _, _ in self.sentences]
        self._lexical = LexicalIndex.build(list(range(len(texts))), tokenize(texts))
        self._embedder = Embedder(model_dir)
        self._vectors = self._embeddings(texts, Path(cache_dir))

    def _embeddings(self, texts: list[str], cache_dir: Path) -> np.ndarray:
        digest = hashlib.sha1("\x00".join(texts).encode("utf-8"))
        digest.update(self._embedder.fingerprint.encode())
        path = cache_dir / f"sentence-vectors-{digest.hexdigest()[:16]}.npy"
        if path.is_file():
            return np.load(path, allow_pickle=False)
        vectors = self._embedder.encode(texts)
        cache_dir.mkdir(parents=True, exist_ok=True)
        for old in cache_dir.glob("sentence-vectors-*.npy"):
            old.unlink()
        np.save(path, vectors, allow_pickle=False)
        return vectors

    def _hit(self, i: int, score: float) -> Hit:
        text, doc_id, url = self.sentences[i]
        return Hit(text, doc_id, url, float(score))

    def bm25_ranked(self, question: str, k: int) -> list[Hit]:
        """The k sentences with the highest BM25 scores (the corpus's first when no term matches)."""
        results = self._lexical.search(question, k) or [(0, 0.0)]
        return [self._hit(int(sid), score) for sid, score in results]

    def dense_ranked(self, question: str, k: int) -> list[Hit]:
        """The k sentences whose MiniLM embeddings are closest (cosine) to the question's."""
        q = self._embedder.encode([question])[0]
        scores = self._vectors @ q
        best = np.argsort(-scores)[:k]
        return [self._hit(int(i), scores[i]) for i in best]

    def bm25(self, question: str) -> Hit:
        """The sentence with the highest BM25 score; the corpus's first sentence when no term matches,
        since a baseline always quotes something."""
        results = self._lexical.search(question, 1)
        sid, score = results[0] if results else (0, 0.0)
        return self._hit(int(sid), score)

    def dense(self, question: str) -> Hit:
        """The sentence whose MiniLM embedding is closest (cosine) to the question's."""
        q = self._embedder.encode([question])[0]
        scores = self._vectors @ q
        best = int(np.argmax(scores))
        return self._hit(best, scores[best])
