"""Evaluate qa's answers on the development sets, next to two sentence-retrieval baselines.

For each set: write its articles as a JSONL corpus under bench/out/<set>/corpus/, build (incrementally) a
qa index in bench/out/<set>/index, ask every question, and score qa, BM25-over-sentences and
MiniLM-cosine-over-sentences on the same articles and sentence split. Prints one table row per set and
system, a calibration table for qa's confidence, and the abstention threshold that would have been best.
Per-question details go to bench/out/<set>/predictions.jsonl for tuning the answerer.

    .venv/bin/python -m bench.answers.evaluate                        # all sets
    .venv/bin/python -m bench.answers.evaluate --sets seed,quail --json bench/out/figures.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench import OUT, REPO
import qa
from bench.common.corpora import write_jsonl
from bench.common.evalsets import DEFAULT_DATA, LOADERS, EvalSet, Question, load_set
from bench.common.metrics import (
    best_thresholds,
    calibration_bins,
    contains_answer,
    exact_match,
    f1_score,
    percentile,
)
from qa import store

BASELINES = ("bm25", "dense")
# qa with the shipped weights, and the ablation: the same answerer fitted without the reader, and
# with the reader's scores alone (bench/fit/fit_answerer.py writes both to bench/out/weights/)
VARIANTS: dict[str, Path | None] = {"qa": None, "qa-ranker": OUT / "weights" / "ranker.json", "qa-reader": OUT / "weights" / "reader.json"}
MRR_DEPTH = 10
CONF_HIGH = 0.8


def prepare_corpus(evalset: EvalSet, out_dir: Path) -> Path:
    """The corpus folder to index: the set's own folder, or its articles written as one JSONL file.

    The file is only rewritten when its content changes, so a rerun finds the index up to date.
    """
    if evalset.corpus_dir is not None:
        return evalset.corpus_dir
    corpus = out_dir / "corpus"
    write_jsonl(evalset.articles, corpus / f"{evalset.name}.jsonl")
    return corpus


def _held_out(evalset: EvalSet, q: Question, data: Path) -> bool:
    """Was this question's article (SQuAD title, QuAIL article) or week (RealTimeQA) kept out of the
    reader's training? The seed and TrecQA DEV never were in it."""
    from bench.fit.reader_data import held_out

    if evalset.name in ("seed", "trecqa"):
        return True
    if evalset.name == "squad":
        title = next(a["url"] for a in evalset.articles if a["id"] == q.docs[0]).rsplit("/", 1)[-1]
        return held_out("squad", title, data)
    if evalset.name == "realtimeqa":
        return held_out("realtimeqa", q.qid, data)
    return held_out(evalset.name, q.docs[0], data) if q.docs else True


def _scored_sentences(bot: qa.QA, question: str, n: int = MRR_DEPTH) -> list:
    """qa's scored candidate sentences, the ones `ask` decides between (`QA.candidates`), for the feature
    dump: an Answer that declines carries neither its best sentence nor any features, and the threshold
    cannot be tuned without them. Not timed."""
    return bot.candidates(question)[:n]


def _reciprocal_rank(evalset: EvalSet, q: Question, ranked: list[tuple[str, str | None]]) -> float:
    """1/rank of the first (sentence, doc_id) that holds a gold answer from a gold article, 0 if none."""
    for rank, (text, doc_id) in enumerate(ranked[:MRR_DEPTH], 1):
        if evalset.is_right(q, text, doc_id):
            return 1.0 / rank
    return 0.0


