"""The embedded index against the same corpus on Milvus Lite, side by side on the development sets.

For each set: its corpus (as bench/answers/evaluate.py writes it), indexed both ways under bench/out/<set>/ (index/
and milvus.db; both incremental, so a rerun only checks them). Then, for every question: overlap@10 of the
passages `search` returns (the same passage is the same article and character span), whether `ask` quotes
the same sentence, acc@1 of each (answered, and the sentence holds a gold answer, over questions with gold
answers, as bench/answers/evaluate.py counts it), and the latency of `ask` (p50/p95, the first question left out).

    .venv/bin/python -m bench.answers.milvus_agreement                    # seed,realtimeqa,squad,quail
    .venv/bin/python -m bench.answers.milvus_agreement --sets seed --limit 100
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench import OUT
import qa
from bench.common.evalsets import DEFAULT_DATA, load_set
from bench.answers.evaluate import prepare_corpus
from bench.common.metrics import contains_answer, percentile



def measure(name: str, data: Path, limit: int | None) -> dict:
    evalset = load_set(name, data)
    out = OUT / name
    corpus = prepare_corpus(evalset, out)
    tick = time.perf_counter()
    embedded_report = qa.build_index(corpus, out / "index")
    embedded_build = time.perf_counter() - tick
    uri = f"milvus-lite:{out / 'milvus.db'}"
    tick = time.perf_counter()
    milvus_report = qa.build_index(corpus, uri)
    milvus_build = time.perf_counter() - tick
    questions = evalset.questions[:limit] if limit else evalset.questions
    overlaps: list[float] = []
    same_sentence = 0
    right = {"embedded": 0, "milvus": 0}
    scored = 0
    latency: dict[str, list[float]] = {"embedded": [], "milvus": []}
    with qa.open_index(out / "index") as embedded, qa.open_index(uri) as milvus:
        for q in questions:
            answers, tops = {}, {}
            for label, bot in (("embedded", embedded), ("milvus", milvus)):
                started = time.perf_counter()
                answers[label] = bot.ask(q.question)
                latency[label].append(1000 * (time.perf_counter() - started))
                tops[label] = {(p.doc_id, p.start, p.end) for p in bot.search(q.question, k=10)}
            overlaps.append(len(tops["embedded"] & tops["milvus"]) / max(1, len(tops["embedded"])))
            same_sentence += (answers["embedded"].found, answers["embedded"].sentence) == (
                answers["milvus"].found, answers["milvus"].sentence)
            if q.answers:
                scored += 1
                for label, a in answers.items():
                    right[label] += bool(a.found and a.sentence is not None and contains_answer(a.sentence, q.answers))
    return {
        "set": name, "articles": embedded_report.articles, "sentences": embedded_report.sentences,
        "milvus_sentences": milvus_report.sentences, "questions": len(questions), "scored": scored,
        "overlap@10": statistics.mean(overlaps) if overlaps else float("nan"),
        "same_answer": same_sentence / len(questions) if questions else float("nan"),
        "acc@1_embedded": right["embedded"] / scored if scored else float("nan"),
        "acc@1_milvus": right["milvus"] / scored if scored else float("nan"),
        "p50_embedded": percentile(latency["embedded"][1:], 50), "p95_embedded": percentile(latency["embedded"][1:], 95),
        "p50_milvus": percentile(latency["milvus"][1:], 50), "p95_milvus": percentile(latency["milvus"][1:], 95),
        "build_s": (round(embedded_build, 1), round(milvus_build, 1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="seed,realtimeqa,squad,quail", help="comma-separated development sets")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="evaluation data, read-only (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each set (default: all)")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"{'set':<11}{'articles':>9}{'sentences':>10}{'questions':>10}{'overlap@10':>11}{'same ans':>9}"
          f"{'acc@1 emb':>10}{'acc@1 mil':>10}{'ask p50/p95 emb ms':>20}{'ask p50/p95 mil ms':>20}{'build s':>13}")
    for name in args.sets.split(","):
        r = measure(name, args.data, args.limit)
        print(f"{r['set']:<11}{r['articles']:>9}{r['sentences']:>10}{r['questions']:>10}{r['overlap@10']:>11.3f}"
              f"{r['same_answer']:>9.3f}{r['acc@1_embedded']:>10.3f}{r['acc@1_milvus']:>10.3f}"
              f"{r['p50_embedded']:>11.1f}/{r['p95_embedded']:<8.1f}{r['p50_milvus']:>11.1f}/{r['p95_milvus']:<8.1f}"
              f"{str(r['build_s']):>13}", flush=True)
    print(f"wall {time.perf_counter() - started:.0f} s; command: python -m bench.answers.milvus_agreement "
          + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
