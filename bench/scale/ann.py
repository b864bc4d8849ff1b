"""A million sentence vectors: the embedded index (exact, then IVF past its switch) beside Milvus Lite.

One command, three parts, each figure printed with the load average of the moment:

1. `vectors`: on the real, distinct sentence vectors of the Reuters (and BBC, if built) indexes, with the
   200 Reuters titles of bench/out/scale/questions.json embedded as queries: exact FAISS, IVF-Flat at
   the layout qa would choose for that many vectors (and nprobe at half and twice it), and HNSW (M=32):
   ms per query (one thread, k=10), recall@10 against exact, build seconds. Then exact search on the
   vectors tiled to --copies times as many, against the IVF index qa builds at that size.
2. `stores` at the 19k Reuters index and at --copies times it (the Reuters stories repeated under new
   ids: 9 copies are 1,103,742 sentence vectors): each of the embedded index and Milvus Lite is built from
   scratch by `qa.build_index` in a fresh process (peak RSS its own, a --timeout each), then asked the
   first --questions titles. Sentence vectors are not computed again: the build's `Embedder.encode` looks
   each sentence up in the Reuters index's vectors (same text, same model, so the same vector) and embeds
   only what it does not find; questions are embedded for real. The insert rate is sentences written per
   second of the write stage (all but parsing and embedding). Every copy of a story is asked at once, so
   the answer is one of several equal passages: this measures speed at size, not accuracy.
3. In the embedded 1M index, dense search alone: qa's IVF against exact search over the same vectors,
   recall@10 counted by score (a returned vector scoring at least the 10th exact score is a hit: copies of
   a sentence tie).

    .venv/bin/python -m bench.scale.run --only build            # writes bench/out/scale/{corpora,index-reuters}
    nice -n 15 .venv/bin/python -m bench.scale.ann                # ~25 min on 2 busy cores
    nice -n 15 .venv/bin/python -m bench.scale.ann --copies 2 --questions 10 --stores embedded   # a quick look

Folders go under bench/out/ann/ (corpora, indexes, milvus .db files), figures to bench/out/ann.json (--json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "bench" / "out" / "ann"
SCALE = REPO / "bench" / "out" / "scale"


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text} ({load()})", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def index_vectors(index_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The ids and vectors of a built embedded index (exact or IVF)."""
    from qa import store
    from qa.dense import DenseIndex

    manifest = store.read_manifest(index_dir)
    generation = store.generation_dir(index_dir, manifest, verify_limit=0)  # sizes checked, no file hashed
    dense = DenseIndex.load(generation / store.DENSE, layout=manifest.dense)
    ids, vectors = dense.contents()  # bench reads the stored vectors as they are
    return ids, np.array(vectors)  # a copy: the exact index's vectors are a view that dies with it


def sentence_table(index_dir: Path) -> tuple[dict[str, int], np.ndarray]:
    """Sentence and title text -> row of the vector table, from an embedded index: a build of copies of its
    articles embeds neither again (the same text through the same model is the same vector)."""
    from qa import store
    from qa.dense import DenseIndex

    ids, vectors = index_vectors(index_dir)
    row_of = {int(i): r for r, i in enumerate(ids)}
    manifest = store.read_manifest(index_dir)
    generation = store.generation_dir(index_dir, manifest, verify_limit=0)
    titles = DenseIndex.load(generation / store.TITLES)  # keyed by each article's first sentence
    title_ids, title_view = titles.contents()
    title_vectors = np.array(title_view)  # a copy while `titles` holds the memory the view points into
    title_row = {int(i): len(ids) + r for r, i in enumerate(title_ids)}
    db = sqlite3.connect(f"file:{generation / store.CATALOG}?mode=ro", uri=True)
    lookup = {text: row_of[sid] for sid, text in db.execute("SELECT id, text FROM sentences")}
    for sid, title in db.execute("SELECT s.id, a.title FROM sentences s JOIN articles a ON a.doc_id = s.doc_id "
                                 "WHERE s.idx = 0"):
        lookup.setdefault(title, title_row[sid])
    db.close()
    return lookup, np.concatenate([vectors, title_vectors])


def embedded_questions(index_dir: Path, questions: list[str]) -> np.ndarray:
    from qa import store
    from qa.embedding import Embedder

    return Embedder(store.model_dir(index_dir)).encode(questions)


