"""Rankers: score every candidate sentence of a question on its own, from the evidence in `qa.features`.

A ranker is anything with `rank(question, candidates)` that sets each candidate's `rank_score` (log-odds
that it holds the answer). qa ships one, a logistic model whose weights `bench/fit/fit_answerer.py` fits on
the development data and writes to `qa/weights/answerer.json`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from qa.features import Scored
from qa.question import Question


class Ranker(Protocol):
    """Scores candidate sentences one by one."""

    def rank(self, question: Question, candidates: Sequence[Scored]) -> None:
        """Set `rank_score` on every candidate."""


@dataclass(frozen=True)
class LinearModel:
    """bias + sum of weight * value over named values: a fitted logistic model's log-odds."""

    bias: float
    weights: Mapping[str, float]

    def __call__(self, values: Mapping[str, float]) -> float:
        return self.bias + sum(w * values[name] for name, w in self.weights.items())

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> LinearModel:
        return cls(float(raw["bias"]), {str(k): float(v) for k, v in raw["weights"].items()})

    def to_json(self) -> dict[str, Any]:
        return {"bias": round(self.bias, 4), "weights": {k: round(v, 4) for k, v in self.weights.items()}}


@dataclass(frozen=True)
class LinearRanker:
    """The shipped ranker: a logistic model over `qa.features.FEATURES`."""

    model: LinearModel

    def rank(self, question: Question, candidates: Sequence[Scored]) -> None:
        for c in candidates:
            c.rank_score = self.model(c.features)
