"""The parts of bench/scale/run.py that must run in a fresh process: builds, queries, cold start, encoders.

Each probe writes its figures as JSON, with its own peak RSS, to the file named last on its command line;
bench/scale/run.py starts it, reads the file and adds the wall and CPU time from os.wait4. By hand:

    .venv/bin/python -m bench.scale.probes build CORPUS INDEX [--rebuild] OUT.json
    .venv/bin/python -m bench.scale.probes query INDEX QUESTIONS.json OUT.json
    .venv/bin/python -m bench.scale.probes cold INDEX QUESTION OUT.json
    .venv/bin/python -m bench.scale.probes encode SENTENCES.json ROUNDS OUT.json
    .venv/bin/python -m bench.scale.probes int8 OUT.json
    .venv/bin/python -m bench.scale.probes cli COMMAND... OUT.json
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from bench import OUT
from bench.common.metrics import percentile

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _rss_mb() -> float:
    """Peak RSS of this process so far (VmHWM). Not ru_maxrss: that one starts from the RSS of the parent
    at fork, so a child of a large bench process would report the parent's size."""
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def _ms(seconds: list[float]) -> dict[str, float]:
    values = [s * 1e3 for s in seconds]
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "mean": sum(values) / len(values),
            "n": len(values)}


def build(corpus: str, index: str, rebuild: bool) -> dict:
    """Build or update an index, as `qa index` does; the IndexReport without its list of skipped files."""
    import qa

    tick = time.perf_counter()
    report = qa.build_index(corpus, index, rebuild=rebuild)
    figures = report.model_dump(exclude={"skipped"})
    figures.update(skipped=len(report.skipped), call_seconds=time.perf_counter() - tick)
    return figures


def query(index: str, questions_file: str) -> dict:
    """Warm latency of QA.ask and QA.search, then of each retrieval step alone, on an open index.

    Questions are {"question", "doc_id"} records; a hit is an answer (or a top-10 passage) from that article.
    """
    import qa
    from qa import store
    from qa.dense import DenseIndex
    from qa.embedding import Embedder
    from qa.fusion import DENSE_DEPTH, LEXICAL_DEPTH
    from qa.lexical import LexicalIndex

    questions = json.loads(Path(questions_file).read_text(encoding="utf-8"))
    tick = time.perf_counter()
    bot = qa.open_index(index)
    open_s = time.perf_counter() - tick
    for q in questions[:5]:
        bot.ask(q["question"])
        bot.search(q["question"])

    ask_s, search_s, found, ask_hits, search_hits = [], [], 0, 0, 0
    for q in questions:
        tick = time.perf_counter()
        answer = bot.ask(q["question"])
        ask_s.append(time.perf_counter() - tick)
        found += answer.found
        ask_hits += bool(answer.citation and answer.citation.doc_id == q["doc_id"])
    for q in questions:
        tick = time.perf_counter()
        passages = bot.search(q["question"], k=10)
        search_s.append(time.perf_counter() - tick)
        search_hits += any(p.doc_id == q["doc_id"] for p in passages)
    rss_queries = _rss_mb()
    bot.close()

    # Each step on its own, as fusion.retrieve calls it: one question embedded, FAISS top DENSE_DEPTH
    # sentences, BM25 top LEXICAL_DEPTH passages.
    generation = store.generation_dir(Path(index), store.read_manifest(Path(index)))
    embedder = Embedder(store.model_dir(Path(index)))
    dense = DenseIndex.load(generation / store.DENSE)
    lexical = LexicalIndex.load(generation / store.LEXICAL)
    embed_s, faiss_s, bm25_s = [], [], []
    for q in questions:
        tick = time.perf_counter()
        vector = embedder.encode([q["question"]])
        embed_s.append(time.perf_counter() - tick)
        tick = time.perf_counter()
        dense.search(vector, DENSE_DEPTH)
        faiss_s.append(time.perf_counter() - tick)
        tick = time.perf_counter()
        lexical.search(q["question"], LEXICAL_DEPTH)
        bm25_s.append(time.perf_counter() - tick)
    n = len(questions)
    return {
        "questions": n, "open_s": open_s, "ask_ms": _ms(ask_s), "search_ms": _ms(search_s),
        "answered": found / n, "ask_cites_own_article": ask_hits / n, "search_own_article_top10": search_hits / n,
        "embed_ms": _ms(embed_s), "faiss_ms": _ms(faiss_s), "bm25_ms": _ms(bm25_s), "vectors": len(dense),
        "rss_after_queries_mb": rss_queries,
    }