def timed_search(index, queries: np.ndarray, k: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Median ms per one-query search (one thread), and the scores and ids found."""
    import faiss

    faiss.omp_set_num_threads(1)
    index.search(queries[:2], k)
    times, scores, ids = [], [], []
    for row in queries:
        tick = time.perf_counter()
        s, i = index.search(row.reshape(1, -1), k)
        times.append(time.perf_counter() - tick)
        scores.append(s[0])
        ids.append(i[0])
    return float(np.median(times) * 1e3), np.array(scores), np.array(ids)


def recall_by_id(found: np.ndarray, exact: np.ndarray, k: int = 10) -> float:
    return float(np.mean([len(set(a[:k]) & set(b[:k])) / k for a, b in zip(found, exact)]))


def recall_by_score(found_scores: np.ndarray, exact_scores: np.ndarray, k: int = 10) -> float:
    """Share of the k returned whose score reaches the k-th exact score (ties between copies count as hits)."""
    return float(np.mean([(f[:k] >= e[k - 1] - 1e-5).sum() / k for f, e in zip(found_scores, exact_scores)]))


def part_vectors(indexes: list[Path], questions: list[str], copies: int) -> dict:
    """Exact, IVF and HNSW on real distinct vectors; exact at `copies` times as many."""
    import faiss

    from qa.dense import DenseIndex, ivf_lists

    parts = [index_vectors(p) for p in indexes]
    ids = np.concatenate([p[0] + offset * 10**9 for offset, p in enumerate(parts)])
    vectors = np.concatenate([p[1] for p in parts])
    queries = embedded_questions(indexes[0], questions)
    say(f"vectors: {len(vectors):,} distinct real vectors, {len(queries)} questions")
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    exact_ms, exact_scores, exact_rows = timed_search(exact, queries, 10)
    exact_ids = ids[exact_rows]
    rows = [{"index": "exact (flat)", "params": "", "build_s": 0.0, "ms": exact_ms, "recall@10": 1.0}]

    flat = DenseIndex.create()
    flat.add(ids, vectors)
    tick = time.perf_counter()
    ivf = flat.arranged(ann_from=1)  # the IVF qa would write for this many vectors
    ivf_s = time.perf_counter() - tick
    nlist, nprobe = ivf.layout.nlist, ivf.layout.nprobe
    assert nlist == ivf_lists(len(vectors)) and nprobe
    ivf_index = ivf.faiss
    assert isinstance(ivf_index, faiss.IndexIVF)  # DenseIndex types its FAISS index as the base class
    for probe in (nprobe // 2, nprobe, nprobe * 2):
        ivf_index.nprobe = probe  # the bench tries qa's nprobe and its neighbours
        ms, _, found = timed_search(ivf_index, queries, 10)
        rows.append({"index": "IVF-Flat" + (" (qa's)" if probe == nprobe else ""),
                     "params": f"nlist {nlist}, nprobe {probe}", "build_s": ivf_s, "ms": ms,
                     "recall@10": recall_by_id(found, exact_ids)})
        say(f"  {rows[-1]}")
    del ivf, flat
    hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    tick = time.perf_counter()
    hnsw.add(vectors)
    hnsw_s = time.perf_counter() - tick
    for ef in (64, 128, 256):
        hnsw.hnsw.efSearch = ef
        ms, _, found = timed_search(hnsw, queries, 10)
        rows.append({"index": "HNSW-Flat", "params": f"M 32, efC 80, efSearch {ef}", "build_s": hnsw_s,
                     "ms": ms, "recall@10": recall_by_id(ids[found], exact_ids)})
        say(f"  {rows[-1]}")
    del hnsw

    tiled = faiss.IndexFlatIP(vectors.shape[1])
    for _ in range(copies):
        tiled.add(vectors)
    tiled_ms, _, _ = timed_search(tiled, queries[:50], 10)
    say(f"  exact over {tiled.ntotal:,} tiled vectors: {tiled_ms:.1f} ms")
    return {"vectors": len(vectors), "sources": [str(p) for p in indexes], "questions": len(queries),
            "rows": rows, "tiled_vectors": int(tiled.ntotal), "tiled_exact_ms": tiled_ms, "load": os.getloadavg()[0]}


def write_corpus(source: Path, target: Path, copies: int) -> Path:
    """The stories of `source` (JSONL) `copies` times, each copy under new ids; written once."""
    done = target / ".complete"
    if done.exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    records = [json.loads(line) for path in sorted(source.rglob("*.jsonl")) for line in open(path, encoding="utf-8")]
    for copy in range(copies):
        with open(target / f"copy-{copy:02d}.jsonl", "w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps({**record, "id": f"c{copy}-{record['id']}"}) + "\n")
    done.write_text(str(copies))
    return target


def case(store_kind: str, corpus: Path, vectors_from: Path, questions: list[str], ask_seconds: float,
         progress_file: Path, reuse: bool = False) -> dict:
    """One build and its questions, in this (fresh) process; with `reuse`, an embedded index an earlier run
    built of the same corpus is asked again without building it."""
    import qa
    from qa import embedding

    lookup, table = sentence_table(vectors_from)
    original = embedding.Embedder.encode
    missed = [0]

    def encode(self, texts, batch_size=32, progress=None):
        rows = [lookup.get(t, -1) for t in texts]
        out = table[np.maximum(rows, 0)] if texts else np.empty((0, table.shape[1]), np.float32)
        missing = [i for i, r in enumerate(rows) if r < 0]
        if missing:
            missed[0] += len(missing)
            out[missing] = original(self, [texts[i] for i in missing], batch_size)
        if progress:
            progress(len(texts), len(texts))
        return out

    name = corpus.name
    location: str | Path = OUT / f"index-{name}" if store_kind == "embedded" else f"milvus-lite:{OUT / f'{name}.db'}"
    if reuse and store_kind == "embedded" and (OUT / f"index-{name}" / "manifest.json").exists():
        return {"store": store_kind, "corpus": name, "reused": True, **asked(location, questions, ask_seconds)}
    for stale in [OUT / f"index-{name}"] if store_kind == "embedded" else OUT.glob(f"*{name}.db*"):
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)

    def progress(stage: str, done: int, total: int) -> None:
        progress_file.write_text(json.dumps({"stage": stage, "done": done, "total": total,
                                             "t": time.time()}))

    embedding.Embedder.encode = encode  # type: ignore[method-assign]
    tick = time.perf_counter()
    report = qa.build_index(corpus, location, progress=progress)
    build_s = time.perf_counter() - tick
    embedding.Embedder.encode = original  # type: ignore[method-assign]  # questions are embedded for real
    build_rss = peak_rss_mb()
    stages = report.stage_seconds
    write = stages.get("write") or sum(stages.get(k, 0.0) for k in ("catalog", "faiss", "bm25", "publish"))
    result: dict[str, Any] = {
        "store": store_kind, "corpus": name, "articles": report.articles, "passages": report.passages,
        "sentences": report.sentences, "build_s": build_s, "stages": stages, "write_s": write,
        "rows_per_s": report.sentences / write, "embedded_for_real": missed[0],
        "build_peak_rss_mb": build_rss,
        "load_after_build": os.getloadavg()[0]}
    if store_kind == "embedded":
        from qa import store

        manifest = store.read_manifest(Path(location))
        result["dense"] = manifest.dense.model_dump()
        result["disk_mb"] = sum(f.size for f in manifest.files.values()) / 2**20
    else:
        result["disk_mb"] = sum(p.stat().st_size for p in (OUT / f"{name}.db").rglob("*") if p.is_file()) / 2**20 \
            if (OUT / f"{name}.db").is_dir() else (OUT / f"{name}.db").stat().st_size / 2**20
    say(f"{store_kind} {name}: built in {build_s:.0f} s")
    return result | asked(location, questions, ask_seconds)


def asked(location: str | Path, questions: list[str], ask_seconds: float) -> dict:
    """Open the index and ask the questions one after another (the first ask apart: it warms the caches)."""
    import qa
    from qa import store

    result: dict = {}
    tick = time.perf_counter()
    latencies, found = [], 0
    with qa.open_index(location) as bot:
        result["open_s"] = time.perf_counter() - tick
        started = time.perf_counter()
        for question in questions:
            tick = time.perf_counter()
            found += bot.ask(question).found
            latencies.append(1000 * (time.perf_counter() - tick))
            if time.perf_counter() - started > ask_seconds:
                break
    result.update({"asked": len(latencies), "found": found, "first_ask_ms": latencies[0],
                   "ask_p50_ms": percentile(latencies[1:], 50), "ask_p95_ms": percentile(latencies[1:], 95),
                   "load_after_ask": os.getloadavg()[0]})
    if not str(location).startswith("milvus"):
        manifest = store.read_manifest(Path(location))
        result["dense"] = manifest.dense.model_dump()
        if manifest.dense.kind == "ivf":
            result["dense_search"] = dense_alone(Path(location), questions)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def dense_alone(index_dir: Path, questions: list[str]) -> dict:
    """qa's IVF index against exact search over the same vectors, one query at a time."""
    import faiss

    from qa import store
    from qa.dense import DenseIndex

    manifest = store.read_manifest(index_dir)
    generation = store.generation_dir(index_dir, manifest, verify_limit=0)  # sizes checked, no file hashed
    dense = DenseIndex.load(generation / store.DENSE, layout=manifest.dense)
    queries = embedded_questions(index_dir, questions)
    ivf_ms, ivf_scores, _ = timed_search(dense.faiss, queries, 10)
    exact = faiss.IndexFlatIP(dense.dim)
    exact.add(dense.contents()[1])
    exact_ms, exact_scores, _ = timed_search(exact, queries, 10)
    return {"vectors": len(dense), "layout": manifest.dense.model_dump(), "ivf_ms": ivf_ms, "exact_ms": exact_ms,
            "recall@10_by_score": recall_by_score(ivf_scores, exact_scores), "questions": len(queries)}


def peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_case(args: argparse.Namespace, store_kind: str, corpus: Path, questions: int) -> dict:
    """`case` in a fresh process with a time limit; on timeout, how far the build got."""
    progress_file = OUT / f".progress-{store_kind}-{corpus.name}.json"
    progress_file.unlink(missing_ok=True)
    result_file = OUT / f".result-{store_kind}-{corpus.name}.json"
    result_file.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.scale.ann", "--case", store_kind, "--case-corpus", str(corpus),
               "--vectors-from", str(args.vectors_from), "--questions", str(questions),
               "--ask-seconds", str(args.ask_seconds), "--case-out", str(result_file)] + (["--reuse"] if args.reuse else [])
    say(f"{store_kind} on {corpus.name}: {'asking' if args.reuse else 'building'}")
    started = time.perf_counter()
    try:
        subprocess.run(command, cwd=REPO, timeout=args.timeout, check=True)
        return json.loads(result_file.read_text())
    except subprocess.TimeoutExpired:
        where = json.loads(progress_file.read_text()) if progress_file.exists() else {}
        return {"store": store_kind, "corpus": corpus.name, "timeout_s": args.timeout, "progress": where,
                "wall_s": time.perf_counter() - started}
    except subprocess.CalledProcessError as exc:
        return {"store": store_kind, "corpus": corpus.name, "error": f"exit {exc.returncode}",
                "wall_s": time.perf_counter() - started}


