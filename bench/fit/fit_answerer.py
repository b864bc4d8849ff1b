"""Fit the answerer (ranker, combiner with the reader, calibration, threshold) and write its weights file.

For every question of the chosen sets, qa's own retrieval, features and reader run on the set's index
(built by bench/answers/evaluate.py under bench/out/<set>/index), through the path `QA.ask` takes. A sentence is
labelled 1 when it holds a gold answer and comes from a gold article (all 0 for unanswerable questions).

1. the ranker: an L2 logistic regression over `qa.features.FEATURES` (every question weighs the same);
2. with that ranker, the reader reads the windows around its best sentences (`--windows`), and the
   combiner, a logistic regression over the ranker's score and the reader's features, is fitted;
3. the calibration: a logistic regression of "the best sentence is right" on its evidence;
4. the threshold: the best answer-triggering F1 on the pooled sets (answer exactly the questions whose
   best sentence is right) among those that decline at least 80% of QuAIL's unanswerable questions.

The combiner, the calibration and the threshold are also fitted on one half of the questions and scored
on the other (two-fold, by question), and that out-of-sample table is printed; the ranker under them (and
so which windows the reader reads) is the one fitted on all questions. Three variants are written: both (the shipped
`qa/weights/answerer.json`), the ranker alone and the reader alone (`bench/out/weights/`, for the
ablation in bench/answers/evaluate.py --variants).

    .venv/bin/python -m bench.fit.fit_answerer --sets seed,realtimeqa,squad,quail
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import qa
from bench import REPO
from bench.common.evalsets import DEFAULT_DATA, load_set
from qa.answer import CALIBRATION_FEATURES, COMBINER_FEATURES, READER_FEATURES, WEIGHTS_FILE, Weights, confidence_features
from qa.features import FEATURES, sigmoid
from qa.ranker import LinearModel

ROOT = REPO
OUT = ROOT / "bench" / "out"
VARIANTS = {"both": COMBINER_FEATURES, "ranker": ("rank_score",), "reader": READER_FEATURES}
QUAIL_DECLINED = 0.8


def logistic(x: np.ndarray, y: np.ndarray, w_row: np.ndarray, l2: float, steps: int = 30) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; returns [bias, *weights]."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    theta = np.zeros(xb.shape[1])
    reg = l2 * np.eye(xb.shape[1])
    reg[0, 0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ theta, -40, 40)))
        grad = xb.T @ (w_row * (p - y)) + reg @ theta
        hess = (xb * (w_row * p * (1 - p))[:, None]).T @ xb + reg
        theta -= np.linalg.solve(hess, grad)
    return theta


def collect(set_name: str, data: Path, squad_n: int, weights: Path) -> list[dict]:
    """One row per question: every candidate's features (ranker's and reader's) and its label."""
    evalset = load_set(set_name, data, squad_n=squad_n)
    rows = []
    with qa.open_index(OUT / set_name / "index", weights=weights) as bot:
        for q in evalset.questions:
            if q.answerable and not q.answers:
                continue  # counts for the answered rate only: no gold to label sentences with
            ranked = bot.candidates(q.question)  # the very path QA.ask takes
            if not ranked:
                continue
            feats = [{**c.features, "rank_score": c.rank_score} for c in ranked]
            y = np.array([float(q.answerable and evalset.is_right(q, c.sentence.text, c.sentence.doc_id))
                          for c in ranked])
            rows.append({"set": set_name, "qid": q.qid, "answerable": q.answerable, "feats": feats, "y": y})
    return rows


def _matrix(row: dict, names: Sequence[str]) -> np.ndarray:
    return np.array([[f[n] for n in names] for f in row["feats"]])


def fit_linear(rows: list[dict], names: Sequence[str], l2: float) -> LinearModel:
    """A logistic model over the named candidate features; each question weighs the same."""
    x = np.vstack([_matrix(r, names) for r in rows])
    y = np.concatenate([r["y"] for r in rows])
    w = np.concatenate([np.full(len(r["y"]), 1.0 / len(r["y"])) for r in rows])
    theta = logistic(x, y, w, l2)
    return LinearModel(float(theta[0]), dict(zip(names, map(float, theta[1:]))))


def best_of(row: dict, model: LinearModel) -> tuple[int, list[float]]:
    """The index of the best candidate under `model`, and all candidates' scores."""
    scores = [model(f) for f in row["feats"]]
    return int(np.argmax(scores)), scores


