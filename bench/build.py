"""Build figures: full build time, articles/s and passages/s per stage, the incremental rebuild after adding
10 articles (and its ratio to the full build), index size on disk, peak memory, and bm25s against rank-bm25
on the same passages, for Reuters-21578 (~19k bodies) and BBC News (2,225 articles).

These are the build steps of bench/scale.py, which measures them with everything else; this entry point
runs only them and keeps its figures apart:

    .venv/bin/python bench/build.py            # ~8 min
    .venv/bin/python bench/build.py --quick    # 500 Reuters + 200 BBC stories, ~1 min
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also runs as `python bench/build.py`

from bench import scale

if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        raise SystemExit(print(__doc__))
    quick = "--quick" in sys.argv[1:]
    figures = "bench/out/build-quick.json" if quick else "bench/out/build.json"
    sys.argv = [sys.argv[0], *(["--quick"] if quick else []), "--only", "build,incremental,bm25", "--json", figures]
    scale.main()
