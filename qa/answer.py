"""Choose the sentence that answers, mark the short answer in it, say how sure we are, or decline.

Every sentence of the best passages is scored by a small logistic model over evidence that was measured
to help on the development data (bench/fit_answerer.py fits the weights, bench/evaluate.py checks them):

- dense: cosine of question and sentence embeddings;
- coverage: share of the question's words, weighted by rarity (BM25 idf), that the sentence holds, and
  that the sentence with its context (previous sentence, title) holds;
- missing: the rarity of the rarest question word found nowhere in the passage (the archive may simply
  not speak of "breakfast");
- typed: the question wants a count, a name, a date, a place... and the sentence has one that is not a word
  of the question (a sentence that only repeats the question does not answer it);
- novelty: share of the sentence's words that are not the question's;
- passage: reciprocal rank of the sentence's passage in the fused retrieval.

The model's probability is the confidence. Below `FOUND_THRESHOLD` the answer declines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.catalog import Catalog
from qa.dense import DenseIndex
from qa.fusion import Retrieval
from qa.lexical import LexicalIndex, tokenize
from qa.models import Answer, Candidate, Citation, Passage, Sentence, ShortAnswer
from qa.spans import OTHER, best_span, expected_type

CANDIDATE_PASSAGES = 8
FEATURES = ("dense", "coverage", "coverage_context", "missing", "typed", "untyped", "novelty", "passage")
WEIGHTS = {
    "bias": -6.0,
    "dense": 4.0,
    "coverage": 2.5,
    "coverage_context": 2.0,
    "missing": -3.0,
    "typed": 1.5,
    "untyped": 0.0,
    "novelty": 1.0,
    "passage": 1.0,
}
FOUND_THRESHOLD = 0.5
CORROBORATION_SIMILARITY = 0.6

NO_ANSWER = "The archive holds no answer to this question."


@dataclass
class Scored:
    """A candidate sentence with its features and probability of answering."""

    sentence_id: int
    sentence: Sentence
    passage_id: int
    features: dict[str, float]
    probability: float


def answer_question(
    question: str,
    query_vector: np.ndarray,
    retrieval: Retrieval,
    catalog: Catalog,
    dense: DenseIndex,
    lexical: LexicalIndex,
) -> Answer:
    """Pick the answering sentence among the retrieved passages, or decline.

    Args:
        question: the question, already checked to be non-empty.
        query_vector: its embedding.
        retrieval: the fused passages for it.
        catalog, dense, lexical: the open index.

    Returns:
        An Answer; `found` is False when no sentence is likely enough to answer.
    """
    top = retrieval.passages[:CANDIDATE_PASSAGES]
    related = _related_passages(retrieval, catalog)
    scored = score_sentences(question, query_vector, [r.passage_id for r in top], catalog, dense, lexical)
    if not scored:
        return Answer(question=question, found=False, message=NO_ANSWER, confidence=0.0, related=related)

    best = scored[0]
    meta = catalog.article_meta({s.sentence.doc_id for s in scored})
    citation = _citation(best.sentence, meta)
    candidates = [
        Candidate(sentence=s.sentence.text, score=round(s.probability, 4), citation=_citation(s.sentence, meta))
        for s in scored[1:6]
    ]
    if best.probability < FOUND_THRESHOLD:
        return Answer(
            question=question, found=False, message=NO_ANSWER, confidence=round(best.probability, 4),
            candidates=candidates, related=related,
        )

    span = best_span(best.sentence.text, question)
    short = ShortAnswer(text=span.text, start=span.start, end=span.end) if span else None
    corroborating = _corroborating(best, short, scored, dense, meta)
    return Answer(
        question=question,
        found=True,
        message=f"Quoted from “{citation.title}”" + (f" ({citation.source})" if citation.source else ""),
        sentence=best.sentence.text,
        short_answer=short,
        confidence=round(best.probability, 4),
        citation=citation,
        corroborating=corroborating,
        candidates=candidates,
        related=related,
    )


def score_sentences(
    question: str,
    query_vector: np.ndarray,
    passage_ids: Sequence[int],
    catalog: Catalog,
    dense: DenseIndex,
    lexical: LexicalIndex,
) -> list[Scored]:
    """Score every sentence of the given passages (best passage first); best sentence first."""
    by_passage = catalog.passage_sentences(list(passage_ids))
    titles = {pid: p.title for pid, p in catalog.passages(list(passage_ids)).items()}
    q_terms = sorted(set(tokenize([question])[0]))
    idf = dict(zip(q_terms, lexical.idf(q_terms))) if q_terms else {}
    total = sum(idf.values()) or 1.0
    rarest = max(idf.values(), default=1.0) or 1.0
    kind = expected_type(question)

    seen: set[int] = set()
    rows: list[tuple[int, int, Sentence, set[str], set[str], set[str]]] = []
    for rank, pid in enumerate(passage_ids, 1):
        sentences = by_passage.get(pid, [])
        token_lists = tokenize([s.text for _, s in sentences]) if sentences else []
        passage_terms = set().union(*token_lists) | set(tokenize([titles.get(pid, "")])[0]) if token_lists else set()
        title_terms = set(tokenize([titles.get(pid, "")])[0])
        for i, (sid, sentence) in enumerate(sentences):
            if sid in seen:
                continue
            previous = set(token_lists[i - 1]) if i > 0 else set()
            rows.append((sid, rank, sentence, set(token_lists[i]), previous | title_terms, passage_terms))
            seen.add(sid)
    if not rows:
        return []

    vectors = dense.vectors(np.asarray([r[0] for r in rows], dtype=np.int64))
    similarities = vectors @ query_vector.reshape(-1)
    q_set = set(q_terms)
    out: list[Scored] = []
    for (sid, rank, sentence, terms, context, passage_terms), similarity in zip(rows, similarities):
        covered = sum(idf[t] for t in q_terms if t in terms)
        covered_ctx = sum(idf[t] for t in q_terms if t in terms or t in context)
        missing = max((idf[t] for t in q_terms if t not in passage_terms), default=0.0)
        typed = 0.0 if kind == OTHER else float(best_span(sentence.text, question, kind) is not None)
        novelty = len(terms - q_set) / len(terms) if terms else 0.0
        features = {
            "dense": float(similarity),
            "coverage": covered / total,
            "coverage_context": covered_ctx / total,
            "missing": missing / rarest if q_terms else 1.0,
            "typed": typed,
            "untyped": float(kind == OTHER),
            "novelty": novelty,
            "passage": 1.0 / rank,
        }
        out.append(Scored(sid, sentence, passage_ids[rank - 1], features, probability(features)))
    out.sort(key=lambda s: -s.probability)
    return out


def probability(features: dict[str, float]) -> float:
    """The logistic model: the chance that a sentence with these features answers the question."""
    z = WEIGHTS["bias"] + sum(WEIGHTS[name] * features[name] for name in FEATURES)
    return 1.0 / (1.0 + math.exp(-z))


def _corroborating(
    best: Scored, short: ShortAnswer | None, scored: list[Scored], dense: DenseIndex, meta: dict
) -> list[Citation]:
    """Sentences of other articles that state the same fact: one citation per article."""
    others = [s for s in scored if s.sentence.doc_id != best.sentence.doc_id]
    if not others:
        return []
    ids = np.asarray([best.sentence_id] + [s.sentence_id for s in others], dtype=np.int64)
    vectors = dense.vectors(ids)
    similarity = vectors[1:] @ vectors[0]
    core = _core(short.text) if short else None
    found: dict[str, Citation] = {}
    for s, sim in zip(others, similarity):
        if s.sentence.doc_id in found:
            continue
        same_value = core is not None and re.search(rf"(?<!\w){re.escape(core)}(?!\w)", s.sentence.text, re.I)
        if (same_value and s.features["coverage"] >= 0.25) or (core is None and sim >= CORROBORATION_SIMILARITY + 0.2):
            found[s.sentence.doc_id] = _citation(s.sentence, meta)
        elif same_value and sim >= CORROBORATION_SIMILARITY:
            found[s.sentence.doc_id] = _citation(s.sentence, meta)
    return list(found.values())


def _core(text: str) -> str:
    """The part of a short answer that another article would repeat: "155" of "at least 155"."""
    numbers = re.findall(r"\d[\d,.]*\d|\d", text)
    return numbers[-1] if numbers else text


def _citation(sentence: Sentence, meta: dict) -> Citation:
    m = meta[sentence.doc_id]
    return Citation(
        doc_id=sentence.doc_id, title=m["title"], source=m["source"], date=m["date"], url=m["url"],
        path=m["path"], start=sentence.start, end=sentence.end,
    )


def _related_passages(retrieval: Retrieval, catalog: Catalog, n: int = 5) -> list[Passage]:
    ranked = retrieval.passages[:n]
    passages = catalog.passages([r.passage_id for r in ranked])
    return [
        passages[r.passage_id].model_copy(
            update={"score": round(r.score, 6), "lexical_rank": r.lexical_rank, "dense_rank": r.dense_rank}
        )
        for r in ranked
        if r.passage_id in passages
    ]
