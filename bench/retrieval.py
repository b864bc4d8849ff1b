"""Which fusion of BM25 and dense retrieval finds the answering passage best, on the development sets.

For every answerable question of each set (indexes built by bench/evaluate.py under bench/out/<set>/index),
the passages retrieved by each method are checked: hit@k = one of the top k passages holds a gold answer
and comes from a gold article. Methods: BM25 alone, dense alone (a passage scores its best sentence),
reciprocal rank fusion (k = 60), and convex combinations of min-max normalised scores for several weights.

    .venv/bin/python bench/retrieval.py [--sets seed,realtimeqa,squad,quail]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import qa  # noqa: E402
from evalsets import DEFAULT_DATA, load_set  # noqa: E402
from metrics import contains_answer  # noqa: E402
from qa import fusion  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
KS = (1, 3, 8)
METHODS = ["bm25", "dense", "rrf"] + [f"convex {a:.1f}" for a in (0.3, 0.5, 0.7)]


def ranking(method: str, question: str, bot: qa.QA) -> list[int]:
    """Passage ids, best first, by one method."""
    vector = bot._embedder.encode([question])[0]
    r = fusion.retrieve(question, vector, bot._lexical, bot._dense, bot._catalog, k=200)
    lexical = {p.passage_id: p.lexical_score for p in r.passages if p.lexical_rank}
    dense = {p.passage_id: p.dense_score for p in r.passages if p.dense_rank}
    if method == "bm25":
        return sorted(lexical, key=lambda i: -lexical[i])
    if method == "dense":
        return sorted(dense, key=lambda i: -dense[i])
    if method == "rrf":
        return [p.passage_id for p in r.passages]
    alpha = float(method.split()[1])
    return [i for i, _ in fusion.convex_fusion(lexical, dense, alpha)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="seed,realtimeqa,squad,quail")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    print(f"{'set':<12}{'method':<13}" + "".join(f"{'hit@' + str(k):>8}" for k in KS) + f"{'n':>6}")
    for name in args.sets.split(","):
        evalset = load_set(name, args.data)
        bot = qa.open_index(OUT / name / "index")
        questions = [q for q in evalset.questions if q.answerable and q.answers]
        for method in METHODS:
            hits = {k: 0 for k in KS}
            for q in questions:
                ids = ranking(method, q.question, bot)[: max(KS)]
                passages = bot._catalog.passages(ids)
                good = [
                    contains_answer(passages[i].text, q.answers)
                    and (any(passages[i].doc_id.startswith(d) for d in q.docs) if evalset.prefix_docs
                         else passages[i].doc_id in q.docs)
                    for i in ids
                ]
                for k in KS:
                    hits[k] += any(good[:k])
            print(f"{name:<12}{method:<13}" + "".join(f"{100 * hits[k] / len(questions):>8.1f}" for k in KS)
                  + f"{len(questions):>6}")
        bot.close()
    print("\ncommand: .venv/bin/python bench/retrieval.py --sets " + args.sets)


if __name__ == "__main__":
    main()
