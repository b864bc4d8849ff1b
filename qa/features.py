"""The evidence the ranker weighs for every sentence of the best passages.

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

The reader (`qa.reader`) adds its own, for the sentences it reads: see `qa.answer.READER_FEATURES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from qa.catalog import Catalog
from qa.dense import DenseIndex
from qa.lexical import LexicalIndex, tokenize
from qa.models import Passage, Sentence
from qa.question import OTHER, Question
from qa.spans import span_fit

FEATURES = (
    "dense", "dense_gap", "dense_neighbour", "bm25", "bm25_gap", "coverage_context", "entities", "missing", "typed",
    "untyped", "novelty", "passage", "length", "speculative", "typed_fit",
)
# A sentence's BM25 is computed here, not by the index (which scores passages): k1 and b as the usual
# defaults, and the length of an average news sentence in tokens.
SENTENCE_BM25 = {"k1": 1.2, "b": 0.75, "average_length": 15.0}


@dataclass
class Scored:
    """A candidate sentence with its embedding, its evidence and its scores.

    `score` is the final log-odds that it holds the answer; `rank_score` the ranker's alone.
    """

    sentence_id: int
    sentence: Sentence
    title: str
    vector: np.ndarray
    features: dict[str, float]
    rank_score: float = 0.0
    score: float = 0.0
    span: tuple[int, int] | None = field(default=None)  # the reader's short answer, characters in the sentence

    @property
    def probability(self) -> float:
        """The chance, by the answerer's final score, that this sentence holds the answer."""
        return sigmoid(self.score)


def sigmoid(z: float) -> float:
    """Log-odds to a probability, clipped so that no score overflows."""
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


def sentence_features(
    question: Question,
    query_vector: np.ndarray,
    passages: dict[int, Passage],
    catalog: Catalog,
    dense: DenseIndex,
    lexical: LexicalIndex,
) -> list[Scored]:
    """The evidence for every sentence of the given passages (by catalog id, best first), in passage order."""
    by_passage = catalog.passage_sentences(list(passages))
    q_terms = sorted(set(tokenize([question.topic])[0]))
    idf = dict(zip(q_terms, lexical.idf(q_terms))) if q_terms else {}
    total = sum(idf.values()) or 1.0
    rarest = max(idf.values(), default=1.0) or 1.0
    q_set = set(q_terms)

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
            fit = span_fit(sentence.text, question.text, question.kind)
            features = {
                "dense": similarity[sid],
                "dense_neighbour": max(neighbours, default=0.0),
                "entities": (sum(e in sentence.text for e in question.entities) / len(question.entities))
                if question.entities else 1.0,
                "bm25": _bm25(tokens[sid], idf) / total,
                "coverage_context": sum(idf[t] for t in q_terms if t in terms or t in context) / total,
                "missing": max((idf[t] for t in q_terms if t not in passage_terms), default=0.0) / rarest
                if q_terms else 1.0,
                "typed": float(fit > 0),
                "typed_fit": fit,
                "untyped": float(question.kind == OTHER),
                "novelty": len(terms - q_set) / len(terms) if terms else 0.0,
                "passage": 1.0 / rank,
                "length": min(len(tokens[sid]), 60) / 30.0,
                "speculative": float(question.speculative),
            }
            out[sid] = Scored(sid, sentence, passage.title, vectors[sid], features)
    top_dense = max(s.features["dense"] for s in out.values())
    top_bm25 = max(s.features["bm25"] for s in out.values())
    for s in out.values():
        s.features["dense_gap"] = s.features["dense"] - top_dense
        s.features["bm25_gap"] = s.features["bm25"] - top_bm25
    return list(out.values())


def _bm25(tokens: list[str], idf: dict[str, float]) -> float:
    """BM25 of one sentence for the question's terms, with the index's idf."""
    if not tokens:
        return 0.0
    k1, b = SENTENCE_BM25["k1"], SENTENCE_BM25["b"]
    norm = k1 * (1 - b + b * len(tokens) / SENTENCE_BM25["average_length"])
    score = 0.0
    for term, weight in idf.items():
        tf = tokens.count(term)
        if tf:
            score += weight * tf * (k1 + 1) / (tf + norm)
    return score
