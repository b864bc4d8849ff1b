"""Which fusion of BM25 and dense retrieval finds the answering passage best, on the development sets.

For every answerable question with a gold answer, each method ranks the passages of the set's index and
the table gives hit@k: the share of questions for which one of the top k passages (k = 1, 3, 8) holds a
gold answer and comes from a gold article. Methods: BM25 alone, dense alone (a passage scores its best
sentence), reciprocal rank fusion (k = 60, qa's own), and convex combinations of min-max normalised
scores for several weights of the dense side.

It reads the indexes bench/evaluate.py builds under bench/out/<set>/index: run that first.

    .venv/bin/python bench/evaluate.py --sets seed,realtimeqa,squad,quail
    .venv/bin/python bench/retrieval.py [--sets seed,realtimeqa,squad,quail]
"""

from __future__ import annotations

import argparse
from pathlib import Path


from bench import OUT
import qa
from bench.common.evalsets import DEFAULT_DATA, load_set
from qa import fusion

KS = (1, 3, 8)
METHODS = ["bm25", "dense", "rrf"] + [f"convex {a:.1f}" for a in (0.3, 0.5, 0.7)]


def convex_fusion(lexical: dict[int, float], dense: dict[int, float], alpha: float) -> list[tuple[int, float]]:
    """Weighted sum of min-max normalised scores (missing counts as 0); alpha weighs the dense side."""
    def normalised(scores: dict[int, float]) -> dict[int, float]:
        if not scores:
            return {}
        low, high = min(scores.values()), max(scores.values())
        return {i: (v - low) / (high - low) if high > low else 1.0 for i, v in scores.items()}

    lex, den = normalised(lexical), normalised(dense)
    fused = {i: (1 - alpha) * lex.get(i, 0.0) + alpha * den.get(i, 0.0) for i in lex.keys() | den.keys()}
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def rankings(question: str, bot: qa.QA) -> dict[str, list[int]]:
    """Passage ids, best first, by every method, from one retrieval of the question."""
    vector = bot._embedder.encode([question])[0]
    ranked = fusion.retrieve(question, vector, bot._store.lexical, bot._store.dense, bot._store, k=200)
    lexical = {r.passage_id: r.lexical_score for r in ranked if r.lexical_rank}
    dense = {r.passage_id: r.dense_score for r in ranked if r.dense_rank}
    out = {
        "bm25": sorted(lexical, key=lambda i: -lexical[i]),
        "dense": sorted(dense, key=lambda i: -dense[i]),
        "rrf": [r.passage_id for r in ranked],
    }
    for method in METHODS[3:]:
        out[method] = [i for i, _ in convex_fusion(lexical, dense, float(method.split()[1]))]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="seed,realtimeqa,squad,quail",
                        help="comma-separated development sets, each indexed by bench/evaluate.py (default: all four)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="evaluation data folder, read-only (default: %(default)s)")
    args = parser.parse_args()
    print(f"{'set':<12}{'method':<13}" + "".join(f"{'hit@' + str(k):>8}" for k in KS) + f"{'n':>6}")
    for name in args.sets.split(","):
        evalset = load_set(name, args.data)
        bot = qa.open_index(OUT / name / "index")
        questions = [q for q in evalset.questions if q.answerable and q.answers]
        hits = {method: {k: 0 for k in KS} for method in METHODS}
        for q in questions:
            for method, ids in rankings(q.question, bot).items():
                ids = ids[: max(KS)]
                passages = bot._store.passages(ids)
                good = [evalset.is_right(q, passages[i].text, passages[i].doc_id) for i in ids]
                for k in KS:
                    hits[method][k] += any(good[:k])
        for method in METHODS:
            print(f"{name:<12}{method:<13}" + "".join(f"{100 * hits[method][k] / len(questions):>8.1f}" for k in KS)
                  + f"{len(questions):>6}")
        bot.close()
    print("\ncommand: .venv/bin/python bench/retrieval.py --sets " + args.sets)


if __name__ == "__main__":
    main()
