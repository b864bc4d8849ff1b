"""The facade: `build_index` and `open_index` -> `QA`, the calls the CLI, the TUI and users share."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import numpy as np

from qa import store
from qa.answer import CANDIDATE_PASSAGES, Answerer, Weights
from qa.catalog import Catalog
from qa.dense import DenseIndex
from qa.embedding import Embedder
from qa.documents import scan_corpus
from qa.errors import (
    ArticleNotFoundError, EmptyQuestionError, IndexClosedError, IndexStoreError, IndexVersionError, QAError,
)
from qa.features import Scored, sentence_features
from qa.fusion import as_passages, retrieve
from qa.indexer import build_index, verify_index
from qa.lexical import LexicalIndex
from qa.models import Answer, Article, ArticleInfo, CorpusChanges, Passage, Sentence
from qa.question import Question, analyze

__all__ = ["QA", "build_index", "open_index", "verify_index"]

_OPEN_ATTEMPTS = 3


class QA:
    """An open index: ask questions, search passages, read articles. Open it with `qa.open_index`."""

    def __init__(self, index_dir: Path, weights: Path | None = None) -> None:
        self.index_dir = index_dir
        self._answerer = Answerer(Weights.load(weights) if weights is not None else None)
        for attempt in range(_OPEN_ATTEMPTS):
            manifest = store.read_manifest(index_dir)
            try:
                self._load(index_dir, manifest)
                return
            except IndexStoreError:
                # A build published (and dropped the generation this open began with) meanwhile: open the new one.
                if attempt + 1 == _OPEN_ATTEMPTS or store.read_manifest(index_dir).generation == manifest.generation:
                    raise

    def _load(self, index_dir: Path, manifest: store.Manifest) -> None:
        generation = store.generation_dir(index_dir, manifest)
        self.manifest = manifest
        self._dense = DenseIndex.load(generation / store.DENSE, expected=manifest.sentences)
        self._lexical = LexicalIndex.load(generation / store.LEXICAL)
        model_dir = store.model_dir(index_dir, manifest.model_fingerprint)
        self._embedder = Embedder(model_dir)
        if self._embedder.fingerprint != manifest.model_fingerprint:
            raise IndexVersionError(
                f"{index_dir} was embedded with another model than the one in {model_dir}; "
                f"run `qa index --rebuild --index {index_dir}`"
            )
        self._catalog = Catalog(generation / store.CATALOG, readonly=True)  # last: the one load that needs closing
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else ", ".join(f"{k}={v}" for k, v in self.counts.items())
        return f"<QA {str(self.index_dir)!r} {self.manifest.generation} {state}>"

    def ask(self, question: str) -> Answer:
        """Answer a question with a sentence quoted from the archive, or say that it holds no answer.

        Args:
            question: a question in English.

        Returns:
            An Answer: the quoted sentence, its short answer, citation and confidence, the corroborating
            articles and the other candidates; or `found=False` with the closest passages as `related`.

        Raises:
            EmptyQuestionError: the question is empty or only whitespace.
        """
        asked = analyze(_checked(question))
        self._check_open()
        passages, ranked = self._candidates(asked)
        return self._answerer.answer(asked, list(passages.values()), ranked, self._catalog)

    def search(self, question: str, k: int = 10) -> list[Passage]:
        """The k passages that best match a question, BM25 and embedding rankings fused.

        Raises:
            EmptyQuestionError: the question is empty or only whitespace.
            ValueError: k is not positive.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        asked = analyze(_checked(question))
        self._check_open()
        vector = self._embedder.encode([asked.text])[0]
        return list(self._passages(asked, vector, k).values())

    def _passages(self, question: Question, vector: np.ndarray, k: int) -> dict[int, Passage]:
        ranked = retrieve(question.text, vector, self._lexical, self._dense, self._catalog, k=k)
        return as_passages(ranked, self._catalog)

    def _candidates(self, question: str | Question) -> tuple[dict[int, Passage], list[Scored]]:
        """The fused passages of a question and its candidate sentences, ranked, read and combined, best
        first: what `ask` decides on. bench/ calls it too, so the weights are fitted and evaluated on
        exactly this path."""
        asked = question if isinstance(question, Question) else analyze(question)
        vector = self._embedder.encode([asked.text])[0]
        passages = self._passages(asked, vector, k=10)
        best = dict(list(passages.items())[:CANDIDATE_PASSAGES])
        candidates = sentence_features(asked, vector, best, self._catalog, self._dense, self._lexical)
        return passages, self._answerer.choose(asked, candidates)

    def article(self, doc_id: str) -> Article:
        """The cleaned text and metadata of an article, so any citation can be checked.

        Raises:
            ArticleNotFoundError: no article has this id (a KeyError too).
        """
        self._check_open()
        article = self._catalog.article(doc_id)
        if article is None:
            raise ArticleNotFoundError(f"no article {doc_id!r} in {self.index_dir}; `qa list` shows their ids")
        return article

    def articles(self) -> list[ArticleInfo]:
        """Every article of the index, without its text, by date (undated last) then id."""
        self._check_open()
        return self._catalog.article_list()

    def sentences(self, doc_id: str) -> list[Sentence]:
        """The sentences of an article, in order, with their offsets in its text.

        Raises:
            ArticleNotFoundError: no article has this id (a KeyError too).
        """
        self._check_open()
        found = self._catalog.sentences(doc_id)
        if not found and self._catalog.article(doc_id) is None:
            raise ArticleNotFoundError(f"no article {doc_id!r} in {self.index_dir}; `qa list` shows their ids")
        return found

    def is_stale(self) -> bool:
        """True when a build has published another generation since this index was opened (reopen it)."""
        try:
            return store.read_manifest(self.index_dir).generation != self.manifest.generation
        except QAError:
            return True

    def corpus_changes(self, corpus_dir: str | Path) -> CorpusChanges:
        """The articles of a corpus folder that this index does not reflect, as `qa index` would find them.

        Reads and hashes the files, as a build's first step does (a no-change `qa index` of the 19,042
        Reuters articles takes 0.27 s in all). A file that is not in the index and predates the build is
        one the build skipped as unreadable: not counted.

        Raises:
            CorpusError: the folder does not exist or is not a folder.
        """
        self._check_open()
        root = Path(corpus_dir)
        indexed = self._catalog.content_hashes()
        scan = scan_corpus(root)
        added, changed = [], []
        for raw in scan.articles:
            if raw.doc_id not in indexed:
                try:
                    newer = os.stat(root / raw.path).st_mtime >= self.manifest.built_at
                except OSError:
                    newer = True
                if newer:
                    added.append(raw.doc_id)
            elif indexed[raw.doc_id] != raw.content_hash:
                changed.append(raw.doc_id)
        present = {raw.doc_id for raw in scan.articles}
        removed = sorted(d for d in indexed if d not in present)
        return CorpusChanges(added=sorted(added), changed=sorted(changed), removed=removed)

    @property
    def counts(self) -> dict[str, int]:
        """How many articles, passages and sentences the index holds."""
        return {"articles": self.manifest.articles, "passages": self.manifest.passages,
                "sentences": self.manifest.sentences}

    def close(self) -> None:
        """Release the index's files; any later call raises IndexClosedError. Closing twice is harmless."""
        self._closed = True
        self._catalog.close()

    def _check_open(self) -> None:
        if self._closed:
            raise IndexClosedError(f"this QA over {self.index_dir} is closed; open it again with qa.open_index")

    def __enter__(self) -> QA:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def open_index(index_dir: str | Path = "index", *, weights: str | Path | None = None) -> QA:
    """Open an index built by `build_index`: loads the model and both indexes once.

    Args:
        index_dir: the index folder.
        weights: an answerer weights file to use instead of the shipped one (as `bench/fit_answerer.py`
            writes them); for experiments.

    Raises:
        IndexNotFoundError: no index in the folder.
        CorruptIndexError: a file of the index is missing, truncated or unreadable.
        IndexVersionError: the index was written by another version of qa or another model.
    """
    return QA(Path(index_dir), Path(weights) if weights is not None else None)


def _checked(question: str) -> str:
    if not isinstance(question, str):
        raise TypeError(f"question must be a str, not {type(question).__name__}")
    question = " ".join(question.split())
    if not question:
        raise EmptyQuestionError("the question is empty: type a question, e.g. “who is the spokesperson of China's foreign ministry?”")
    return question