def render(figures: dict) -> str:
    lines = []
    if "vectors" in figures:
        v = figures["vectors"]
        lines.append(f"Dense search alone on {v['vectors']:,} real distinct vectors, {v['questions']} questions, "
                     f"k=10, one thread (load {v['load']:.2f}):")
        lines.append(f"{'index':<18}{'params':<34}{'build s':>9}{'ms/query':>10}{'recall@10':>11}")
        for r in v["rows"]:
            lines.append(f"{r['index']:<18}{r['params']:<34}{r['build_s']:>9.1f}{r['ms']:>10.2f}{r['recall@10']:>11.3f}")
        lines.append(f"exact over {v['tiled_vectors']:,} (the vectors tiled): {v['tiled_exact_ms']:.1f} ms/query")
        lines.append("")
    if figures.get("stores"):
        lines.append(f"{'store':<12}{'corpus':<12}{'articles':>9}{'sentences':>11}{'dense':>18}{'build s':>9}"
                     f"{'write s':>9}{'rows/s':>9}{'ask p50':>9}{'ask p95':>9}{'asked':>7}{'build RSS':>10}{'load':>6}")
        for r in figures["stores"]:
            if "timeout_s" in r or "error" in r:
                why = f"timed out after {r['timeout_s']} s at {r['progress']}" if "timeout_s" in r else r["error"]
                lines.append(f"{r['store']:<12}{r['corpus']:<12} {why}")
                continue
            d = r.get("dense")
            dense = "-" if d is None else ("exact" if d["kind"] == "flat" else f"IVF {d['nlist']}/{d['nprobe']}")
            if r.get("reused"):
                built = f"{'(built by an earlier run: asked only)':>65}"
            else:
                built = (f"{r['articles']:>9,}{r['sentences']:>11,}{dense:>18}{r['build_s']:>9.0f}{r['write_s']:>9.1f}"
                         f"{r['rows_per_s']:>9,.0f}")
            lines.append(f"{r['store']:<12}{r['corpus']:<12}{built}{r['ask_p50_ms']:>9.1f}{r['ask_p95_ms']:>9.1f}"
                         f"{r['asked']:>7}{r.get('build_peak_rss_mb', 0):>10,.0f}{r['load_after_ask']:>6.2f}")
            if "dense_search" in r:
                s = r["dense_search"]
                lines.append(f"{'':<24}dense alone: IVF {s['ivf_ms']:.1f} ms vs exact {s['exact_ms']:.1f} ms, "
                             f"recall@10 by score {s['recall@10_by_score']:.3f} ({s['questions']} questions)")
    lines.append("command: " + figures["command"])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=SCALE / "corpora" / "reuters",
                        help="the Reuters JSONL folder bench.scale writes (default: %(default)s)")
    parser.add_argument("--vectors-from", type=Path, default=SCALE / "index-reuters",
                        help="an embedded index of that corpus, whose vectors the builds reuse (default: %(default)s)")
    parser.add_argument("--also", type=Path, action="append", default=None,
                        help="more embedded indexes whose vectors join part 1 (default: bench/out/scale/index-bbc)")
    parser.add_argument("--copies", type=int, default=9, help="copies of the corpus for the large size (default: 9)")
    parser.add_argument("--questions", type=int, default=50, help="titles asked of each embedded index (default: 50)")
    parser.add_argument("--lite-questions", type=int, default=10, help="titles asked of Milvus Lite (default: 10)")
    parser.add_argument("--ask-seconds", type=float, default=180, help="stop asking one store after this (default: 180)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for one build and its questions (default: 600)")
    parser.add_argument("--parts", default="vectors,stores", help="which parts to run (default: vectors,stores)")
    parser.add_argument("--stores", default="embedded,milvus-lite", help="which stores (default: both)")
    parser.add_argument("--sizes", default="1x,large", help="1x: the 19k index; large: --copies times it (default: both)")
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "out" / "ann.json",
                        help="where the figures go (default: %(default)s)")
    parser.add_argument("--reuse", action="store_true",
                        help="ask the embedded indexes an earlier run built again, without building them")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--case-corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--case-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    titles = [q["question"] for q in json.loads((SCALE / "questions.json").read_text())]
    if args.case:
        result = case(args.case, args.case_corpus, args.vectors_from, titles[: args.questions], args.ask_seconds,
                      OUT / f".progress-{args.case}-{args.case_corpus.name}.json", args.reuse)
        args.case_out.write_text(json.dumps(result, indent=2))
        return
    if not (args.vectors_from / "manifest.json").exists():
        sys.exit(f"{args.vectors_from} is not a built index: run `python -m bench.scale.run --only build` first")
    figures: dict = {"command": " ".join(["python -m bench.scale.ann", *sys.argv[1:]]), "cpus": os.cpu_count(),
                     "started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_at_start": os.getloadavg()[0]}
    json_path = args.json
    if "vectors" in args.parts:
        also = args.also if args.also is not None else [p for p in [SCALE / "index-bbc"] if (p / "manifest.json").exists()]
        figures["vectors"] = part_vectors([args.vectors_from, *also], titles, args.copies)
        json_path.write_text(json.dumps(figures, indent=2))
    if "stores" in args.parts:
        figures["stores"] = []
        sizes = {"1x": write_corpus(args.corpus, OUT / "reuters-1x", 1),
                 "large": write_corpus(args.corpus, OUT / f"reuters-{args.copies}x", args.copies)}
        for size in args.sizes.split(","):
            for store_kind in args.stores.split(","):
                n = args.questions if store_kind == "embedded" else args.lite_questions
                figures["stores"].append(run_case(args, store_kind, sizes[size], n))
                say(f"  {figures['stores'][-1].get('ask_p50_ms', figures['stores'][-1])}")
                json_path.write_text(json.dumps(figures, indent=2))
    print(render(figures))


if __name__ == "__main__":
    main()