def cold(index: str, question: str) -> dict:
    """What `qa ask` pays in a fresh process, step by step.

    The model and the index are first loaded on their own to split the cost, then `qa.open_index` loads
    both again (from the page cache) the way the CLI does; `answer` is the first ask of the process.
    """
    started = time.perf_counter()
    import bm25s  # noqa: F401
    import faiss  # noqa: F401
    import onnxruntime  # noqa: F401
    import Stemmer  # noqa: F401
    import tokenizers  # noqa: F401

    import qa
    import qa.cli
    from qa import store
    from qa.catalog import Catalog
    from qa.dense import DenseIndex
    from qa.embedding import Embedder
    from qa.lexical import LexicalIndex

    steps = {"imports": time.perf_counter() - started}
    root = Path(index)
    tick = time.perf_counter()
    Embedder(store.model_dir(root))
    steps["model_load"] = time.perf_counter() - tick
    tick = time.perf_counter()
    generation = store.generation_dir(root, store.read_manifest(root))
    catalog = Catalog(generation / store.CATALOG, readonly=True)
    DenseIndex.load(generation / store.DENSE)
    LexicalIndex.load(generation / store.LEXICAL)
    catalog.close()
    steps["index_open"] = time.perf_counter() - tick
    tick = time.perf_counter()
    bot = qa.open_index(root)
    steps["open_index"] = time.perf_counter() - tick
    tick = time.perf_counter()
    bot.ask(question)
    steps["answer"] = time.perf_counter() - tick
    tick = time.perf_counter()
    bot.ask(question)
    steps["answer_again"] = time.perf_counter() - tick
    steps["cli_path"] = steps["imports"] + steps["open_index"] + steps["answer"]
    return steps


def encode(sentences_file: str, rounds: str = "1") -> dict:
    """Embedding rates of the bare model and of ours on the same sentences (bench/experiments/encode_speed.py)."""
    from bench.experiments.encode_speed import measure

    return measure(json.loads(Path(sentences_file).read_text(encoding="utf-8")), rounds=int(rounds))


def int8(data: str = "/work/shared/evaldev") -> dict:
    """Sentence retrieval quality of the int8 model against fp32 on the dev sets: the MiniLM-cosine baseline
    of bench/answers/baselines.py with each model, scored as bench/answers/evaluate.py scores it (top sentence holds a gold
    answer; top sentence from a gold article)."""
    import logging
    import tempfile

    import bm25s  # noqa: F401 - sets its own logger to DEBUG on import, and the int8 export turns logging on

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    from bench.answers.baselines import SentenceBaselines
    from bench.common.evalsets import load_set
    from bench.answers.evaluate import prepare_corpus
    from bench.common.metrics import contains_answer

    from qa.embedding import export_model

    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        models = {}
        for name, quantize in (("fp32", False), ("int8", True)):
            models[name] = Path(tmp) / name
            export_model(models[name], quantize=quantize)
        for set_name in ("seed", "realtimeqa", "squad", "quail"):
            evalset = load_set(set_name, Path(data))
            corpus = prepare_corpus(evalset, OUT / "scale" / "int8" / set_name)
            scored = [q for q in evalset.questions if q.answers]
            out[set_name] = {"questions": len(scored)}
            for name, model_dir in models.items():
                baseline = SentenceBaselines(corpus, model_dir, Path(tmp) / f"cache-{set_name}-{name}")
                hits = [baseline.dense(q.question) for q in scored]
                out[set_name][name] = {
                    "acc@1": sum(contains_answer(h.sentence, q.answers) for h, q in zip(hits, scored)) / len(scored),
                    "doc@1": sum(evalset.is_gold(q, h.doc_id, h.url) for h, q in zip(hits, scored)) / len(scored),
                }
    return out


def cli(*command: str) -> dict:
    """Run a command (the `qa` CLI) from this small process, so that wait4's peak RSS is the command's own."""
    import subprocess

    tick = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return {"wall_s": time.perf_counter() - tick, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    if sys.argv[1:2] in (["-h"], ["--help"]):
        print(__doc__)
        return
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    command, *args = sys.argv[1:]
    *args, out = args
    if command == "build":
        figures = build(args[0], args[1], rebuild="--rebuild" in args)
    elif command == "query":
        figures = query(*args)
    elif command == "cold":
        figures = cold(*args)
    elif command == "encode":
        figures = encode(*args)
    elif command == "int8":
        figures = int8(*args)
    elif command == "cli":
        figures = cli(*args)
    else:
        raise SystemExit(f"unknown probe {command!r}; see the module docstring")
    if command != "cli":
        figures["peak_rss_mb"] = _rss_mb()
    Path(out).write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
