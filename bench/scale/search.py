"""Search-side figures for bench/scale/run.py, measured in the calling process on a built index.

- BM25: what an incremental build pays to rebuild the bm25s matrix from the tokens cached in the catalog,
  against tokenizing every passage again; then bm25s against rank_bm25 on the same passages and queries
  (the approach of bench/bm25_compare.py, on the index's own passages).
- Dense: exact FAISS search time per query, the same on 4 times as many vectors, and HNSW's speed and
  recall@10 against exact search, to say where exact search would stop meeting the latency target.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common.metrics import percentile
from qa import store
from qa.catalog import Catalog
from qa.embedding import Embedder
from qa.fusion import DENSE_DEPTH
from qa.lexical import LexicalIndex, tokenize


def _generation(index_dir: Path) -> Path:
    return store.generation_dir(index_dir, store.read_manifest(index_dir))


def _timed(call):
    tick = time.perf_counter()
    value = call()
    return value, time.perf_counter() - tick


def bm25_figures(index_dir: Path, questions: list[dict]) -> dict:
    """The BM25 rebuild's cost at this size, and bm25s against rank_bm25's BM25Okapi.

    Args:
        index_dir: a built index.
        questions: {"question", "doc_id"} records; the question text is the query.

    Returns:
        Seconds of each rebuild step, and per library its index time, query p50/p95 (ms, tokenizing
        included) and the share of queries with a passage of their own article in the top 10.
    """
    from rank_bm25 import BM25Okapi

    catalog = Catalog(_generation(index_dir) / store.CATALOG, readonly=True)
    (ids, tokens), read_s = _timed(catalog.passage_tokens)
    lexical, build_s = _timed(lambda: LexicalIndex.build(ids, tokens))
    with tempfile.TemporaryDirectory() as tmp:
        _, save_s = _timed(lambda: lexical.save(Path(tmp) / "bm25"))
    passages = {}
    for start in range(0, len(ids), 20_000):
        passages.update(catalog.passages(ids[start : start + 20_000]))
    catalog.close()
    texts = [f"{passages[pid].title}\n{passages[pid].text}" for pid in ids]
    retokenized, tokenize_s = _timed(lambda: tokenize(texts))
    owner = np.array([passages[pid].doc_id for pid in ids], dtype=object)

    okapi, okapi_s = _timed(lambda: BM25Okapi(tokens, k1=1.5, b=0.75))
    times: dict[str, list[float]] = {"bm25s": [], "rank_bm25": []}
    found = {"bm25s": 0, "rank_bm25": 0}
    for q in questions:
        hits, seconds = _timed(lambda: lexical.search(q["question"], 10))
        times["bm25s"].append(seconds)
        found["bm25s"] += any(passages[pid].doc_id == q["doc_id"] for pid, _ in hits)
        top, seconds = _timed(lambda: np.argsort(-okapi.get_scores(tokenize([q["question"]])[0]))[:10])
        times["rank_bm25"].append(seconds)
        found["rank_bm25"] += bool((owner[top] == q["doc_id"]).any())
    libraries = {}
    for name, index_s in (("bm25s", build_s), ("rank_bm25", okapi_s)):
        libraries[name] = {"index_s": index_s, "p50_ms": percentile(times[name], 50) * 1e3,
                           "p95_ms": percentile(times[name], 95) * 1e3,
                           "own_article_top10": found[name] / len(questions)}
    return {
        "passages": len(ids), "tokens": sum(map(len, tokens)),
        "rebuild": {"read_cached_tokens_s": read_s, "build_matrix_s": build_s, "save_s": save_s,
                    "total_s": read_s + build_s + save_s, "retokenize_all_s": tokenize_s,
                    "cache_matches_retokenizing": retokenized == tokens},
        "libraries": libraries,
    }


def dense_figures(index_dir: Path, questions: list[dict], budget_ms: float) -> dict:
    """Exact FAISS search per query at this size and at 4x, and HNSW against it.

    Args:
        index_dir: a built index.
        questions: {"question"} records, embedded with the index's model.
        budget_ms: the time per query exact search may take before a switch is due.

    Returns:
        Figures for exact search (ms per query, one thread, k = DENSE_DEPTH), HNSW (M=32) at a few
        efSearch values (ms per query and recall against exact, at k=10 and k=DENSE_DEPTH; efSearch is
        raised to k when smaller), and the vector count at
        which exact search would pass `budget_ms`, extrapolated linearly from the two exact timings.
    """
    import faiss

    stored = faiss.read_index(str(_generation(index_dir) / store.DENSE))
    if not isinstance(stored, faiss.IndexIDMap):
        raise ValueError(f"{index_dir} holds a {type(stored).__name__}: dense_figures times an exact index")
    flat = faiss.downcast_index(stored.index)
    vectors = flat.reconstruct_n(0, flat.ntotal)
    queries = Embedder(store.model_dir(index_dir)).encode([q["question"] for q in questions])
    faiss.omp_set_num_threads(1)
    depth = min(DENSE_DEPTH, len(vectors))

    def per_query_ms(index, k: int) -> tuple[float, np.ndarray]:
        index.search(queries[:2], k)
        found, times = [], []
        for row in queries:
            tick = time.perf_counter()
            found.append(index.search(row.reshape(1, -1), k)[1][0])
            times.append(time.perf_counter() - tick)
        return statistics.median(times) * 1e3, np.array(found)

    exact_ms, exact_ids = per_query_ms(flat, depth)
    big = faiss.IndexFlatIP(flat.d)
    big.add(np.tile(vectors, (4, 1)))
    exact_4x_ms, _ = per_query_ms(big, depth)
    del big
    per_million = (exact_4x_ms - exact_ms) / (3 * len(vectors)) * 1e6
    switch_at = int(len(vectors) + (budget_ms - exact_ms) / per_million * 1e6) if per_million > 0 else None

    hnsw_rows = []
    hnsw = faiss.IndexHNSWFlat(flat.d, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    _, hnsw_build_s = _timed(lambda: hnsw.add(vectors))
    faiss.omp_set_num_threads(1)
    for ef in (32, 64, 128, 256):
        row: dict[str, float] = {"efSearch": ef}
        for k in (10, depth):
            hnsw.hnsw.efSearch = max(ef, k)
            ms, ids = per_query_ms(hnsw, k)
            row[f"ms@{k}"] = ms
            row[f"recall@{k}"] = float(np.mean([len(set(a) & set(b[:k])) / k for a, b in zip(ids, exact_ids)]))
        hnsw_rows.append(row)
    return {
        "vectors": len(vectors), "k": depth, "exact_ms": exact_ms, "exact_4x_ms": exact_4x_ms,
        "exact_ms_per_million": per_million, "budget_ms": budget_ms, "switch_at_vectors": switch_at,
        "vector_mb": vectors.nbytes / 2**20, "hnsw_build_s": hnsw_build_s, "hnsw": hnsw_rows,
        "hnsw_mb": len(faiss.serialize_index(hnsw)) / 2**20,
    }
