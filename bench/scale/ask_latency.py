"""`QA.ask` latency on the default corpus: plain questions, typo'd ones, with a filter, with a date phrase.

"plain, off" asks the plain questions with typo correction and date phrases turned off: the path as it was
before them, in the same process and under the same load.

Warm: the index is opened and every question asked once before timing; then each question is asked
--rounds times in turn and every call timed. Prints p50 / p95 ms per kind of question.

    python -m bench.scale.ask_latency                     # builds bench/out/seed/index from corpus/ if needed
    python -m bench.scale.ask_latency --plain --index DIR # only plain questions (any qa version's API)
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import qa

REPO = Path(__file__).resolve().parents[2]
PLAIN = [
    "how many Chinese nationals did Zelensky claim?",
    "who is the spokesperson of China's foreign ministry",
    "who captured two Chinese soldiers?",
    "where were the soldiers captured?",
    "How many Chinese-made motorcycles does the Russian military intend to purchase?",
    "What new law did Putin sign?",
]
KINDS: dict[str, list[tuple[str, dict[str, Any]]]] = {  # kind -> (question, QA.ask keywords)
    "plain": [(q, {}) for q in PLAIN],
    "plain, off": [(q, {"correct_typos": False, "time_phrases": "off"}) for q in PLAIN],
    "typos": [("how mny chinese natinals did zelenksy claim", {}),
              ("who is the spokesman for chinas foriegn minstry", {}),
              ("Which counbtry supplied drones to Russia?", {})],
    "filter": [(q, {"since": "2025-04", "until": "2025-04", "undated": "drop"}) for q in PLAIN[:3]]
              + [(q, {"sources": ["corpus", "bbc"]}) for q in PLAIN[3:]],
    "date phrase": [("How many Chinese nationals were fighting for Russia in April 2025?", {}),
                    ("What is the latest count of Chinese nationals fighting for Russia?", {}),
                    ("who captured two Chinese soldiers this week?", {})],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=REPO / "bench" / "out" / "seed" / "index",
                        help="index of the default corpus (built there if missing)")
    parser.add_argument("--rounds", type=int, default=20, help="times each question is asked (default: 20)")
    parser.add_argument("--plain", action="store_true", help="only the plain questions")
    args = parser.parse_args(argv)

    if not (args.index / "manifest.json").exists():
        qa.build_index(REPO / "corpus", args.index)
    kinds = {"plain": KINDS["plain"]} if args.plain else KINDS
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    with qa.open_index(args.index) as bot:
        for questions in kinds.values():
            for question, kwargs in questions:
                bot.ask(question, **kwargs)
        for _ in range(args.rounds):
            for kind, questions in kinds.items():
                for question, kwargs in questions:
                    tick = time.perf_counter()
                    bot.ask(question, **kwargs)
                    times[kind].append((time.perf_counter() - tick) * 1000)
    load = os.getloadavg()[0]
    print(f"{'questions':12s} {'asks':>5s} {'p50 ms':>7s} {'p95 ms':>7s}")
    for kind, values in times.items():
        p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
        print(f"{kind:12s} {len(values):5d} {statistics.median(values):7.1f} {p95:7.1f}")
    print(f"(load average {load:.1f}; command: python -m bench.scale.ask_latency "
          f"{shlex.join(argv if argv is not None else sys.argv[1:])})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
