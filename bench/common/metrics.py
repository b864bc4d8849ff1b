"""Scoring helpers for bench/: SQuAD answer matching, percentiles, calibration, thresholds.

A library, no command: tests/test_bench.py checks every definition here on worked examples.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation) | set("‘’“”–—…")


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and English articles, collapse whitespace (the SQuAD v1.1 normaliser).

    Curly quotes and dashes count as punctuation too, because news text uses them where SQuAD's ASCII
    list would leave them glued to words.
    """
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer, else 0.0."""
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(g) for g in golds))


def _f1(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, golds: Sequence[str]) -> float:
    """Token-overlap F1 of the prediction against the best-matching gold answer (SQuAD definition)."""
    return max((_f1(prediction, g) for g in golds), default=0.0)


_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
_JOINERS = re.compile(r"[-‐‑–—/]")


def _loose(text: str) -> str:
    # "Google’s" must contain "Google" and "17-year-old" "17", where plain SQuAD normalising glues them
    return normalize_answer(_JOINERS.sub(" ", _POSSESSIVE.sub("", text)))


def contains_answer(sentence: str, golds: Sequence[str]) -> bool:
    """True if some gold answer occurs in the sentence on word boundaries, both normalised as SQuAD does,
    after dropping possessive 's and reading hyphens and slashes as spaces."""
    haystack = f" {_loose(sentence)} "
    for gold in golds:
        needle = _loose(gold)
        if needle and f" {needle} " in haystack:
            return True
    return False


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation, as numpy's default; nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def calibration_bins(pairs: Iterable[tuple[float, bool]], edges: Sequence[float] = (0, 0.2, 0.4, 0.6, 0.8, 1.0)):
    """Group (confidence, correct) pairs into confidence bins.

    Returns:
        list of (low, high, count, accuracy or nan); the last bin includes its upper edge.
    """
    pairs = list(pairs)
    rows = []
    for i, (lo, hi) in enumerate(zip(edges, edges[1:])):
        last = i == len(edges) - 2
        inside = [ok for c, ok in pairs if lo <= c < hi or (last and c == hi)]
        rows.append((lo, hi, len(inside), sum(inside) / len(inside) if inside else math.nan))
    return rows


def best_thresholds(items: Sequence[tuple[float, str]]) -> dict:
    """Sweep an answer-if-confidence>=t rule over pooled questions.

    Args:
        items: (confidence, outcome) per question, where outcome is "right" (the would-be answer is
            correct), "wrong" (answerable, would-be answer wrong) or "unanswerable".

    Returns:
        dict with the threshold maximising (right answers - wrong answers), where answering an
        unanswerable question counts as wrong, and the threshold maximising F1 of "answer exactly when
        the answer would be right", each with the counts it yields.
    """
    candidates = sorted({0.0, *(c for c, _ in items), 1.01})
    n_right = sum(o == "right" for _, o in items)
    best_util = best_f1 = None
    for t in candidates:
        right = sum(c >= t and o == "right" for c, o in items)
        wrong = sum(c >= t and o != "right" for c, o in items)
        declined_unans = sum(c < t and o == "unanswerable" for c, o in items)
        util = right - wrong
        f1 = 2 * right / (2 * right + wrong + (n_right - right)) if n_right + wrong else 0.0
        row = {"threshold": round(t, 4), "right": right, "wrong": wrong, "declined_unanswerable": declined_unans}
        if best_util is None or util > best_util[0]:
            best_util = (util, {**row, "utility": util})
        if best_f1 is None or f1 > best_f1[0]:
            best_f1 = (f1, {**row, "f1": round(f1, 4)})
    return {"by_utility": best_util[1] if best_util else None, "by_f1": best_f1[1] if best_f1 else None}
