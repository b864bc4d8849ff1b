"""Hybrid retrieval: the BM25 ranking of passages and the embedding ranking, fused into one list.

The dense index holds one vector per sentence; a passage's dense score is that of its best sentence, so
the model never has to embed the same text twice. The two rankings are merged by reciprocal rank fusion
(Cormack et al., 2009): score = sum over rankings of 1 / (RRF_K + rank).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.catalog import Catalog
from qa.dense import DenseIndex
from qa.lexical import LexicalIndex
from qa.spans import without_wh_phrase

RRF_K = 60
CONVEX_ALPHA = 0.3
LEXICAL_DEPTH = 50
DENSE_DEPTH = 100


@dataclass
class Ranked:
    """One passage of the fused list, with what each ranking said of it."""

    passage_id: int
    score: float
    lexical_rank: int | None = None
    lexical_score: float = 0.0
    dense_rank: int | None = None
    dense_score: float = 0.0


@dataclass
class Retrieval:
    """The fused passages of a question, and the sentences the dense index found on the way."""

    passages: list[Ranked]
    sentence_scores: dict[int, float] = field(default_factory=dict)


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


def convex_fusion(
    lexical: dict[int, float], dense: dict[int, float], alpha: float = CONVEX_ALPHA
) -> list[tuple[int, float]]:
    """Fuse two score lists by a weighted sum of their min-max normalised scores (missing counts as 0).

    Args:
        lexical, dense: id -> score of each ranking.
        alpha: the weight of the dense scores, from 0 (BM25 only) to 1 (dense only).

    Returns:
        (id, fused score) pairs, best first.
    """
    def normalised(scores: dict[int, float]) -> dict[int, float]:
        if not scores:
            return {}
        low, high = min(scores.values()), max(scores.values())
        return {i: (v - low) / (high - low) if high > low else 1.0 for i, v in scores.items()}

    lex, den = normalised(lexical), normalised(dense)
    fused = {i: (1 - alpha) * lex.get(i, 0.0) + alpha * den.get(i, 0.0) for i in lex.keys() | den.keys()}
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def retrieve(
    question: str,
    query_vector: np.ndarray,
    lexical: LexicalIndex,
    dense: DenseIndex,
    catalog: Catalog,
    k: int = 10,
    fusion: str = "rrf",
) -> Retrieval:
    """Rank passages for a question by fusing BM25 and embedding similarity.

    Args:
        question: the question as typed.
        query_vector: its embedding, shape (384,), unit length.
        lexical, dense, catalog: the open index.
        k: how many passages to return.
        fusion: "rrf" (reciprocal rank fusion) or "convex" (weighted sum of normalised scores);
            bench/retrieval.py compares them.

    Returns:
        The top k passages, with both rankings' ranks and scores, and the sentence similarities seen.
    """
    lexical_hits = lexical.search(without_wh_phrase(question), LEXICAL_DEPTH)
    lexical_rank = {pid: rank for rank, (pid, _score) in enumerate(lexical_hits, 1)}
    lexical_score = dict(lexical_hits)

    depth = min(DENSE_DEPTH, len(dense))
    sentence_scores: dict[int, float] = {}
    if depth:
        scores, ids = dense.search(query_vector.reshape(1, -1), depth)
        sentence_scores = {int(i): float(s) for s, i in zip(scores[0], ids[0]) if i >= 0}
    dense_score: dict[int, float] = {}
    for sid, pids in catalog.passages_of_sentences(list(sentence_scores)).items():
        for pid in pids:
            dense_score[pid] = max(dense_score.get(pid, -1.0), sentence_scores[sid])
    dense_ranking = sorted(dense_score, key=lambda pid: -dense_score[pid])
    dense_rank = {pid: rank for rank, pid in enumerate(dense_ranking, 1)}

    if fusion == "rrf":
        fused = reciprocal_rank_fusion([[pid for pid, _ in lexical_hits], dense_ranking])[:k]
    elif fusion == "convex":
        fused = convex_fusion(lexical_score, dense_score)[:k]
    else:
        raise ValueError(f"fusion must be 'rrf' or 'convex', not {fusion!r}")
    passages = [
        Ranked(
            passage_id=pid, score=score,
            lexical_rank=lexical_rank.get(pid), lexical_score=lexical_score.get(pid, 0.0),
            dense_rank=dense_rank.get(pid), dense_score=dense_score.get(pid, 0.0),
        )
        for pid, score in fused
    ]
    return Retrieval(passages=passages, sentence_scores=sentence_scores)
