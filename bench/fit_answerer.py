"""Fit the answerer's logistic weights (qa/answer.py WEIGHTS) on the development sets, and check them.

For every question of the chosen sets, qa's own retrieval and sentence features are computed on the set's
index (built by bench/evaluate.py under bench/out/<set>/index); a sentence is labelled 1 when it holds a
gold answer and comes from a gold article, 0 otherwise (all 0 for unanswerable questions). A plain L2
logistic regression is fitted with Newton steps on two halves of the questions (by question id), each
half scored on the other, so the printed figures are out-of-sample; then on all of them, and those
weights are printed in the form qa/answer.py takes.

    .venv/bin/python bench/fit_answerer.py --sets seed,realtimeqa,squad,quail
"""

from __future__ import annotations

import argparse
import math
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import qa  # noqa: E402
from evalsets import DEFAULT_DATA, load_set  # noqa: E402
from qa.answer import CALIBRATION_FEATURES, FEATURES  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def collect(set_name: str, data: Path, squad_n: int) -> list[dict]:
    """One row per question: the features of its candidate sentences and their labels."""
    evalset = load_set(set_name, data, squad_n=squad_n)
    bot = qa.open_index(OUT / set_name / "index")
    rows = []
    for q in evalset.questions:
        if q.answerable and not q.answers:
            continue  # counts for the answered rate only: no gold to label sentences with
        _passages, scored = bot._candidates(q.question)  # the very path QA.ask takes
        if not scored:
            continue
        x = np.array([[s.features[f] for f in FEATURES] for s in scored])
        y = np.array([
            float(q.answerable and evalset.is_right(q, s.sentence.text, s.sentence.doc_id))
            for s in scored
        ])
        rows.append({"set": set_name, "qid": q.qid, "answerable": q.answerable, "x": x, "y": y, "weight": 1.0})
    bot.close()
    return rows


def logistic(x: np.ndarray, y: np.ndarray, w_row: np.ndarray, l2: float, steps: int = 30) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; returns [bias, *weights]."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    theta = np.zeros(xb.shape[1])
    reg = l2 * np.eye(xb.shape[1])
    reg[0, 0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xb @ theta)))
        grad = xb.T @ (w_row * (p - y)) + reg @ theta
        hess = (xb * (w_row * p * (1 - p))[:, None]).T @ xb + reg
        theta -= np.linalg.solve(hess, grad)
    return theta


def fit(rows: list[dict], l2: float) -> tuple[np.ndarray, np.ndarray]:
    """Stage 1 ranks a question's sentences; stage 2 says how likely the best one is right."""
    x = np.vstack([r["x"] for r in rows])
    y = np.concatenate([r["y"] for r in rows])
    # each question weighs the same, however many candidates it has
    w_row = np.concatenate([np.full(len(r["y"]), r["weight"] / len(r["y"])) for r in rows])
    rank = logistic(x, y, w_row, l2)
    top = np.array([_calibration_features(r, rank) for r in rows])
    right = np.array([float(_top(r, rank)[0]) for r in rows])
    calibration = logistic(top, right, np.array([r["weight"] for r in rows]), l2)
    return rank, calibration


def _calibration_features(row: dict, rank: np.ndarray) -> list[float]:
    _right, score, margin = _top(row, rank)
    best = int(np.argmax(rank[0] + row["x"] @ rank[1:]))
    return [score, margin] + [row["x"][best][FEATURES.index(f)] for f in CALIBRATION_FEATURES[2:]]


def _top(row: dict, rank: np.ndarray) -> tuple[bool, float, float]:
    """(is the best sentence right, its score, its lead over the next, capped at 3)."""
    z = rank[0] + row["x"] @ rank[1:]
    order = np.argsort(-z)
    margin = z[order[0]] - z[order[1]] if len(z) > 1 else 1.0
    right = bool(row["answerable"] and row["y"][order[0]] == 1)
    return right, float(z[order[0]]), float(min(margin, 3.0))


