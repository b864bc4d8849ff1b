"""Hybrid retrieval: the BM25 ranking of passages and the embedding ranking, fused into one list.

The dense index holds one vector per sentence and one per article title. A passage's dense score is that
of its best sentence; the best passage of each article also gets `title_weight` times the article's title
similarity, so the embedding side sees the headline as BM25 does (its passages start with the title)
without embedding any text twice. A passage only BM25 found counts, for its sentences, the lowest
sentence score the dense search returned.
The two rankings are merged by reciprocal rank fusion (Cormack et al., 2009): score = sum over rankings
of 1 / (RRF_K + rank).

`title_weight` is fitted: `qa/weights/retrieval.json`, written by `bench/answers/retrieval.py --write`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.catalog import Catalog
from qa.dense import DenseIndex
from qa.errors import ModelUnavailableError
from qa.lexical import LexicalIndex
from qa.models import Passage
from qa.question import without_wh_phrase

RRF_K = 60
LEXICAL_DEPTH = 50
DENSE_DEPTH = 100
WEIGHTS_FILE = Path(__file__).resolve().parent / "weights" / "retrieval.json"


@functools.cache
def title_weight(path: Path = WEIGHTS_FILE) -> float:
    """How much a passage's title similarity adds to its dense score, as fitted on the development sets.

    Raises:
        ModelUnavailableError: the weights file is missing or unreadable.
    """
    try:
        return float(json.loads(Path(path).read_text(encoding="utf-8"))["title_weight"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelUnavailableError(f"the retrieval weights {path} are unreadable ({exc}); reinstall qa") from exc


@dataclass
class Ranked:
    """One passage of the fused list, with what each ranking said of it."""

    passage_id: int
    score: float
    lexical_rank: int | None = None
    lexical_score: float = 0.0
    dense_rank: int | None = None
    dense_score: float = 0.0
    title_score: float = 0.0


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked lists of ids: each id scores sum(1 / (k + rank)), rank counted from 1.

    Args:
        rankings: lists of ids, best first.
        k: the RRF constant; larger values flatten the difference between top and lower ranks.

    Returns:
        (id, fused score) pairs, best first; ties keep the order in which ids were first seen.
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def retrieve(
    question: str,
    query_vector: np.ndarray,
    lexical: LexicalIndex,
    dense: DenseIndex,
    catalog: Catalog,
    k: int = 10,
    titles: DenseIndex | None = None,
    weight: float | None = None,
    allowed: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[Ranked]:
    """Rank passages for a question by fusing BM25 and embedding similarity.

    Args:
        question: the question as typed.
        query_vector: its embedding, shape (384,), unit length.
        lexical, dense, catalog: the open index.
        k: how many passages to return.
        titles: the title vectors, keyed by the id of each article's first sentence; None: sentences only.
        weight: the title weight; None: the fitted one.
        allowed: if given, (passage ids, sentence ids) that both rankings may return: a filter applied
            inside each search, so the top k are the best admitted passages.

    Returns:
        The top k passages, best first, with both rankings' ranks and scores.
    """
    lexical_hits = lexical.search(without_wh_phrase(question), LEXICAL_DEPTH, None if allowed is None else allowed[0])
    lexical_rank = {pid: rank for rank, (pid, _score) in enumerate(lexical_hits, 1)}
    lexical_score = dict(lexical_hits)

    depth = min(DENSE_DEPTH, len(dense) if allowed is None else len(allowed[1]))
    sentence_scores: dict[int, float] = {}
    if depth:
        scores, ids = dense.search(query_vector.reshape(1, -1), depth, None if allowed is None else allowed[1])
        sentence_scores = {int(i): float(s) for s, i in zip(scores[0], ids[0]) if i >= 0}
    dense_score: dict[int, float] = {}
    for sid, pids in catalog.passages_of_sentences(list(sentence_scores)).items():
        for pid in pids:
            dense_score[pid] = max(dense_score.get(pid, -1.0), sentence_scores[sid])
    floor = min(dense_score.values(), default=0.0)
    title_score: dict[int, float] = {}
    if titles is not None and len(titles):
        # the title finds the article; among its passages the sentences decide: only the article's best
        # passage gets the title's share, so one well-titled article does not fill the whole list
        best: dict[int, tuple[tuple[float, float], int, float]] = {}
        for pid, (key, similarity) in title_scores(query_vector, titles, catalog,
                                                   list(dense_score.keys() | lexical_score.keys())).items():
            order = (dense_score.get(pid, floor), lexical_score.get(pid, 0.0))
            if key not in best or order > best[key][0]:
                best[key] = (order, pid, similarity)
        title_score = {pid: similarity for _, pid, similarity in best.values()}
    weight = title_weight() if weight is None else weight
    combined = {pid: dense_score.get(pid, floor) + weight * title_score.get(pid, 0.0)
                for pid in (dense_score.keys() | title_score.keys())} if title_score else dense_score
    dense_ranking = sorted(combined, key=lambda pid: (-combined[pid], pid))
    dense_rank = {pid: rank for rank, pid in enumerate(dense_ranking, 1)}

    fused = reciprocal_rank_fusion([[pid for pid, _ in lexical_hits], dense_ranking])[:k]
    return [
        Ranked(
            passage_id=pid, score=score,
            lexical_rank=lexical_rank.get(pid), lexical_score=lexical_score.get(pid, 0.0),
            dense_rank=dense_rank.get(pid), dense_score=dense_score.get(pid, 0.0),
            title_score=title_score.get(pid, 0.0),
        )
        for pid, score in fused
    ]


def title_scores(
    query_vector: np.ndarray, titles: DenseIndex, catalog: Catalog, passage_ids: list[int]
) -> dict[int, tuple[int, float]]:
    """For each passage, its article's title key and the question's cosine similarity to that title."""
    keys = catalog.title_keys(passage_ids)
    unique = sorted(set(keys.values()))
    if not unique:
        return {}
    similarity = dict(zip(unique, (titles.vectors(np.asarray(unique, dtype=np.int64)) @ query_vector).tolist()))
    return {pid: (key, float(similarity[key])) for pid, key in keys.items()}


def as_passages(ranked: Sequence[Ranked], catalog: Catalog) -> dict[int, Passage]:
    """The ranked passages by catalog id, best first, with text, title, fused score and both ranks."""
    passages = catalog.passages([r.passage_id for r in ranked])
    return {
        r.passage_id: passages[r.passage_id].model_copy(
            update={"score": r.score, "lexical_rank": r.lexical_rank, "dense_rank": r.dense_rank}
        )
        for r in ranked
        if r.passage_id in passages
    }
