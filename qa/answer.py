"""Choose the sentence that answers, mark the short answer in it, say how sure we are, or decline.

Every sentence of the best passages is scored by a logistic ranker over evidence measured on the
development data (bench/fit_answerer.py fits the weights; bench/evaluate.py checks them):

- dense: cosine of question and sentence embeddings (and its gap to the best candidate's);
- bm25: the sentence's BM25 for the question's words, with the index's idf (and its gap to the best);
- coverage_context: share of the question's words, weighted by rarity, in the sentence, the sentence
  before it and the title ("He" at the start of a sentence may need the previous one);
- entities: share of the question's capitalised names found in the sentence;
- missing: rarity of the rarest question word found nowhere in the passage;
- typed / typed_fit: the question wants a count, a name, a date, a place, a quote... and the sentence has
  one that is not a word of the question, near the question's words (a sentence that only repeats
  the question does not answer it); untyped: the question wants none of these;
- novelty, length, passage (reciprocal rank of its passage in the fused retrieval), speculative (the
  question asks what someone "probably felt": a state of mind news rarely states).

A second logistic model turns the best sentence's score, its lead over the next one and its evidence
into the confidence; below `FOUND_THRESHOLD` the answer declines.
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
from qa.spans import OTHER, best_span, expected_type, is_speculative, span_fit, without_wh_phrase

CANDIDATE_PASSAGES = 8
FEATURES = (
    "dense", "dense_gap", "dense_neighbour", "bm25", "bm25_gap", "coverage_context", "entities", "missing", "typed",
    "untyped", "novelty", "passage", "length", "speculative", "typed_fit",
)
# Fitted by bench/fit_answerer.py on the development sets; see the README for the figures.
WEIGHTS = {
    "bias": -4.319, "dense": 1.658, "dense_gap": 0.734, "dense_neighbour": -0.042, "bm25": 0.146, "bm25_gap": 1.506,
    "coverage_context": 1.213, "entities": 0.154, "missing": -0.384, "typed": 1.607, "untyped": 1.014,
    "novelty": -0.657, "passage": 1.398, "length": 0.426, "speculative": -0.420, "typed_fit": 0.383,
}
# Stage 2: the chance that the best sentence is right, from its score, its lead over the next, and its evidence.
CALIBRATION_FEATURES = ("score", "margin", "dense", "coverage_context", "missing", "typed", "typed_fit", "speculative")
CALIBRATION = {
    "bias": -2.821, "score": 0.134, "margin": 0.958, "dense": 2.163, "coverage_context": 1.926, "missing": -0.099,
    "typed": -0.636, "typed_fit": 1.215, "speculative": -0.952,
}
FOUND_THRESHOLD = 0.4  # chosen on dev: declines 80% of QuAIL Unanswerable while answering 70% of Factual
SAME_TOPIC_SIMILARITY = 0.6  # cosine of two sentences that repeat a value about the same thing
SAME_FACT_SIMILARITY = 0.8  # cosine of two sentences that say the same thing, when there is no value to compare

_ENTITY = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][\w'’.-]*[\w]")
_NOT_ENTITIES = {"I", "The", "A", "An"}

NO_ANSWER = "The archive holds no answer to this question."


@dataclass
class Scored:
    """A candidate sentence with its features and probability of answering."""

    sentence_id: int
    sentence: Sentence
    passage_id: int
    features: dict[str, float]
    score: float

    @property
    def probability(self) -> float:
        """The ranking model's chance that this sentence holds the answer."""
        return _sigmoid(self.score)


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
    sure = confidence(scored)
    meta = catalog.article_meta({s.sentence.doc_id for s in scored})
    citation = _citation(best.sentence, meta)
    found = sure >= FOUND_THRESHOLD
    candidates = [
        Candidate(sentence=s.sentence.text, score=round(s.probability, 4), citation=_citation(s.sentence, meta))
        for s in (scored[1:6] if found else scored[:5])
    ]
    if not found:
        return Answer(
            question=question, found=False, message=NO_ANSWER, confidence=round(sure, 4),
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
        confidence=round(sure, 4),
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
    q_terms = sorted(set(tokenize([without_wh_phrase(question)])[0]))
    idf = dict(zip(q_terms, lexical.idf(q_terms))) if q_terms else {}
    total = sum(idf.values()) or 1.0
    rarest = max(idf.values(), default=1.0) or 1.0
    kind = expected_type(question)
    speculative = float(is_speculative(question))

    all_ids = sorted({sid for sentences in by_passage.values() for sid, _ in sentences})
    if not all_ids:
        return []
    similarity = dict(zip(all_ids, (dense.vectors(np.asarray(all_ids, dtype=np.int64)) @ query_vector.reshape(-1)).tolist()))
    entities = set(_ENTITY.findall(question)) - _NOT_ENTITIES

    seen: set[int] = set()
    rows: list[tuple[int, int, Sentence, list[str], set[str], set[str], float]] = []
    for rank, pid in enumerate(passage_ids, 1):
        sentences = by_passage.get(pid, [])
        if not sentences:
            continue
        title_terms = set(tokenize([titles.get(pid, "")])[0])
        token_lists = tokenize([s.text for _, s in sentences])
        passage_terms = set().union(*token_lists) | title_terms
        for i, (sid, sentence) in enumerate(sentences):
            if sid in seen:
                continue
            seen.add(sid)
            previous = set(token_lists[i - 1]) if i > 0 else set()
            neighbours = [similarity[sentences[j][0]] for j in (i - 1, i + 1) if 0 <= j < len(sentences)]
            rows.append((sid, rank, sentence, token_lists[i], previous | title_terms, passage_terms,
                         max(neighbours, default=0.0)))

    q_set = set(q_terms)
    raw: list[dict[str, float]] = []
    for sid, rank, sentence, tokens, context, passage_terms, neighbour in rows:
        terms = set(tokens)
        covered_ctx = sum(idf[t] for t in q_terms if t in terms or t in context)
        missing = max((idf[t] for t in q_terms if t not in passage_terms), default=0.0)
        fit = span_fit(sentence.text, question, kind)
        typed = float(fit > 0)
        raw.append({
            "dense": similarity[sid],
            "dense_neighbour": neighbour,
            "entities": (sum(e in sentence.text for e in entities) / len(entities)) if entities else 1.0,
            "bm25": _bm25(tokens, idf) / total,
            "coverage_context": covered_ctx / total,
            "missing": missing / rarest if q_terms else 1.0,
            "typed": typed,
            "typed_fit": fit,
            "untyped": float(kind == OTHER),
            "novelty": len(terms - q_set) / len(terms) if terms else 0.0,
            "passage": 1.0 / rank,
            "length": min(len(tokens), 60) / 30.0,
            "speculative": speculative,
        })
    top_dense = max(f["dense"] for f in raw)
    top_bm25 = max(f["bm25"] for f in raw)
    out: list[Scored] = []
    for (sid, rank, sentence, *_rest), features in zip(rows, raw):
        features["dense_gap"] = features["dense"] - top_dense
        features["bm25_gap"] = features["bm25"] - top_bm25
        out.append(Scored(sid, sentence, passage_ids[rank - 1], features, _linear(features)))
    out.sort(key=lambda s: -s.score)
    return out


def confidence(scored: Sequence[Scored]) -> float:
    """The calibrated chance that the best sentence answers: from its score and its lead over the next."""
    if not scored:
        return 0.0
    best = scored[0]
    values = {"score": best.score, "margin": min(best.score - scored[1].score if len(scored) > 1 else 1.0, 3.0)}
    z = CALIBRATION["bias"] + sum(
        CALIBRATION[name] * values.get(name, best.features.get(name, 0.0)) for name in CALIBRATION_FEATURES
    )
    return _sigmoid(z)


def _linear(features: dict[str, float]) -> float:
    return WEIGHTS["bias"] + sum(WEIGHTS[name] * features[name] for name in FEATURES)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


def _bm25(tokens: list[str], idf: dict[str, float], k1: float = 1.2, b: float = 0.75, average: float = 15.0) -> float:
    """BM25 of one sentence for the question's terms, with the index's idf."""
    if not tokens:
        return 0.0
    norm = k1 * (1 - b + b * len(tokens) / average)
    score = 0.0
    for term, weight in idf.items():
        tf = tokens.count(term)
        if tf:
            score += weight * tf * (k1 + 1) / (tf + norm)
    return score


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
        if core is None:
            same = sim >= SAME_FACT_SIMILARITY
        else:
            # the same value, in a sentence about the same thing: "155 Chinese soldiers" for "155 Chinese nationals"
            repeats = re.search(rf"(?<!\w){re.escape(core)}(?!\w)", s.sentence.text, re.IGNORECASE)
            same = bool(repeats) and (s.features["coverage_context"] >= 0.25 or sim >= SAME_TOPIC_SIMILARITY)
        if same:
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
