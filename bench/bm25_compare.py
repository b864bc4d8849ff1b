"""bm25s (through qa.lexical) against rank_bm25: indexing time and query latency on the BBC News corpus.

Each of the 2,225 articles (read by bench/corpora.py) is split into sentences by qa.sentences and cut into
windows of 4 sentences, both libraries index the same tokens, and 200 article titles serve as queries.

    .venv/bin/python -m bench.bm25_compare [--corpus PATH] [--queries 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import bm25s
import numpy as np
from rank_bm25 import BM25Okapi

from bench.corpora import BBC, bbc_records
from bench.metrics import percentile
from qa.lexical import LexicalIndex, tokenize
from qa.sentences import split_sentences


def load_passages(corpus: Path) -> tuple[list[str], list[str], list[int]]:
    """Return article titles, passage texts and each passage's article number."""
    titles, passages, owners = [], [], []
    for number, record in enumerate(bbc_records(corpus)):
        titles.append(record["title"])
        text = record["text"]
        sentences = [text[start:end] for start, end in split_sentences(text)]
        for start in range(0, len(sentences), 4):
            passages.append(" ".join(sentences[start : start + 4]))
            owners.append(number)
    return titles, passages, owners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BBC,
                        help="the BBC News `bbc` folder, one sub-folder per category (default: %(default)s)")
    parser.add_argument("--queries", type=int, default=200, help="article titles asked as queries (default: 200)")
    args = parser.parse_args()

    titles, passages, owners = load_passages(args.corpus)
    step = max(1, len(titles) // args.queries)
    queries = [(i, titles[i]) for i in range(0, len(titles), step)][: args.queries]

    tick = time.perf_counter()
    tokens = tokenize(passages)
    tokenize_s = time.perf_counter() - tick

    tick = time.perf_counter()
    lexical = LexicalIndex.build(range(len(passages)), tokens)
    bm25s_index_s = time.perf_counter() - tick
    tick = time.perf_counter()
    okapi = BM25Okapi(tokens, k1=1.5, b=0.75)
    rank_index_s = time.perf_counter() - tick

    bm25s_times, rank_times, same_top, bm25s_found, rank_found = [], [], 0, 0, 0
    for article, title in queries:
        tick = time.perf_counter()
        hits = lexical.search(title, k=10)
        bm25s_times.append(time.perf_counter() - tick)

        tick = time.perf_counter()
        scores = okapi.get_scores(tokenize([title])[0])
        top = np.argsort(-scores)[:10]
        rank_times.append(time.perf_counter() - tick)

        same_top += bool(hits) and hits[0][0] == int(top[0])
        bm25s_found += any(owners[pid] == article for pid, _ in hits)
        rank_found += any(owners[int(i)] == article for i in top)

    bm25s_p50, bm25s_p95 = (percentile(bm25s_times, q) * 1e3 for q in (50, 95))
    rank_p50, rank_p95 = (percentile(rank_times, q) * 1e3 for q in (50, 95))
    n = len(queries)
    print(f"data: {args.corpus} — {len(titles)} articles, {len(passages)} passages of 4 sentences, "
          f"{sum(map(len, tokens))} tokens (tokenize: {tokenize_s:.2f} s, shared by both)")
    print(f"queries: {n} article titles, top 10\n")
    print(f"{'library':<22}{'index (s)':>10}{'p50 (ms)':>10}{'p95 (ms)':>10}{'own article in top 10':>24}")
    print(f"{'bm25s ' + bm25s.__version__ + ' lucene':<22}{bm25s_index_s:>10.2f}{bm25s_p50:>10.2f}{bm25s_p95:>10.2f}"
          f"{bm25s_found / n:>24.1%}")
    print(f"{'rank_bm25 BM25Okapi':<22}{rank_index_s:>10.2f}{rank_p50:>10.2f}{rank_p95:>10.2f}"
          f"{rank_found / n:>24.1%}")
    print(f"\nsame top passage: {same_top / n:.1%} (Lucene and Okapi idf differ, so rankings may too)")
    print(f"query time includes tokenizing the title for both. Speed-up at p50: {rank_p50 / bm25s_p50:.0f}x")
    print(f"command: .venv/bin/python -m bench.bm25_compare {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
