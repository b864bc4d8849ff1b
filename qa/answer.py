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
from qa.lexical import LexicalIndex, tokenize
from qa.models import Answer, Candidate, Citation, Passage, Sentence, ShortAnswer
from qa.spans import OTHER, best_span, expected_type, is_speculative, span_fit, without_wh_phrase

CANDIDATE_PASSAGES = 8
RELATED_PASSAGES = 5
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
    """A candidate sentence with its embedding, its features and its ranking score."""

    sentence_id: int
    sentence: Sentence
    vector: np.ndarray
    features: dict[str, float]
    score: float

    @property
    def probability(self) -> float:
        """The ranking model's chance that this sentence holds the answer."""
        return _sigmoid(self.score)


def answer_question(question: str, passages: list[Passage], scored: Sequence[Scored], catalog: Catalog) -> Answer:
    """Quote the best of the scored sentences, or decline when it is not likely enough to answer.

    Args:
        question: the question, already checked to be non-empty.
        passages: the fused passages for it, best first (the first few are offered as `related`).
        scored: `score_sentences` of the best of those passages.
        catalog: the open index, for the articles' titles, sources and dates.

    Returns:
        An Answer; `found` is False when no sentence is likely enough to answer.
    """
    related = passages[:RELATED_PASSAGES]
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
    return Answer(
        question=question,
        found=True,
        message=f"Quoted from “{citation.title}”" + (f" ({citation.source})" if citation.source else ""),
        sentence=best.sentence.text,
        short_answer=short,
        confidence=round(sure, 4),
        citation=citation,
        corroborating=_corroborating(best, short, scored, meta),
        candidates=candidates,
        related=related,
    )


def score_sentences(
    question: str,
    query_vector: np.ndarray,
    passages: dict[int, Passage],
    catalog: Catalog,
    dense: DenseIndex,
    lexical: LexicalIndex,
) -> list[Scored]:
    """Score every sentence of the given passages (by catalog id, best first); best sentence first."""
    by_passage = catalog.passage_sentences(list(passages))
    q_terms = sorted(set(tokenize([without_wh_phrase(question)])[0]))
    idf = dict(zip(q_terms, lexical.idf(q_terms))) if q_terms else {}
    total = sum(idf.values()) or 1.0
    rarest = max(idf.values(), default=1.0) or 1.0
    q_set = set(q_terms)
    kind = expected_type(question)
    speculative = float(is_speculative(question))
    entities = set(_ENTITY.findall(question)) - _NOT_ENTITIES

    ids = sorted({sid for sentences in by_passage.values() for sid, _ in sentences})
    if not ids:
        return []
    vectors = dict(zip(ids, dense.vectors(np.asarray(ids, dtype=np.int64))))
    similarity = {sid: float(v @ query_vector) for sid, v in vectors.items()}
    texts = {sid: s.text for sentences in by_passage.values() for sid, s in sentences}
    tokens = dict(zip(texts, tokenize(list(texts.values()))))
    titles = {p.doc_id: p.title for p in passages.values()}
    title_terms = dict(zip(titles, (set(t) for t in tokenize(list(titles.values())))))

    out: dict[int, Scored] = {}
    for rank, (pid, passage) in enumerate(passages.items(), 1):
        sentences = by_passage.get(pid, [])
        passage_terms = set(title_terms[passage.doc_id]).union(*(tokens[sid] for sid, _ in sentences))
        for i, (sid, sentence) in enumerate(sentences):
            if sid in out:
                continue
            terms = set(tokens[sid])
            context = title_terms[passage.doc_id] | (set(tokens[sentences[i - 1][0]]) if i > 0 else set())
            neighbours = [similarity[sentences[j][0]] for j in (i - 1, i + 1) if 0 <= j < len(sentences)]
            fit = span_fit(sentence.text, question, kind)
            features = {
                "dense": similarity[sid],
                "dense_neighbour": max(neighbours, default=0.0),
                "entities": (sum(e in sentence.text for e in entities) / len(entities)) if entities else 1.0,
                "bm25": _bm25(tokens[sid], idf) / total,
                "coverage_context": sum(idf[t] for t in q_terms if t in terms or t in context) / total,
                "missing": max((idf[t] for t in q_terms if t not in passage_terms), default=0.0) / rarest
                if q_terms else 1.0,
                "typed": float(fit > 0),
                "typed_fit": fit,
                "untyped": float(kind == OTHER),
                "novelty": len(terms - q_set) / len(terms) if terms else 0.0,
                "passage": 1.0 / rank,
                "length": min(len(tokens[sid]), 60) / 30.0,
                "speculative": speculative,
            }
            out[sid] = Scored(sid, sentence, vectors[sid], features, 0.0)
    top_dense = max(s.features["dense"] for s in out.values())
    top_bm25 = max(s.features["bm25"] for s in out.values())
    for s in out.values():
        s.features["dense_gap"] = s.features["dense"] - top_dense
        s.features["bm25_gap"] = s.features["bm25"] - top_bm25
        s.score = _linear(s.features)
    return sorted(out.values(), key=lambda s: -s.score)


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


def _corroborating(best: Scored, short: ShortAnswer | None, scored: Sequence[Scored], meta: dict) -> list[Citation]:
    """Sentences of other articles that state the same fact: one citation per article."""
    core = _core(short.text) if short else None
    repeats = re.compile(rf"(?<!\w){re.escape(core)}(?!\w)", re.IGNORECASE) if core else None
    found: dict[str, Citation] = {}
    for s in scored:
        if s.sentence.doc_id in found or s.sentence.doc_id == best.sentence.doc_id:
            continue
        similarity = float(s.vector @ best.vector)
        if repeats is None:
            same = similarity >= SAME_FACT_SIMILARITY
        else:
            # the same value, in a sentence about the same thing: "155 Chinese soldiers" for "155 Chinese nationals"
            same = bool(repeats.search(s.sentence.text)) and (
                s.features["coverage_context"] >= 0.25 or similarity >= SAME_TOPIC_SIMILARITY
            )
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