def _qa_record(evalset: EvalSet, q: Question, answer: qa.Answer, ms: float, scored: list | None) -> dict:
    cit = answer.citation
    short = answer.short_answer.text if answer.short_answer else None
    # what qa would have quoted had it not declined: lets the threshold sweep judge declined questions
    # (unknown for a decline without the replay: its candidates start at the second-best sentence)
    if answer.found:
        would_be = answer.sentence
    elif scored is not None:
        would_be = scored[0].sentence.text if scored else ""
    else:
        would_be = None
    rec = {
        "found": answer.found,
        "message": answer.message,
        "sentence": answer.sentence,
        "short_answer": short,
        "confidence": answer.confidence,
        "doc_id": cit.doc_id if cit else None,
        "title": cit.title if cit else None,
        "latency_ms": round(ms, 2),
        "would_be_sentence": would_be,
        "would_be_correct": None if would_be is None else bool(q.answers and contains_answer(would_be, q.answers)),
        "candidates": [
            {"sentence": c.sentence, "score": c.score, "doc_id": c.citation.doc_id,
             "gold_doc": evalset.is_gold(q, c.citation.doc_id, c.citation.url),
             "correct": bool(q.answers) and contains_answer(c.sentence, q.answers)}
            for c in answer.candidates
        ],
        "related": [
            {"doc_id": p.doc_id, "score": p.score, "lexical_rank": p.lexical_rank, "dense_rank": p.dense_rank,
             "gold_doc": evalset.is_gold(q, p.doc_id, None) or p.doc_id in q.docs}
            for p in answer.related
        ],
        "scored": None if scored is None else [
            {"sentence": x.sentence.text, "doc_id": x.sentence.doc_id, "probability": x.probability,
             "features": x.features, "gold_doc": evalset.is_gold(q, x.sentence.doc_id, None),
             "correct": bool(q.answers) and contains_answer(x.sentence.text, q.answers)}
            for x in scored
        ],
    }
    rec.update(_scores(evalset, q, answer.sentence if answer.found else None,
                       cit.doc_id if cit and answer.found else None, cit.url if cit else None, short))
    if scored is not None:
        rec["rr"] = _reciprocal_rank(evalset, q, [(x.sentence.text, x.sentence.doc_id) for x in scored])
    return rec


def _scores(evalset: EvalSet, q: Question, sentence: str | None, doc_id: str | None, url: str | None,
            short: str | None) -> dict:
    scored = bool(q.answers)
    return {
        "correct": scored and sentence is not None and contains_answer(sentence, q.answers),
        "cite_ok": scored and sentence is not None and evalset.is_gold(q, doc_id, url),
        "em": exact_match(short, q.answers) if scored and short else 0.0,
        "f1": f1_score(short, q.answers) if scored and short else 0.0,
    }


def _baseline_record(evalset: EvalSet, q: Question, hits: list, ms: float) -> dict:
    hit = hits[0] if hits else None
    rec: dict[str, Any] = {
        "found": hit is not None, "sentence": hit.sentence if hit else None,
        "doc_id": hit.doc_id if hit else None, "score": hit.score if hit else None, "latency_ms": round(ms, 2),
        "rr": _reciprocal_rank(evalset, q, [(h.sentence, h.doc_id) for h in hits])}
    rec.update(_scores(evalset, q, rec["sentence"], rec["doc_id"], hit.url if hit else None, None))
    return rec


def summarize(records: list[dict], system: str) -> dict:
    """Figures of one system over one set's per-question records."""
    scored = [r for r in records if r["gold_answers"]]
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    res = lambda r: r[system]  # noqa: E731
    out: dict[str, float | None] = {
        "n": len(records),
        "scored": len(scored),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "acc@1": _mean(res(r)["correct"] for r in scored),
        "citation": _mean(res(r)["cite_ok"] for r in scored),
        "abstain_unanswerable": _mean(not res(r)["found"] for r in unanswerable),
        "false_abstain": _mean(not res(r)["found"] for r in answerable),
        "mrr": _mean(res(r).get("rr", math.nan) for r in scored),
    }
    held = [r for r in scored if r["held_out"]]
    out["held_out_n"] = len(held)
    out["held_out_acc@1"] = _mean(res(r)["correct"] for r in held)
    if system.startswith("qa"):
        # the sentence qa ranks first even when it declines: its ranking, apart from its abstention
        top1 = [res(r)["would_be_correct"] for r in scored]
        out["top1"] = math.nan if None in top1 else _mean(top1)
        held_top1 = [res(r)["would_be_correct"] for r in held]
        out["held_out_top1"] = math.nan if None in held_top1 else _mean(held_top1)
        out["em"] = _mean(res(r)["em"] for r in scored)
        out["f1"] = _mean(res(r)["f1"] for r in scored)
        high = [r for r in scored if res(r)["found"] and res(r)["confidence"] >= CONF_HIGH]
        out["acc@conf>=0.8"] = _mean(res(r)["correct"] for r in high)
        out["n@conf>=0.8"] = len(high)
        # wrong confident answers to unanswerable questions are errors too
        high_un = [r for r in unanswerable if res(r)["found"] and res(r)["confidence"] >= CONF_HIGH]
        out["unanswerable@conf>=0.8"] = len(high_un)
    else:
        out["top1"] = out["acc@1"]
        out["held_out_top1"] = out["held_out_acc@1"]
        out["em"] = out["f1"] = None
    warm = [res(r)["latency_ms"] for r in records[1:]]
    out["p50_ms"] = percentile(warm, 50)
    out["p95_ms"] = percentile(warm, 95)
    return out


