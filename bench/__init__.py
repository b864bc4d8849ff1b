"""qa's benchmarks: every module runs as `python -m bench.<group>.<name>` and prints its figures.

    common/       the development sets, the corpora and the metrics every script shares
    answers/      answer and retrieval quality on the development sets
    fit/          the fitted numbers qa ships: the answerer's weights, the reader's training
    scale/        build, query, cold-start, serving and fault figures at corpus scale
    experiments/  one-off comparisons behind a choice in qa (the sentence splitter, the encoder)
    peers.py      qa beside txtai, Haystack and rank-bm25

bench/README.md lists each command, what it prints and how long it takes. Outputs go under bench/out/.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