def evaluate(rows: list[dict], theta: tuple[np.ndarray, np.ndarray], threshold: float) -> dict:
    """Top-1 accuracy, answered rate and decline rate for the given weights and threshold."""
    rank, calibration = theta
    per_set: dict[str, dict] = {}
    for r in rows:
        right, _score, _margin = _top(r, rank)
        conf = 1.0 / (1.0 + math.exp(-(calibration[0] + calibration[1:] @ np.array(_calibration_features(r, rank)))))
        s = per_set.setdefault(r["set"], {"n": 0, "right": 0, "answered": 0, "unans": 0, "declined": 0,
                                          "oracle": 0, "conf": []})
        found = conf >= threshold
        if r["answerable"]:
            s["n"] += 1
            s["right"] += int(right)
            s["oracle"] += int(r["y"].max() == 1)
            s["answered"] += int(found)
            s["conf"].append((conf, right))
        else:
            s["unans"] += 1
            s["declined"] += int(not found)
            s["conf"].append((conf, False))
    return per_set


def report(per_set: dict, label: str) -> None:
    print(f"\n{label}")
    print(f"{'set':<12}{'n':>5}{'oracle':>8}{'acc@1':>8}{'answered':>10}{'unans':>7}{'declined':>10}"
          f"{'prec@conf>=.8':>15}")
    for name, s in per_set.items():
        high = [ok for c, ok in s["conf"] if c >= 0.8]
        acc = s["right"] / s["n"] if s["n"] else float("nan")
        oracle = s["oracle"] / s["n"] if s["n"] else float("nan")
        ans = s["answered"] / s["n"] if s["n"] else float("nan")
        dec = s["declined"] / s["unans"] if s["unans"] else float("nan")
        prec = f"{sum(high) / len(high):.2f} ({len(high)})" if high else "-"
        print(f"{name:<12}{s['n']:>5}{oracle:>8.3f}{acc:>8.3f}{ans:>10.3f}{s['unans']:>7}{dec:>10.3f}{prec:>15}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="seed,realtimeqa,squad,quail")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--squad-n", type=int, default=300)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--l2", type=float, default=0.1)
    parser.add_argument("--seed-weight", type=float, default=1.0,
                        help="weight of a seed question against one of the other sets (the seed is the product's own corpus)")
    args = parser.parse_args()

    rows = []
    for name in args.sets.split(","):
        rows += collect(name, args.data, args.squad_n)
    for r in rows:
        if r["set"] == "seed":
            r["weight"] = args.seed_weight
    halves = [[r for r in rows if zlib.crc32(f"{r['set']}{r['qid']}".encode()) % 2 == h] for h in (0, 1)]
    combined: dict[str, dict] = {}
    for h in (0, 1):
        theta = fit(halves[1 - h], args.l2)
        for name, s in evaluate(halves[h], theta, args.threshold).items():
            c = combined.setdefault(name, {k: (0 if k != "conf" else []) for k in s})
            for k, v in s.items():
                c[k] = c[k] + v
    report(combined, f"two-fold, out of sample (threshold {args.threshold})")

    theta = fit(rows, args.l2)
    report(evaluate(rows, theta, args.threshold), "fitted on all (in sample)")
    for t in (0.3, 0.4, 0.5, 0.6):
        report(evaluate(rows, theta, t), f"fitted on all, threshold {t}")
    rank, calibration = theta
    print("\nWEIGHTS = {")
    print("    " + ", ".join(f'"{n}": {w:.3f}' for n, w in zip(("bias", *FEATURES), rank)))
    print("}")
    print("CALIBRATION = {" + ", ".join(f'"{n}": {w:.3f}' for n, w in zip(("bias", *CALIBRATION_FEATURES), calibration)) + "}")
    if not math.isfinite(float(rank.sum() + calibration.sum())):
        raise SystemExit("the fit diverged")


if __name__ == "__main__":
    main()
