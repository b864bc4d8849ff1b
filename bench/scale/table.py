"""The table of bench/scale/run.py, from its figures; run alone to print a saved run again.

    .venv/bin/python -m bench.scale.table [bench/out/scale.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import OUT
from qa.indexer import TIMED_STAGES

STAGES = TIMED_STAGES  # the keys of IndexReport.stage_seconds
BUILD_SHARE_TARGET = 0.8
COLD_TARGET_S = 4.0
QUERY_RSS_TARGET_MB = 1536


def _rate(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "-"


def _build(figures: dict, lines: list[str]) -> None:
    builds = figures.get("build", {})
    if not builds:
        return
    names = list(builds)
    lines.append("\nBUILD (a fresh process per corpus, from scratch)")
    lines.append(f"{'':<24}" + "".join(f"{n:>32}" for n in names))
    for key in ("articles", "passages", "sentences", "embedded", "skipped"):
        lines.append(f"{key:<24}" + "".join(f"{builds[n][key]:>32,}" for n in names))
    lines.append(f"{'stage':<24}" + "".join(f"{'s':>10}{'articles/s':>11}{'passages/s':>11}" for _ in names))
    for stage in (*STAGES, "total"):
        row = f"{stage:<24}"
        for n in names:
            b = builds[n]
            s = b["seconds"] if stage == "total" else b["stage_seconds"].get(stage, 0.0)
            row += f"{s:>10.2f}{_rate(b['articles'], s):>11}{_rate(b['passages'], s):>11}"
        lines.append(row)
    lines.append(f"{'process wall s':<24}" + "".join(f"{builds[n]['wall_s']:>32.1f}" for n in names))
    lines.append(f"{'process CPU s':<24}" + "".join(f"{builds[n]['cpu_s']:>32.1f}" for n in names))
    lines.append(f"{'sentences/s (embed)':<24}"
                 + "".join(f"{_rate(builds[n]['embedded'], builds[n]['stage_seconds']['embed']):>32}" for n in names))
    for part in ("catalog", "faiss", "bm25", "model", "total"):
        lines.append(f"{'disk MB ' + part:<24}" + "".join(f"{builds[n]['disk_mb'][part]:>32.1f}" for n in names))
    lines.append(f"{'peak RSS MB':<24}" + "".join(f"{builds[n]['peak_rss_mb']:>32.0f}" for n in names))


def _encode(figures: dict, lines: list[str], verdicts: list[str]) -> None:
    encode = figures.get("encode")
    if not encode:
        return
    bare = encode["encoders"][0]["texts_per_s"]
    lines.append(f"\nEMBEDDING ({figures['corpora']['sentence_sample']:,} Reuters sentences sampled at random, "
                 f"batch 32, one process, best of {figures['corpora'].get('encode_rounds', 1)} rounds taken in turns)")
    lines.append(f"{'encoder':<36}{'texts/s':>9}{'x bare':>8}{'mean cos':>10}{'min cos':>9}")
    for row in encode["encoders"]:
        lines.append(f"{row['name']:<36}{row['texts_per_s']:>9.0f}{row['texts_per_s'] / bare:>8.2f}"
                     f"{row['mean_cos']:>10.4f}{row['min_cos']:>9.4f}")
    reuters = figures.get("build", {}).get("reuters")
    if reuters:
        rate = reuters["embedded"] / reuters["stage_seconds"]["embed"]
        share = rate / bare
        lines.append(f"{'build, embed stage (Reuters)':<36}{rate:>9.0f}{share:>8.2f}   target >= {BUILD_SHARE_TARGET:.2f}"
                     " x bare (rates from different moments: other load shifts them)")
        ours = next(r["texts_per_s"] for r in encode["encoders"] if r["name"].startswith("qa Embedder, ONNX fp32"))
        lines.append(f"{'':<36}{'':>9}{rate / ours:>8.2f}   x qa Embedder on the sample")
        verdicts.append(_verdict(share >= BUILD_SHARE_TARGET, f"build embeds at {share:.2f} x the bare model's rate",
                                 f">= {BUILD_SHARE_TARGET}"))
    lines.append(f"{'ONNX Runtime threads':<36}{'question ms':>12}{'batch texts/s':>15}")
    for row in encode["threads"]:
        lines.append(f"{row['threads']:<36}{row['question_ms']:>12.2f}{row['texts_per_s']:>15.0f}")
    lines.append("FAISS, 1 search over 10k vectors: "
                 + ", ".join(f"{r['threads']} thread(s) {r['search_ms']:.3f} ms" for r in encode["faiss"]))


def _incremental(figures: dict, lines: list[str], verdicts: list[str]) -> None:
    rows = figures.get("incremental")
    full = figures.get("build", {}).get("reuters")
    if not rows or not full:
        return
    lines.append(f"\nINCREMENTAL (copy of the Reuters index, a fresh process per change; full build "
                 f"{full['seconds']:.1f} s in build_index, {full['wall_s']:.1f} s wall)")
    if figures["plan"]["name"] == "quick":
        lines.append("quick run: on so small a base index the fixed costs dominate and the % targets say little")
    lines.append(f"{'change':<14}{'embedded':>9}{'build s':>9}{'% full':>8}{'wall s':>8}{'% full':>8}"
                 + "".join(f"{s:>9}" for s in ("scan", "model", "embed", "catalog", "faiss", "bm25", "publish"))
                 + f"{'CPU s':>8}{'RSS MB':>8}")
    for name, r in rows.items():
        share, wall_share = r["seconds"] / full["seconds"], r["wall_s"] / full["wall_s"]
        stages = r["stage_seconds"]
        lines.append(f"{name:<14}{r['embedded']:>9,}{r['seconds']:>9.2f}{share:>8.1%}{r['wall_s']:>8.1f}"
                     f"{wall_share:>8.1%}"
                     + "".join(f"{stages.get(s, 0.0):>9.2f}" for s in ("scan", "model", "embed", "catalog", "faiss",
                                                                       "bm25", "publish"))
                     + f"{r['cpu_s']:>8.1f}{r['peak_rss_mb']:>8.0f}")
        target = r.get("target_share")
        if target:
            verdicts.append(_verdict(share < target, f"{name}: {share:.1%} of the full build (wall {wall_share:.1%})",
                                     f"< {target:.0%}"))
    bm25 = figures.get("bm25")
    if bm25:
        r = bm25["rebuild"]
        lines.append(f"BM25 rebuild from the catalog's cached tokens at {bm25['passages']:,} passages: read "
                     f"{r['read_cached_tokens_s']:.2f} s + matrix {r['build_matrix_s']:.2f} s + save {r['save_s']:.2f} s"
                     f" = {r['total_s']:.2f} s; tokenizing every passage again would add {r['retokenize_all_s']:.2f} s"
                     f" (cache identical to a fresh tokenize: {r['cache_matches_retokenizing']})")


def _query(figures: dict, lines: list[str], verdicts: list[str]) -> None:
    q = figures.get("query")
    if not q:
        return
    lines.append(f"\nQUERY ({q['questions']} Reuters titles used as typed questions, warm, one process; "
                 f"{q['vectors']:,} sentence vectors)")
    lines.append(f"{'call':<38}{'p50 ms':>9}{'p95 ms':>9}")
    for label, key in (("QA.ask", "ask_ms"), ("QA.search (k=10)", "search_ms"), ("  embed the question", "embed_ms"),
                       ("  FAISS exact search, top 100", "faiss_ms"), ("  BM25 search, top 50", "bm25_ms")):
        lines.append(f"{label:<38}{q[key]['p50']:>9.2f}{q[key]['p95']:>9.2f}")
    lines.append(f"answered {q['answered']:.0%}; ask cites the title's own story {q['ask_cites_own_article']:.0%}; "
                 f"search has it in the top 10 {q['search_own_article_top10']:.0%}; index opened in {q['open_s']:.2f} s")
    verdicts.append(_verdict(q["ask_ms"]["p50"] < 100, f"QA.ask p50 {q['ask_ms']['p50']:.1f} ms", "< 100 ms"))
    bm25 = figures.get("bm25")
    if bm25:
        lines.append(f"{'BM25 library, same ' + format(bm25['passages'], ',') + ' passages':<38}{'p50 ms':>9}"
                     f"{'p95 ms':>9}{'index s':>9}{'own story top 10':>18}")
        for name, r in bm25["libraries"].items():
            lines.append(f"{name:<38}{r['p50_ms']:>9.2f}{r['p95_ms']:>9.2f}{r['index_s']:>9.2f}"
                         f"{r['own_article_top10']:>18.0%}")


def _cold(figures: dict, lines: list[str], verdicts: list[str]) -> None:
    cold = figures.get("cold")
    if not cold:
        return
    s = cold["steps"]
    lines.append("\nCOLD START (`qa ask` on the Reuters index in a fresh process; files in the page cache)")
    lines.append(f"imports {s['imports']:.2f} s | model load {s['model_load']:.2f} s | index open {s['index_open']:.2f} s"
                 f" | open_index (both) {s['open_index']:.2f} s | first answer {s['answer']:.2f} s"
                 f" (second {s['answer_again']:.3f} s) | imports + open_index + answer {s['cli_path']:.2f} s")
    walls = [r["wall_s"] for r in cold["cli"]]
    lines.append("real `qa ask` wall: " + ", ".join(f"{w:.2f} s" for w in walls)
                 + f"; peak RSS {max(r['peak_rss_mb'] for r in cold['cli']):.0f} MB")
    verdicts.append(_verdict(max(walls) < COLD_TARGET_S, f"`qa ask` cold wall {max(walls):.2f} s (worst of "
                             f"{len(walls)})", f"< {COLD_TARGET_S:.0f} s"))


def _memory(figures: dict, lines: list[str], verdicts: list[str]) -> None:
    q = figures.get("query")
    if not q:
        return
    builds = figures.get("build", {})
    lines.append("\nMEMORY (peak RSS of each process: its own VmHWM, or wait4 from a small parent for the CLI)")
    for name, b in builds.items():
        lines.append(f"  build {name:<10}{b['peak_rss_mb']:>8.0f} MB")
    lines.append(f"  query process {q['peak_rss_mb']:>8.0f} MB ({q['rss_after_queries_mb']:.0f} MB after its asks and "
                 "searches, before it loads the pieces again for the step timings)")
    verdicts.append(_verdict(q["rss_after_queries_mb"] < QUERY_RSS_TARGET_MB,
                             f"query process {q['rss_after_queries_mb']:.0f} MB", "< 1.5 GB"))


def _dense(figures: dict, lines: list[str]) -> None:
    d = figures.get("dense")
    if not d:
        return
    lines.append(f"\nDENSE INDEX ({d['vectors']:,} vectors, {d['vector_mb']:.0f} MB; one thread, top {d['k']})")
    lines.append(f"exact (IndexFlatIP): {d['exact_ms']:.2f} ms per query; {d['exact_ms_per_million']:.1f} ms per "
                 f"million vectors ({d['exact_4x_ms']:.2f} ms at 4x)")
    switch = d["switch_at_vectors"]
    lines.append(f"exact search stays within the ask budget ({d['budget_ms']:.0f} ms left once the rest of ask is paid) "
                 f"up to ~{switch:,} vectors" if switch else "exact search time did not grow with size here")
    lines.append(f"HNSW (M=32, efConstruction=80): built in {d['hnsw_build_s']:.1f} s, {d['hnsw_mb']:.0f} MB")
    keys = [k for k in d["hnsw"][0] if k != "efSearch"]
    lines.append(f"{'efSearch':<10}" + "".join(f"{k:>13}" for k in keys))
    for row in d["hnsw"]:
        lines.append(f"{row['efSearch']:<10}" + "".join(f"{row[k]:>13.3f}" for k in keys))


def _int8(figures: dict, lines: list[str]) -> None:
    int8 = figures.get("int8")
    if not int8:
        lines.append("\nINT8 QUALITY: not measured in this run (--skip-int8-quality); fp32 stays the default")
        return
    lines.append("\nINT8 QUALITY (MiniLM-cosine sentence retrieval on the dev sets, bench/answers/baselines.py)")
    lines.append(f"{'set':<12}{'questions':>10}{'fp32 acc@1':>12}{'int8 acc@1':>12}{'fp32 doc@1':>12}{'int8 doc@1':>12}")
    worst = 0.0
    for name, r in int8.items():
        if not isinstance(r, dict) or "fp32" not in r:
            continue
        worst = min(worst, r["int8"]["acc@1"] - r["fp32"]["acc@1"], r["int8"]["doc@1"] - r["fp32"]["doc@1"])
        lines.append(f"{name:<12}{r['questions']:>10}{r['fp32']['acc@1']:>12.1%}{r['int8']['acc@1']:>12.1%}"
                     f"{r['fp32']['doc@1']:>12.1%}{r['int8']['doc@1']:>12.1%}")
    lines.append(f"largest loss: {-worst * 100:.1f} points -> int8 "
                 + ("within 1 point" if worst >= -0.01 else "loses more than 1 point: fp32 stays the default"))


def _verdict(ok: bool, what: str, target: str) -> str:
    return f"  {'PASS' if ok else 'MISS'}  {what} (target {target})"


def render(figures: dict) -> str:
    """The whole table as text, from the figures bench/scale/run.py saves."""
    c = figures.get("corpora", {})
    lines = [f"Scale bench ({figures['plan']['name']}): {c.get('reuters', 0):,} Reuters + {c.get('bbc', 0):,} BBC stories, "
             f"{c.get('questions', 0)} questions, {figures['cpus']} CPUs",
             "load average per step: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.get("load", {}).items())]
    verdicts: list[str] = []
    _build(figures, lines)
    _encode(figures, lines, verdicts)
    _incremental(figures, lines, verdicts)
    _query(figures, lines, verdicts)
    _cold(figures, lines, verdicts)
    _memory(figures, lines, verdicts)
    _dense(figures, lines)
    _int8(figures, lines)
    lines.append("\nTARGETS")
    lines.extend(verdicts)
    lines.append(f"\ncommand: .venv/bin/{figures['command']}")
    for rerun in figures.get("reruns", []):
        lines.append(f"then:    .venv/bin/{rerun}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("figures", nargs="?", type=Path, default=OUT / "scale.json",
                        help="the JSON figures bench/scale/run.py wrote (default: bench/out/scale.json)")
    args = parser.parse_args()
    if not args.figures.is_file():
        parser.error(f"{args.figures} does not exist: run `python -m bench.scale.run` (or --quick) first")
    print(render(json.loads(args.figures.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
