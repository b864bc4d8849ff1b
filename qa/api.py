"""The facade: `build_index` and `open_index` -> `QA`, the calls the CLI, the TUI and users share."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from types import TracebackType

import numpy as np

from qa import stores
from qa.answer import CANDIDATE_PASSAGES, EVIDENCE_PASSAGES, Answerer, Weights
from qa.conversation import Conversation
from qa.embedding import Embedder
from qa.documents import scan_corpus
from qa.errors import ArticleNotFoundError, EmptyQuestionError, IndexClosedError, IndexVersionError
from qa.features import Scored, sentence_features
from qa.filters import Filter, article_date, make_filter, parse_day
from qa.fusion import as_passages
from qa.when import LATEST_MARGIN, TIME_PHRASES, preferred, read_time
from qa.indexer import MAX_ARTICLE_BYTES, Progress, verify_index
from qa.models import Answer, Article, ArticleInfo, CorpusChanges, Correction, IndexReport, Passage, Sentence
from qa.question import Question, analyze
from qa.spelling import common_words
from qa.stores import Store, is_milvus, open_store

__all__ = ["QA", "build_index", "open_index", "verify_index"]


class QA:
    """An open index: ask questions, search passages, read articles. Open it with `qa.open_index`."""

    def __init__(self, location: str | Path, weights: Path | None = None) -> None:
        self._answerer = Answerer(Weights.load(weights) if weights is not None else None)
        self._store: Store = open_store(location)
        try:
            self._embedder = Embedder(self._store.model_dir)
            if self._embedder.fingerprint != self._store.model_fingerprint:
                raise IndexVersionError(
                    f"{location} was embedded with another model than the one in {self._store.model_dir}; "
                    f"run `qa index --rebuild --index {location}`"
                )
        except BaseException:
            self._store.close()
            raise
        self.location = self._store.location
        self.index_dir = None if is_milvus(location) else Path(location)
        self.manifest = getattr(self._store, "manifest", None)  # the index folder's manifest; None on Milvus
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else ", ".join(f"{k}={v}" for k, v in self.counts.items())
        return f"<QA {self.location!r} {self.generation} {state}>"

    def ask(
        self,
        question: str,
        *,
        since: date | str | None = None,
        until: date | str | None = None,
        sources: Iterable[str] | str | None = None,
        undated: str = "keep",
        correct_typos: bool = True,
        as_of: date | str | None = None,
        time_phrases: str = "prefer",
    ) -> Answer:
        """Answer a question with a sentence quoted from the archive, or say that it holds no answer.

        Args:
            question: a question in English.
            since, until: answer only from articles dated in this range, both days included: a
                `datetime.date` or an ISO year, month or day ("2025", "2025-04", "2025-04-12"; a month
                as `until` means its last day).
            sources: answer only from these outlets (an article's source) or corpus sub-folders, ignoring case.
            undated: "keep" (the default) lets articles without a date through a date filter, "drop" does not.
            correct_typos: read words the archive does not know as the nearest word it does ("zelenksy" ->
                "zelensky"); the Answer lists them in `corrections`. False asks the question as typed.
            as_of: the day the question is asked about, which "this week" or "last month" count from
                (a date or ISO string); None: the newest article date of the index.
            time_phrases: what a date phrase of the question ("in April 2025", "this week") does when no
                since/until is given: "prefer" ranks passages of articles in that range higher (the
                default, measured in bench/answers/time_questions.py), "filter" answers only from them (from all
                when none matches), "off" ignores it. "latest"/"most recent" prefers, among the sentences
                that answer about as well as the best, the one of the newest article.

        Returns:
            An Answer: the quoted sentence, its short answer, citation and confidence, the corroborating
            articles and the other candidates; or `found=False` with the closest passages as `related`
            (and, when a filter admits no article, a message saying that the filter left nothing).

        Raises:
            EmptyQuestionError: the question is empty or only whitespace.
            FilterError: a filter qa cannot read (a date that is not ISO, since after until, ...).
        """
        within = make_filter(since, until, sources, undated)
        text = _checked(question)
        self._check_open()
        corrections: list[Correction] = []
        if correct_typos and self._store.vocabulary is not None:
            text_read, corrections = self._store.vocabulary.correct(text, common_words(self._store.model_dir),
                                                                    self._store.cooccurrence)
        asked = analyze(text_read if corrections else text)
        if time_phrases not in TIME_PHRASES:
            raise ValueError(f"time_phrases must be one of {TIME_PHRASES}, not {time_phrases!r}")
        reading = None
        if time_phrases != "off" and since is None and until is None:
            reading = read_time(asked.text, parse_day(as_of, "as_of") or self._newest())
        span = None
        if reading is not None and reading.has_range:  # preferred: the articles known to be in range
            span = make_filter(reading.since, reading.until, sources, undated if time_phrases == "filter" else "drop")
        if span is not None and time_phrases == "filter":
            passages, ranked, evidence = self._read(asked, span)
            if not passages:
                passages, ranked, evidence = self._read(asked, within)
        else:
            passages, ranked, evidence = self._read(asked, within, prefer=span)
        if reading is not None and reading.latest:
            ranked = _newest_first(ranked, self._store)
        elif span is not None and time_phrases == "prefer":
            ranked = _in_range_first(ranked, self._store, span)
        if within is not None and not passages:
            answer = Answer(question=asked.text, found=False, message=within.nothing_left(), confidence=0.0)
        else:
            answer = self._answerer.answer(asked, list(passages.values()), ranked, self._store, evidence)
        return answer.model_copy(update={"question": text, "corrections": corrections}) if corrections else answer

    def conversation(self) -> Conversation:
        """A thread of questions: its `ask` reads a follow-up ("and how many were killed?", "what did China
        say about it?") against the earlier turns before asking it (see `qa.conversation`)."""
        self._check_open()
        return Conversation(self)

    def search(
        self,
        question: str,
        k: int = 10,
        *,
        since: date | str | None = None,
        until: date | str | None = None,
        sources: Iterable[str] | str | None = None,
        undated: str = "keep",
    ) -> list[Passage]:
        """The k passages that best match a question, BM25 and embedding rankings fused; `since`, `until`,
        `sources` and `undated` filter the articles searched, as in `ask` (empty when none is admitted).

        Raises:
            EmptyQuestionError: the question is empty or only whitespace.
            FilterError: a filter qa cannot read.
            ValueError: k is not positive.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        within = make_filter(since, until, sources, undated)
        asked = analyze(_checked(question))
        self._check_open()
        vector = self._embedder.encode([asked.text])[0]
        return list(self._passages(asked, vector, k, within).values())

    def candidates(self, question: str) -> list[Scored]:
        """The candidate sentences `ask` decides between, ranked, read and combined, best first, each with
        its evidence (`Scored.features`) and scores: bench/ fits and evaluates the answerer on this path.

        Raises:
            EmptyQuestionError: the question is empty or only whitespace.
        """
        asked = analyze(_checked(question))
        self._check_open()
        return self._candidates(asked)[1]

    def _passages(self, question: Question, vector: np.ndarray, k: int, within: Filter | None = None) -> dict[int, Passage]:
        return as_passages(self._store.ranked(question.text, vector, k, within), self._store)

    def _candidates(
        self, question: str | Question, within: Filter | None = None, prefer: Filter | None = None
    ) -> tuple[dict[int, Passage], list[Scored]]:
        """The fused passages of a question and its candidate sentences, ranked, read and combined, best
        first: what `ask` decides on. bench/ calls it too, so the weights are fitted and evaluated on
        exactly this path. `prefer`: a filter whose passages rank higher (a date phrase's range)."""
        passages, ranked, _ = self._read(question, within, prefer, evidence=False)
        return passages, ranked

    def _read(
        self, question: str | Question, within: Filter | None = None, prefer: Filter | None = None, evidence: bool = True
    ) -> tuple[dict[int, Passage], list[Scored], list[Scored]]:
        """`_candidates`, and the sentences of the next EVIDENCE_PASSAGES passages: not candidates, but
        other articles that may state the same fact (corroboration)."""
        asked = question if isinstance(question, Question) else analyze(question)
        vector = self._embedder.encode([asked.text])[0]
        depth = CANDIDATE_PASSAGES + EVIDENCE_PASSAGES
        if prefer is None:
            passages = self._passages(asked, vector, depth, within)
        else:
            ranked = preferred(self._store.ranked(asked.text, vector, depth, within),
                               self._store.ranked(asked.text, vector, depth, prefer), depth)
            passages = as_passages(ranked, self._store)
        items = list(passages.items())
        best = dict(items[:CANDIDATE_PASSAGES])
        candidates = sentence_features(asked, vector, best, self._store, self._store, self._store)
        more = sentence_features(asked, vector, dict(items[CANDIDATE_PASSAGES:]), self._store, self._store,
                                 self._store) if evidence else []
        return dict(items[:10]), self._answerer.choose(asked, candidates), more

    def _newest(self) -> date | None:
        newest = self._store.newest_date()
        return date.fromisoformat(newest) if newest else None

    def article(self, doc_id: str) -> Article:
        """The cleaned text and metadata of an article, so any citation can be checked.

        Raises:
            ArticleNotFoundError: no article has this id (a KeyError too).
        """
        self._check_open()
        article = self._store.article(doc_id)
        if article is None:
            raise ArticleNotFoundError(f"no article {doc_id!r} in {self.location}; `qa list` shows their ids")
        return article

    def articles(self) -> list[ArticleInfo]:
        """Every article of the index, without its text, by date (undated last) then id."""
        self._check_open()
        return self._store.article_list()

    def sentences(self, doc_id: str) -> list[Sentence]:
        """The sentences of an article, in order, with their offsets in its text.

        Raises:
            ArticleNotFoundError: no article has this id (a KeyError too).
        """
        self._check_open()
        found = self._store.sentences(doc_id)
        if not found and self._store.article(doc_id) is None:
            raise ArticleNotFoundError(f"no article {doc_id!r} in {self.location}; `qa list` shows their ids")
        return found

    def is_stale(self) -> bool:
        """True when a build has published another generation since this index was opened (reopen it).

        Thread-safe, and cheap enough to ask often: it reads the manifest, or resolves a Milvus alias.
        """
        return self._store.latest_generation() != self._store.generation

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
        indexed = self._store.content_hashes()
        scan = scan_corpus(root)
        added, changed = [], []
        for raw in scan.articles:
            if raw.doc_id not in indexed:
                try:
                    newer = os.stat(root / raw.path).st_mtime >= self._store.built_at
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
        return self._store.counts()

    @property
    def generation(self) -> str:
        """The name of the generation this QA reads (each build that changes the index publishes a new one)."""
        return self._store.generation

    @property
    def model_name(self) -> str:
        """The embedding model the index was built with."""
        return self._store.model_name

    def close(self) -> None:
        """Release the index's files; any later call raises IndexClosedError. Closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._store.close()

    def _check_open(self) -> None:
        if self._closed:
            raise IndexClosedError(f"this QA over {self.location} is closed; open it again with qa.open_index")

    def __enter__(self) -> QA:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def open_index(location: str | Path = "index", *, weights: str | Path | None = None) -> QA:
    """Open an index built by `build_index`: loads the model and both indexes once.

    A QA may be shared by threads: `ask`, `search` and `article` can run concurrently.

    Args:
        location: an index folder, or a Milvus store: `milvus-lite:PATH.db` or `milvus://HOST:PORT[/PREFIX]`.
        weights: an answerer weights file to use instead of the shipped one (as `bench/fit/fit_answerer.py`
            writes them); for experiments.

    Raises:
        IndexNotFoundError: no index in the folder.
        CorruptIndexError: a file of the index is missing, truncated or unreadable.
        IndexVersionError: the index was written by another version of qa or another model.
    """
    return QA(location, Path(weights) if weights is not None else None)


def build_index(
    corpus_dir: str | Path,
    index_dir: str | Path = "index",
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    wait: float = 0.0,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    csv_columns: dict[str, str] | None = None,
    ann_from: int | None = None,
) -> IndexReport:
    """Index the articles of a corpus folder, reusing all that is unchanged since the last build.

    Articles are compared by content hash: new and changed ones are split and embedded, removed ones
    leave both indexes, unchanged ones are not touched. The new index is written beside the old one and
    switched to in one step, so a crash at any point leaves the previous index usable.

    Args:
        corpus_dir: folder of .txt, .md, .html/.htm, .jsonl, .pdf, .docx, .eml, .mbox and .csv articles,
            read recursively.
        index_dir: where the index lives; created if missing. A Milvus store (`milvus-lite:PATH.db`,
            `milvus://HOST:PORT[/PREFIX]`) is updated in place, and rebuilt into new collections that an
            alias switches to last (README: "The index on Milvus").
        rebuild: start from scratch instead of updating.
        progress: called as progress(stage, done, total) during long work.
        wait: seconds to wait for another build of the same index folder to finish before giving up.
        max_article_bytes: a file (or JSONL line) larger than this is skipped, with the reason.
        csv_columns: for CSV files whose header does not name the fields id, title, text, date, source and
            url, the column of each ({"text": "body", "title": "headline"}).
        ann_from: the embedded index's sentence count from which dense search is approximate (an IVF
            index, recorded in the manifest) instead of exact; None: `qa.dense.ANN_FROM` (250,000).

    Returns:
        An IndexReport counting what was added, updated, removed, unchanged and skipped.

    Raises:
        CorpusError: the folder is missing or holds no readable article.
        IndexLockedError: another build holds the index.
        ModelUnavailableError: the embedding model is not installed.
    """
    return stores.build(corpus_dir, index_dir, rebuild=rebuild, progress=progress, wait=wait,
                        max_article_bytes=max_article_bytes, csv_columns=csv_columns,
                        ann_from=ann_from)


def _newest_first(ranked: list[Scored], store: Store) -> list[Scored]:
    """For "the latest": among the sentences scored within LATEST_MARGIN of the best, the newest dated
    article's best first, then the sentences that were not that close, then the older close ones: these
    answer about an earlier state, so they are no rivals for the confidence's lead."""
    close = _close(ranked)
    days = {d: article_date(m["date"]) for d, m in store.article_meta({c.sentence.doc_id for c in close}).items()}
    dated = [c for c in close if days.get(c.sentence.doc_id)]
    if not dated:
        return ranked
    return _lifted(ranked, close, max(dated, key=lambda c: (days[c.sentence.doc_id], c.score)))


def _in_range_first(ranked: list[Scored], store: Store, span: Filter) -> list[Scored]:
    """For a question with a date phrase ("this week"): among the sentences scored within LATEST_MARGIN
    of the best, the best one of an article dated in the phrase's range first, the other close ones last,
    as `_newest_first` does; unchanged when no close sentence is in range."""
    close = _close(ranked)
    meta = store.article_meta({c.sentence.doc_id for c in close})
    inside = [c for c in close if span.admits(meta[c.sentence.doc_id]["source"], meta[c.sentence.doc_id]["date"],
                                               meta[c.sentence.doc_id]["path"])]
    if not inside or inside[0] is ranked[0]:
        return ranked
    return _lifted(ranked, close, inside[0])


def _close(ranked: list[Scored]) -> list[Scored]:
    """The sentences scored within LATEST_MARGIN of the best: rivals a time preference may choose among."""
    return [c for c in ranked if c.score >= ranked[0].score - LATEST_MARGIN] if ranked else []


def _lifted(ranked: list[Scored], close: list[Scored], first: Scored) -> list[Scored]:
    """`first` first, then the sentences that were not close, then the other close ones: they answer about
    another time, so they are no rivals for the confidence's lead."""
    held = {id(c) for c in close} | {id(first)}
    return [first, *(c for c in ranked if id(c) not in held), *(c for c in close if c is not first)]


def _checked(question: str) -> str:
    if not isinstance(question, str):
        raise TypeError(f"question must be a str, not {type(question).__name__}")
    question = " ".join(question.split())
    if not question:
        raise EmptyQuestionError("the question is empty: type a question, e.g. “who is the spokesperson of China's foreign ministry?”")
    return question
