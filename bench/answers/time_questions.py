"""Time in the question on RealTimeQA dev: acc@1 with the quiz date passed as `as_of`, and without.

RealTimeQA's questions are about the week of their quiz ("Which company announced this week ...?"); its
corpus (every week's gold search results, bench/common/evalsets.py) spans all the weeks, so the same kind of
question has answers in several weeks. Each question is asked four ways:

    off              time_phrases="off": the question as qa answered it before date phrases were read
    prefer           time_phrases="prefer", no as_of: phrases count from the newest article of the index
    prefer+as_of     time_phrases="prefer", as_of = the quiz date
    filter+as_of     time_phrases="filter", as_of = the quiz date (only the phrase's range, all if empty)

acc@1: the quoted sentence holds the gold answer (as bench/answers/evaluate.py scores it); top1: the best sentence
holds it, had qa never declined. Rows for all questions and for those with a date phrase that qa reads.

    python -m bench.answers.time_questions            # builds bench/out/realtimeqa/index if needed
    python -m bench.answers.time_questions --limit 100
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shlex
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import qa
from bench.common.evalsets import DEFAULT_DATA, load_realtimeqa
from bench.answers.evaluate import OUT, prepare_corpus
from bench.common.metrics import contains_answer, percentile
from qa.when import read_time

WAYS = {"off": ("off", False), "prefer": ("prefer", False), "prefer+as_of": ("prefer", True),
        "filter+as_of": ("filter", True)}


def quiz_dates(data: Path) -> dict[str, date]:
    """The quiz date of every RealTimeQA question, by question id."""
    out = {}
    for path in sorted(glob.glob(str(data / "realtimeqa" / "*_qa.jsonl"))):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    out[row["question_id"]] = date.fromisoformat(row["question_date"].replace("/", "-"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the evaldev folder")
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    evalset = load_realtimeqa(args.data)
    dates = quiz_dates(args.data)
    out_dir = OUT / "realtimeqa"
    report = qa.build_index(prepare_corpus(evalset, out_dir), out_dir / "index")
    questions = evalset.questions[: args.limit] if args.limit else evalset.questions
    results: dict[str, list[tuple[bool, bool, float]]] = {way: [] for way in WAYS}
    with qa.open_index(out_dir / "index") as bot:
        newest = max(a.date for a in bot.articles() if a.date)
        timed = [read_time(q.question, dates[q.qid]) is not None for q in questions]
        for q in questions:
            for way, (mode, with_date) in WAYS.items():
                tick = time.perf_counter()
                answer = bot.ask(q.question, time_phrases=mode, as_of=dates[q.qid] if with_date else None)
                ms = (time.perf_counter() - tick) * 1000
                best = answer.sentence if answer.found else (answer.candidates[0].sentence if answer.candidates else "")
                results[way].append((answer.found and contains_answer(answer.sentence or "", q.answers),
                                     contains_answer(best or "", q.answers), ms))

    print(f"RealTimeQA dev: {len(questions)} questions, {report.articles} articles "
          f"(quiz dates {min(dates.values())} .. {max(dates.values())}, newest article {newest}); "
          f"{sum(timed)} questions with a date phrase qa reads")
    print(f"{'way':14s} {'acc@1':>6s} {'top1':>6s} {'timed acc@1':>11s} {'timed top1':>10s} {'p50 ms':>7s}")
    for way, rows in results.items():
        sub = [r for r, t in zip(rows, timed) if t]
        print(f"{way:14s} {_pct(r[0] for r in rows):>6s} {_pct(r[1] for r in rows):>6s} "
              f"{_pct(r[0] for r in sub):>11s} {_pct(r[1] for r in sub):>10s} "
              f"{percentile([r[2] for r in rows], 50):7.1f}")
    print(f"(wall {time.perf_counter() - started:.0f} s; command: python -m bench.answers.time_questions "
          f"{shlex.join(argv if argv is not None else sys.argv[1:])})")
    return 0


def _pct(values) -> str:
    values = list(values)
    return f"{100 * sum(values) / len(values):.1f}" if values else "-"


if __name__ == "__main__":
    raise SystemExit(main())