def _top_values(row: dict, model: LinearModel) -> tuple[dict[str, float], bool]:
    best, scores = best_of(row, model)
    ordered = sorted(scores, reverse=True)
    values = confidence_features(row["feats"][best], scores[best], ordered[1] if len(ordered) > 1 else None)
    return values, bool(row["y"][best] == 1)


def fit_calibration(rows: list[dict], model: LinearModel, l2: float) -> LinearModel:
    values, right = zip(*(_top_values(r, model) for r in rows))
    x = np.array([[v[n] for n in CALIBRATION_FEATURES] for v in values])
    theta = logistic(x, np.array(right, dtype=float), np.ones(len(rows)), l2)
    return LinearModel(float(theta[0]), dict(zip(CALIBRATION_FEATURES, map(float, theta[1:]))))


def outcomes(rows: list[dict], model: LinearModel, calibration: LinearModel) -> list[tuple[str, str, float, bool]]:
    """(set, answerable?, confidence, best is right) per question."""
    out = []
    for r in rows:
        values, right = _top_values(r, model)
        conf = sigmoid(calibration(values))
        out.append((r["set"], "answerable" if r["answerable"] else "unanswerable", conf, right))
    return out


def choose_threshold(results: list[tuple[str, str, float, bool]]) -> tuple[float, dict]:
    """The threshold with the best pooled answer-triggering F1 that declines >= 80% of QuAIL unanswerable."""
    best = (0.5, {"f1": -1.0})
    quail_unans = [c for s, kind, c, _ in results if s == "quail" and kind == "unanswerable"]
    answerable = [(c, ok) for _, kind, c, ok in results if kind == "answerable"]
    unanswerable = [c for _, kind, c, _ in results if kind == "unanswerable"]
    for t in np.arange(0.05, 0.96, 0.01):
        if quail_unans and sum(c < t for c in quail_unans) / len(quail_unans) < QUAIL_DECLINED:
            continue
        right = sum(c >= t and ok for c, ok in answerable)
        answered = sum(c >= t for c, _ in answerable) + sum(c >= t for c in unanswerable)
        precision = right / answered if answered else 0.0
        recall = right / len(answerable) if answerable else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best[1]["f1"]:
            best = (float(t), {"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4)})
    return best


def table(results: list[tuple[str, str, float, bool]], threshold: float) -> dict:
    """Per set: top-1 if never declining, acc@1 with declines, declined shares, precision at >= 0.8."""
    out: dict[str, dict] = {}
    for s, kind, conf, right in results:
        t = out.setdefault(s, {"n": 0, "top1": 0, "acc": 0, "declined_answerable": 0, "unanswerable": 0,
                               "declined_unanswerable": 0, "high": 0, "high_right": 0})
        if kind == "answerable":
            t["n"] += 1
            t["top1"] += right
            t["acc"] += right and conf >= threshold
            t["declined_answerable"] += conf < threshold
        else:
            t["unanswerable"] += 1
            t["declined_unanswerable"] += conf < threshold
        if conf >= 0.8 and conf >= threshold:
            t["high"] += 1
            t["high_right"] += kind == "answerable" and right
    return {s: {"n": t["n"], "top1": _pct(t["top1"], t["n"]), "acc@1": _pct(t["acc"], t["n"]),
                "declined_answerable": _pct(t["declined_answerable"], t["n"]),
                "declined_unanswerable": _pct(t["declined_unanswerable"], t["unanswerable"]),
                "right_at_0.8": _pct(t["high_right"], t["high"]), "n_at_0.8": t["high"]} for s, t in out.items()}


def _pct(a: float, b: float) -> float | None:
    return round(100 * a / b, 1) if b else None


def print_table(label: str, figures: dict) -> None:
    print(f"\n{label}")
    print(f"{'set':<12}{'n':>5}{'top1':>7}{'acc@1':>7}{'decl-ans':>9}{'decl-unans':>11}{'right@.8 (n)':>14}")
    for s, t in figures.items():
        print(f"{s:<12}{t['n']:>5}{_f(t['top1']):>7}{_f(t['acc@1']):>7}{_f(t['declined_answerable']):>9}"
              f"{_f(t['declined_unanswerable']):>11}{_f(t['right_at_0.8']):>8} ({t['n_at_0.8']})")


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _git_head() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _weights(ranker: LinearModel, combiner: LinearModel, calibration: LinearModel, threshold: float, windows: int,
             short_answer: str, provenance: dict) -> Weights:
    full = {n: combiner.weights.get(n, 0.0) for n in COMBINER_FEATURES}
    return Weights(ranker, LinearModel(combiner.bias, full), calibration, threshold, windows, short_answer, provenance)


def _write(weights: Weights, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(weights.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog="Prints two-fold and in-sample "
                                     "tables per variant; writes qa/weights/answerer.json and bench/out/weights/.")
    parser.add_argument("--sets", default="seed,realtimeqa,squad,quail")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--squad-n", type=int, default=300)
    parser.add_argument("--l2", type=float, default=0.1)
    parser.add_argument("--windows", type=int, default=4, help="windows the reader reads per question")
    parser.add_argument("--short-answer", choices=("typed", "reader", "reader-first"), default="reader")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE, help="where the shipped weights go")
    args = parser.parse_args(argv)
    started = time.time()
    sets = args.sets.split(",")
    identity = LinearModel(0.0, {"rank_score": 1.0})
    shipped = Weights.load()
    tmp = Path(tempfile.mkdtemp(prefix="fit-answerer-"))

    # 1. the ranker, without the reader
    plain = tmp / "plain.json"
    _write(_weights(shipped.ranker, identity, shipped.calibration, 0.5, 0, args.short_answer, {}), plain)
    rows = [r for name in sets for r in collect(name, args.data, args.squad_n, plain)]
    ranker = fit_linear(rows, FEATURES, args.l2)

    # 2. with the new ranker, the reader's features for every question
    read = tmp / "read.json"
    _write(_weights(ranker, identity, shipped.calibration, 0.5, args.windows, args.short_answer, {}), read)
    rows = [r for name in sets for r in collect(name, args.data, args.squad_n, read)]
    halves = [[r for r in rows if zlib.crc32(f"{r['set']}{r['qid']}".encode()) % 2 == h] for h in (0, 1)]

    figures: dict[str, dict] = {}
    for variant, names in VARIANTS.items():
        # two-fold: every fitted step on one half, scored on the other
        held: list = []
        for h in (0, 1):
            train = halves[1 - h]
            combiner = fit_linear(train, names, args.l2)
            calibration = fit_calibration(train, combiner, args.l2)
            held += outcomes(halves[h], combiner, calibration)
        threshold, _ = choose_threshold(held)
        figures[f"{variant}, two-fold"] = table(held, threshold)
        print_table(f"{variant}: two-fold, out of sample (threshold {threshold:.2f}, chosen out of sample too)",
                    figures[f"{variant}, two-fold"])
        combiner = fit_linear(rows, names, args.l2)
        calibration = fit_calibration(rows, combiner, args.l2)
        results = outcomes(rows, combiner, calibration)
        threshold, trigger = choose_threshold(results)
        figures[f"{variant}, in sample"] = table(results, threshold)
        print_table(f"{variant}: fitted on all (threshold {threshold:.2f}: answer-triggering {trigger})",
                    figures[f"{variant}, in sample"])
        provenance = {
            "command": "python -m bench.fit.fit_answerer " + " ".join(argv if argv is not None else sys.argv[1:]),
            "sets": sets, "squad_n": args.squad_n, "commit": _git_head(), "fitted": time.strftime("%Y-%m-%d"),
            "variant": variant, "reader": (shipped_reader_card() if variant != "ranker" else None),
            "threshold_rule": "best pooled answer-triggering F1 with >= 80% of QuAIL unanswerable declined",
            "answer_triggering": trigger,
            "figures_two_fold": figures[f"{variant}, two-fold"],
        }
        windows = 0 if variant == "ranker" else args.windows
        weights = _weights(ranker, combiner, calibration, threshold, windows, args.short_answer, provenance)
        _write(weights, args.out if variant == "both" else OUT / "weights" / f"{variant}.json")
    print(f"\nwrote {args.out} and {OUT / 'weights'}/ranker.json, reader.json in {time.time() - started:.0f} s")
    return 0


def shipped_reader_card() -> dict:
    from qa.reader import CONFIG_FILE, WEIGHTS_DIR

    config = json.loads((WEIGHTS_DIR / CONFIG_FILE).read_text(encoding="utf-8"))
    return {"sha256": config.get("sha256"), "commit": config.get("commit"), "steps": config.get("steps")}


if __name__ == "__main__":
    sys.exit(main())
