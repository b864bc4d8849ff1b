"""Choose the sentence that answers, mark the short answer in it, say how sure we are, or decline.

Three steps, each behind its own module:

1. the ranker (`qa.ranker`) scores every sentence of the best passages from its evidence (`qa.features`);
2. the reader (`qa.reader`) reads the question with the windows around the ranker's best few sentences
   (each with its neighbours and the title) and says which sentence of each holds the answer, and where;
3. a combiner, a logistic model over the ranker's score and the reader's, gives the final order; a
   calibration model turns the best sentence's evidence into the confidence, and below the threshold
   the answer declines.

Every fitted number (ranker, combiner, calibration, threshold) is data: `qa/weights/answerer.json`,
written by `bench/fit/fit_answerer.py` with the command, sets and commit inside.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.accounts import find_accounts, retracted
from qa.catalog import Catalog
from qa.errors import ModelUnavailableError
from qa.features import FEATURES, Scored, sigmoid
from qa.models import Answer, Candidate, Citation, Passage, Sentence, ShortAnswer
from qa.question import OTHER, Question
from qa.ranker import LinearModel, LinearRanker, Ranker
from qa.reader import Reader, Window, focus_windows
from qa.spans import best_span

WEIGHTS_FILE = Path(__file__).resolve().parent / "weights" / "answerer.json"
CANDIDATE_PASSAGES = 8
# passages after those whose sentences only corroborate: retrieval may rank a well titled article's
# passages above another outlet's sentence stating the same figure
EVIDENCE_PASSAGES = 8
RELATED_PASSAGES = 5
SHOWN_CANDIDATES = 5
READER_FEATURES = ("read", "reader_margin", "reader_gap", "reader_span")
COMBINER_FEATURES = ("rank_score", *READER_FEATURES)
CALIBRATION_FEATURES = (
    "score", "margin", "rank_score", "reader_margin", "dense", "coverage_context", "missing", "typed", "typed_fit",
    "speculative",
)
SAME_TOPIC_SIMILARITY = 0.6  # cosine of two sentences that repeat a value about the same thing
SAME_FACT_SIMILARITY = 0.8  # cosine of two sentences that say the same thing, when there is no value to compare
SAME_TOPIC_COVERAGE = 0.25  # share of the question's words that makes a sentence about the same thing

NO_ANSWER = "The archive holds no answer to this question."
MARGIN_CAP = 3.0  # a lead past this over the runner-up says no more (the calibration is linear in it)


def confidence_features(features: dict[str, float], score: float, runner_up: float | None) -> dict[str, float]:
    """What the calibration reads of the best candidate: its features, its combined score and its lead over
    the runner-up (1.0 when it has none), capped. bench/fit/fit_answerer.py fits the calibration on the same."""
    margin = score - runner_up if runner_up is not None else 1.0
    return {**features, "score": score, "margin": min(margin, MARGIN_CAP)}


@dataclass(frozen=True)
class Weights:
    """The fitted numbers of the answerer, as `bench/fit/fit_answerer.py` writes them."""

    ranker: LinearModel
    combiner: LinearModel
    calibration: LinearModel
    threshold: float
    windows: int  # windows the reader reads per question (0: no reader)
    # "typed": the typed span only; "reader": the reader's span when the type finds none (or the question
    # has no type); "reader-first": the reader's span whenever it has one
    short_answer: str
    provenance: dict[str, Any]

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Weights:
        """Read a weights file and check it names exactly the features this qa computes.

        Raises:
            ModelUnavailableError: the file is missing, unreadable or made for other features.
        """
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            weights = cls(
                ranker=LinearModel.from_json(raw["ranker"]),
                combiner=LinearModel.from_json(raw["combiner"]),
                calibration=LinearModel.from_json(raw["calibration"]),
                threshold=float(raw["threshold"]),
                windows=int(raw["windows"]),
                short_answer=str(raw["short_answer"]),
                provenance=dict(raw.get("provenance", {})),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelUnavailableError(f"the answerer's weights {path} are unreadable ({exc}); reinstall qa") from exc
        for name, model, expected in (("ranker", weights.ranker, FEATURES), ("combiner", weights.combiner, COMBINER_FEATURES),
                                      ("calibration", weights.calibration, CALIBRATION_FEATURES)):
            if set(model.weights) != set(expected):
                raise ModelUnavailableError(
                    f"{path}: the {name} weighs {sorted(model.weights)}, this qa computes {sorted(expected)}; "
                    "refit with `python -m bench.fit.fit_answerer`"
                )
        return weights

    def to_json(self) -> dict[str, Any]:
        return {
            "provenance": self.provenance, "ranker": self.ranker.to_json(), "combiner": self.combiner.to_json(),
            "calibration": self.calibration.to_json(), "threshold": round(self.threshold, 4), "windows": self.windows,
            "short_answer": self.short_answer,
        }


class Answerer:
    """Ranks, reads and decides, with fitted weights (the shipped ones by default).

    Args:
        weights: the fitted numbers; None loads `qa/weights/answerer.json`.
        reader: the reading model; None loads the shipped one when the weights use it.
        ranker: None: the logistic ranker of the weights.
    """

    def __init__(self, weights: Weights | None = None, reader: Reader | None = None, ranker: Ranker | None = None) -> None:
        self.weights = weights or Weights.load()
        self.ranker = ranker or LinearRanker(self.weights.ranker)
        self.reader = reader if reader is not None or not self.weights.windows else Reader()

    def choose(self, question: Question, candidates: list[Scored]) -> list[Scored]:
        """Rank the candidates, read the best windows, combine: best first."""
        self.ranker.rank(question, candidates)
        candidates.sort(key=lambda c: -c.rank_score)
        for c in candidates:
            c.features.update(read=0.0, reader_margin=0.0, reader_gap=0.0, reader_span=0.0)
        if self.reader is not None and self.weights.windows and candidates:
            self._read(question, candidates)
        for c in candidates:
            c.score = self.weights.combiner({"rank_score": c.rank_score, **c.features})
        candidates.sort(key=lambda c: -c.score)
        return candidates

    def _read(self, question: Question, candidates: list[Scored]) -> None:
        keys = [(c.sentence.doc_id, c.sentence.index) for c in candidates]
        groups = focus_windows(keys, self.weights.windows)
        windows = [Window(candidates[g[0]].title, tuple(candidates[m].sentence.text for m in g)) for g in groups]
        assert self.reader is not None
        readings = self.reader.read(question.text, windows)
        for group, reading in zip(groups, readings):
            for position, (m, margin) in enumerate(zip(group, reading.margins())):
                c = candidates[m]
                if c.features["read"] and c.features["reader_margin"] >= margin:
                    continue
                span = reading.spans[position]
                c.features.update(read=1.0, reader_margin=float(margin), reader_span=span[0] if span else 0.0)
                c.span = (span[1], span[2]) if span else None
        best = max(c.features["reader_margin"] for c in candidates if c.features["read"])
        for c in candidates:
            if c.features["read"]:
                c.features["reader_gap"] = c.features["reader_margin"] - best

    def confidence(self, ranked: Sequence[Scored]) -> float:
        """The calibrated chance that the best sentence answers: from its evidence and its lead."""
        if not ranked:
            return 0.0
        best = ranked[0]
        features = {**best.features, "rank_score": best.rank_score}
        values = confidence_features(features, best.score, ranked[1].score if len(ranked) > 1 else None)
        return sigmoid(self.weights.calibration(values))

    def answer(self, question: Question, passages: list[Passage], ranked: Sequence[Scored], catalog: Catalog,
               evidence: Sequence[Scored] = ()) -> Answer:
        """Quote the best of the ranked sentences, or decline when it is not likely enough to answer.

        Args:
            question: the analysed question.
            passages: the fused passages for it, best first (the first few are offered as `related`).
            ranked: `choose` of the sentences of the best of those passages.
            catalog: the open index, for the articles' titles, sources and dates.
            evidence: sentences of the passages after those, unscored, searched for corroboration only.

        Returns:
            An Answer; `found` is False when no sentence is likely enough to answer.
        """
        related = passages[:RELATED_PASSAGES]
        if not ranked:
            return Answer(question=question.text, found=False, message=NO_ANSWER, confidence=0.0, related=related)
        best = ranked[0]
        sure = self.confidence(ranked)
        meta = catalog.article_meta({s.sentence.doc_id for s in ranked})
        citation = _citation(best.sentence, meta)
        found = sure >= self.weights.threshold
        shown = ranked[1: SHOWN_CANDIDATES + 1] if found else ranked[:SHOWN_CANDIDATES]
        candidates = [Candidate(sentence=s.sentence.text, score=round(s.probability, 4),
                                citation=_citation(s.sentence, meta)) for s in shown]
        if not found:
            return Answer(question=question.text, found=False, message=NO_ANSWER, confidence=round(sure, 4),
                          candidates=candidates, related=related)
        short = self.short_answer(question, best)
        meta |= catalog.article_meta({s.sentence.doc_id for s in evidence} - meta.keys())
        pool = [*ranked, *evidence]
        corroborating = _corroborating(best, short, pool, meta)
        texts: dict[str, list[str]] = {}

        def article_sentences(doc_id: str) -> list[str]:
            if doc_id not in texts:
                texts[doc_id] = [s.text for s in catalog.sentences(doc_id)]
            return texts[doc_id]

        accounts = find_accounts(
            question, best, short, [best.sentence.doc_id, *(c.doc_id for c in corroborating)], ranked,
            cite=lambda s: _citation(s.sentence, meta), article_sentences=article_sentences,
            same_topic=lambda s: _same_topic(s, best),
        )
        return Answer(
            question=question.text,
            found=True,
            message=f"Quoted from “{citation.title}”" + (f" ({citation.source})" if citation.source else ""),
            sentence=best.sentence.text,
            short_answer=short,
            confidence=round(sure, 4),
            citation=citation,
            corroborating=corroborating,
            accounts=accounts,
            candidates=candidates,
            related=related,
        )

    def short_answer(self, question: Question, best: Scored) -> ShortAnswer | None:
        """The short answer inside the best sentence, by the weights' rule (see `Weights.short_answer`):
        the typed span nearest the question's words, or the reader's span. Always text of the sentence."""
        reader = self._reader_span(question, best) if self.weights.short_answer != "typed" else None
        if reader is not None and self.weights.short_answer == "reader-first":
            return reader
        span = best_span(best.sentence.text, question.text, question.kind)
        if span is not None:
            return ShortAnswer(text=span.text, start=span.start, end=span.end)
        return reader

    def _reader_span(self, question: Question, best: Scored) -> ShortAnswer | None:
        if best.span is not None:
            start, end = best.span
            text = best.sentence.text[start:end]
            stripped = text.strip(" ,.;:“”\"'")
            if stripped and (question.kind == OTHER or stripped.lower() not in question.text.lower()):
                start += text.index(stripped)
                return ShortAnswer(text=stripped, start=start, end=start + len(stripped))
        return None


def _corroborating(best: Scored, short: ShortAnswer | None, ranked: Sequence[Scored], meta: dict) -> list[Citation]:
    """Sentences of other articles that state the same fact: one citation per article."""
    core = _core(short.text) if short else None
    repeats = re.compile(rf"(?<!\w){re.escape(core)}(?!\w)", re.IGNORECASE) if core else None
    found: dict[str, Citation] = {}
    for s in ranked:
        if s.sentence.doc_id in found or s.sentence.doc_id == best.sentence.doc_id:
            continue
        similarity = float(s.vector @ best.vector)
        if repeats is None:
            same = similarity >= SAME_FACT_SIMILARITY
        else:
            # the same value, in a sentence about the same thing: "155 Chinese soldiers" for "155 Chinese nationals"
            # a sentence that takes the value back ("corrects ... from 65 mln") does not state it
            same = any(not retracted(s.sentence.text, m.start()) for m in repeats.finditer(s.sentence.text)) and (
                _same_topic(s, best))
        if same:
            found[s.sentence.doc_id] = _citation(s.sentence, meta)
    return list(found.values())


def _same_topic(s: Scored, best: Scored) -> bool:
    """Is a sentence about the same thing as the answer: the question's words, or a close embedding."""
    return s.features["coverage_context"] >= SAME_TOPIC_COVERAGE or float(s.vector @ best.vector) >= SAME_TOPIC_SIMILARITY


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
