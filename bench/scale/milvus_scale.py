"""Build time, insert rate and `ask` latency: the embedded index beside Milvus Lite on the same corpus.

Both are built from scratch by `qa.build_index` under bench/out/milvus_scale/<corpus>/ (index/ and
milvus.db); the insert rate is the sentences written per second of the build's write stage (embedding
excluded: both embed the same sentences with the same model). Then the first --questions article titles
are asked of each, in the same order; each store sees every question for the first time (Milvus' counts
of a term's passages are cached, so a second pass would be faster there).

    .venv/bin/python -m bench.corpora                                   # writes bench/out/corpora/{reuters,bbc}
    .venv/bin/python -m bench.milvus_scale --corpus bench/out/corpora/bbc --questions 100
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path


import bench
import qa
from bench.common.metrics import percentile

OUT = bench.OUT / "milvus_scale"


def titles(corpus: Path, n: int) -> list[str]:
    found: list[str] = []
    for path in sorted(corpus.rglob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if title := json.loads(line).get("title"):
                    found.append(title)
                if len(found) == n:
                    return found
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="a JSONL corpus folder (bench.corpora writes them)")
    parser.add_argument("--questions", type=int, default=100, help="how many titles to ask (default: 100)")
    parser.add_argument("--stores", default="embedded,milvus-lite", help="which to build (default: both)")
    args = parser.parse_args()
    out = OUT / args.corpus.name
    out.mkdir(parents=True, exist_ok=True)
    questions = titles(args.corpus, args.questions)
    stores = {"embedded": out / "index", "milvus-lite": f"milvus-lite:{out / 'milvus.db'}"}
    print(f"{'store':<12}{'articles':>9}{'passages':>9}{'sentences':>10}{'build s':>9}{'embed s':>9}{'write s':>9}"
          f"{'rows/s':>9}{'ask p50 ms':>11}{'ask p95 ms':>11}{'found':>7}")
    for label, location in stores.items():
        if label not in args.stores.split(","):
            continue
        shutil.rmtree(out / ("index" if label == "embedded" else "milvus.db"), ignore_errors=True)
        started = time.perf_counter()
        report = qa.build_index(args.corpus, location)
        build = time.perf_counter() - started
        stages = report.stage_seconds
        write = stages.get("write") or sum(stages.get(k, 0.0) for k in ("catalog", "faiss", "bm25", "publish"))
        latencies, found = [], 0
        with qa.open_index(location) as bot:
            for q in questions:
                tick = time.perf_counter()
                found += bot.ask(q).found
                latencies.append(1000 * (time.perf_counter() - tick))
        print(f"{label:<12}{report.articles:>9}{report.passages:>9}{report.sentences:>10}{build:>9.1f}"
              f"{stages.get('embed', 0.0):>9.1f}{write:>9.1f}{report.sentences / write:>9.0f}"
              f"{percentile(latencies[1:], 50):>11.1f}{percentile(latencies[1:], 95):>11.1f}{found:>7}", flush=True)
    print("command: python -m bench.milvus_scale " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