def _mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else math.nan


def run_set(evalset: EvalSet, args: argparse.Namespace) -> dict:
    """Index, ask and score one set; write its predictions.jsonl. Returns its figures."""
    out_dir = OUT / evalset.name
    corpus = prepare_corpus(evalset, out_dir)
    index_dir = out_dir / "index"
    report = qa.build_index(corpus, index_dir, rebuild=args.rebuild, progress=_progress(evalset.name))
    _log(f"[{evalset.name}] index: {report.summary()}")
    for s in report.skipped[:5]:
        _log(f"[{evalset.name}]   skipped {s.path}:{s.line}: {s.reason}")

    from bench.answers.baselines import SentenceBaselines

    tick = time.perf_counter()
    baselines = SentenceBaselines(corpus, store.model_dir(index_dir), out_dir / "cache")
    _log(f"[{evalset.name}] baselines over {len(baselines.sentences)} sentences ready in "
         f"{time.perf_counter() - tick:.1f} s")

    questions = evalset.questions[: args.limit] if args.limit else evalset.questions
    records = [{"set": evalset.name, "qid": q.qid, "question": q.question, "kind": q.kind,
                "answerable": q.answerable, "gold_answers": q.answers, "gold_docs": q.docs,
                "held_out": _held_out(evalset, q, args.data)} for q in questions]
    for rec, q in zip(records, questions):
        tick = time.perf_counter()
        hits = baselines.bm25_ranked(q.question, MRR_DEPTH)
        rec["bm25"] = _baseline_record(evalset, q, hits, (time.perf_counter() - tick) * 1000)
        tick = time.perf_counter()
        hits = baselines.dense_ranked(q.question, MRR_DEPTH)
        rec["dense"] = _baseline_record(evalset, q, hits, (time.perf_counter() - tick) * 1000)
    for system in args.systems:
        with qa.open_index(index_dir, weights=VARIANTS[system]) as bot:
            for i, (rec, q) in enumerate(zip(records, questions)):
                tick = time.perf_counter()
                answer = bot.ask(q.question)
                ms = (time.perf_counter() - tick) * 1000
                scored = _scored_sentences(bot, q.question) if args.features else None
                rec[system] = _qa_record(evalset, q, answer, ms, scored)
                if (i + 1) % 100 == 0:
                    _log(f"[{evalset.name}] {system} asked {i + 1}/{len(questions)}")

    with open(out_dir / "predictions.jsonl", "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    systems = {name: summarize(records, name) for name in (*args.systems, *BASELINES)}
    return {
        "size": {"articles": report.articles, "sentences": report.sentences, "passages": report.passages,
                 "questions": len(records), **evalset.notes},
        "index_seconds": round(report.seconds, 2),
        "systems": systems,
        "records": records,
    }


def _progress(name: str):
    last = [0.0]

    def report(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 5 or done == total:
            last[0] = now
            _log(f"[{name}] {stage} {done}/{total}")

    return report


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _fmt(value, pct: bool = True) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return f"{100 * value:.1f}" if pct else f"{value:.0f}"


def print_table(results: dict) -> None:
    """One row per set and system: the headline figures."""
    head = (f"{'set':11s} {'system':9s} {'n':>4s} {'scored':>6s} {'acc@1':>6s} {'cite':>6s} {'EM':>6s} "
            f"{'F1':>6s} {'top1':>6s} {'MRR':>5s} {'held acc/top1 (n)':>18s} {'abst-un':>7s} {'f-abst':>6s} "
            f"{'acc@c>=.8 (n)':>14s} {'p50ms':>6s} {'p95ms':>6s}")
    print(head)
    print("-" * len(head))
    for name, res in results.items():
        for system, m in res["systems"].items():
            conf = "-" if not system.startswith("qa") else f"{_fmt(m['acc@conf>=0.8'])} ({m['n@conf>=0.8']})"
            held = f"{_fmt(m['held_out_acc@1'])}/{_fmt(m['held_out_top1'])} ({m['held_out_n']})"
            print(f"{name:11s} {system:9s} {m['n']:4d} {m['scored']:6d} {_fmt(m['acc@1']):>6s} "
                  f"{_fmt(m['citation']):>6s} {_fmt(m['em']):>6s} {_fmt(m['f1']):>6s} {_fmt(m['top1']):>6s} "
                  f"{_mrr(m['mrr']):>5s} {held:>18s} "
                  f"{_fmt(m['abstain_unanswerable']):>7s} {_fmt(m['false_abstain']):>6s} {conf:>14s} "
                  f"{m['p50_ms']:6.1f} {m['p95_ms']:6.1f}")
    print("(percentages; acc@1 = quoted sentence holds a gold answer, over questions with a gold answer, a "
          "decline counting as wrong; cite = cited article is a gold one; EM/F1 = SQuAD, short answer vs gold; "
          "top1 = acc@1 of the best sentence had it never declined; MRR = mean reciprocal rank of the first right "
          "sentence in the top 10; held = acc@1/top1 on the questions whose articles "
          "(or RealTimeQA week) the reader never trained on; abst-un = declined among unanswerable; "
          "f-abst = declined among answerable; qa-ranker / qa-reader = the answerer fitted without the reader / "
          "with the reader's scores alone; latency of one ask, warm, first call excluded)")
    print()
    for name, res in results.items():
        qa_acc = res["systems"]["qa"]["acc@1"]
        best = max(("bm25", "dense"), key=lambda s: _nan_low(res["systems"][s]["acc@1"]))
        base = res["systems"][best]["acc@1"]
        ratio = qa_acc / base if base else math.nan
        res["vs_baseline"] = {"baseline": best, "ratio": ratio, "points": 100 * (qa_acc - base)}
        top1 = res["systems"]["qa"]["top1"]
        print(f"{name:11s} qa / {best} acc@1 = {ratio:.2f}x ({100 * (qa_acc - base):+.1f} points); "
              f"qa's top-1 without declining: {_fmt(top1)}% ({100 * (top1 - base):+.1f} points)")
        if name == "quail":
            m = res["systems"]["qa"]
            print(f"{'':11s} quail: {_fmt(m['abstain_unanswerable'])}% Unanswerable declined (target >= 80), "
                  f"{_fmt(1 - m['false_abstain'])}% Factual answered (target >= 70), "
                  f"acc@1 {_fmt(m['acc@1'])}% on the {m['scored']} verbatim-answer Factual questions")


def _mrr(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"


def _nan_low(v: float) -> float:
    return -1.0 if math.isnan(v) else v


def calibration(results: dict) -> dict:
    """Calibration bins and best abstention thresholds for qa, pooled over all sets."""
    records = [r for res in results.values() for r in res["records"]]
    records = [r for r in records if r["qa"]["would_be_correct"] is not None]
    pairs = [(r["qa"]["confidence"], r["qa"]["would_be_correct"]) for r in records if r["gold_answers"]]
    bins = calibration_bins(pairs)
    outcome = lambda r: ("unanswerable" if not r["answerable"]  # noqa: E731
                         else "right" if r["qa"]["would_be_correct"] else "wrong")
    sweep = best_thresholds([(r["qa"]["confidence"], outcome(r)) for r in records
                             if r["gold_answers"] or not r["answerable"]])
    print(f"qa confidence calibration, {len(pairs)} answerable questions with a gold answer, pooled "
          "(correct = the sentence qa quotes, or would quote if it declined, holds a gold answer)")
    print(f"{'confidence':>10s} {'count':>6s} {'accuracy':>8s}")
    for lo, hi, count, acc in bins:
        print(f"{lo:.1f}-{hi:.1f}    {count:6d} {_fmt(acc):>8s}")
    u, f = sweep["by_utility"], sweep["by_f1"]
    if u:
        print(f"best threshold by (right - wrong answers): conf >= {u['threshold']:.3f} -> {u['right']} right, "
              f"{u['wrong']} wrong (incl. unanswerable answered), {u['declined_unanswerable']} unanswerable declined")
        print(f"best threshold by F1(answer exactly when right): conf >= {f['threshold']:.3f} -> F1 {f['f1']:.3f}, "
              f"{f['right']} right, {f['wrong']} wrong")
    return {"bins": [{"low": lo, "high": hi, "count": c, "accuracy": a} for lo, hi, c, a in bins], **sweep}


def _command(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "-m", "bench.answers.evaluate", "--data", str(args.data), "--sets", ",".join(args.sets),
             "--systems", ",".join(args.systems), "--squad-n", str(args.squad_n)]
    if args.limit:
        parts += ["--limit", str(args.limit)]
    if args.rebuild:
        parts.append("--rebuild")
    if not args.features:
        parts.append("--no-features")
    if args.json:
        parts += ["--json", str(args.json)]
    return " ".join(shlex.quote(p) for p in parts)


def _git_head() -> str:
    """The commit qa runs at, marked when qa/ has changes not yet committed (the figures then are not
    reproducible from the commit alone)."""
    repo = REPO
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=repo, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "qa"], capture_output=True, text=True,
                               cwd=repo, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes in qa/" if dirty else "")


def _has_weights(system: str) -> bool:
    """A qa variant of VARIANTS whose weights are there (None: the shipped weights)."""
    if system not in VARIANTS:
        return False
    weights = VARIANTS[system]
    return weights is None or weights.is_file()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="evaluation data folder (read-only)")
    parser.add_argument("--sets", default=",".join(LOADERS), help=f"comma-separated, from {','.join(LOADERS)}")
    parser.add_argument("--squad-n", type=int, default=300, help="SQuAD questions sampled (seeded); 0 = all")
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions of each set")
    parser.add_argument("--rebuild", action="store_true", help="rebuild each index from scratch")
    parser.add_argument("--systems", default=None,
                        help="qa variants to run: qa (the shipped weights), qa-ranker, qa-reader (the ablation, "
                             "from bench/fit/fit_answerer.py; default: every variant whose weights exist)")
    parser.add_argument("--json", type=Path, help="write every figure as JSON to this file")
    parser.add_argument("--no-features", dest="features", action="store_false",
                        help="skip replaying qa's sentence scorer for the feature dump in predictions.jsonl")
    args = parser.parse_args(argv)
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if args.systems is None:
        args.systems = [s for s in VARIANTS if _has_weights(s)]
        if len(args.systems) < len(VARIANTS):
            print(f"skipping {[s for s in VARIANTS if s not in args.systems]}: no weights yet "
                  "(python -m bench.fit.fit_answerer writes them)", file=sys.stderr)
    else:
        args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    missing = [s for s in args.systems if not _has_weights(s)]
    if missing:
        parser.error(f"no weights for {missing}: choose from {list(VARIANTS)}; qa-ranker and qa-reader are "
                     "written by bench/fit/fit_answerer.py")
    unknown = [s for s in args.sets if s not in LOADERS]
    if unknown:
        parser.error(f"unknown set(s) {unknown}; choose from {list(LOADERS)}")

    started = time.perf_counter()
    results = {}
    for name in args.sets:
        evalset = load_set(name, args.data, args.squad_n)
        _log(f"[{name}] {len(evalset.questions)} questions, "
             f"{len(evalset.articles) if evalset.articles else 'folder'} articles")
        results[name] = run_set(evalset, args)

    print()
    print_table(results)
    print()
    calib = calibration(results)
    print()
    sizes = {name: res["size"] for name, res in results.items()}
    for name, size in sizes.items():
        print(f"{name:11s} size: {json.dumps(size)}")
    print(f"wall time {time.perf_counter() - started:.0f} s, qa at {_git_head()}")
    print(f"reproduce: {_command(args)}")

    if args.json:
        figures = {
            "command": _command(args),
            "git": _git_head(),
            "sets": {name: {k: v for k, v in res.items() if k != "records"} for name, res in results.items()},
            "calibration": calib,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(_no_nan(figures), indent=2), encoding="utf-8")
    return 0


def _no_nan(value):
    """NaN (a rate over zero questions) becomes null, which strict JSON readers accept."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
