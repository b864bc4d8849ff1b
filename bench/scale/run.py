"""Scale and speed on a 20,000-article archive (issue 6), in one command.

Builds a qa index of the Reuters-21578 stories and one of the BBC News articles, then measures: build rate
per stage and size on disk; the embedding rate of the build against the bare model on the same sentences
(and bench/experiments/encode_speed.py's comparison of encoders); incremental updates (add 10, add 1,000, delete 100)
on a copy of the Reuters index; warm QA.ask / QA.search latency; bm25s against rank_bm25; the cold start
of `qa ask`; peak memory of the build and of a query process; exact FAISS against HNSW; and, unless
skipped, retrieval quality of the int8 model against fp32 on the dev sets.

    .venv/bin/python -m bench.scale.run --quick    # 500 Reuters + 200 BBC stories, 50 questions: a few minutes
    .venv/bin/python -m bench.scale.run            # 19,043 Reuters + 2,225 BBC stories, 200 questions: ~40 min
    .venv/bin/python -m bench.scale.run --only encode,query    # rerun some steps of the saved run

Builds, queries and the cold start each run in a fresh process (bench/scale/probes.py) so that their peak
RSS is their own; the search comparisons (bench/scale/search.py) run in this one. Corpora (JSONL) and indexes go
under bench/out/scale/ (scale-quick/), figures to
bench/out/scale.json (scale-quick.json); `python -m bench.scale.table FILE` prints the table again.
Other processes on the machine slow everything down: the load average is recorded at each step.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import REPO
from bench.common.corpora import bbc_records, reuters_records, write_jsonl
from bench.scale.search import bm25_figures, dense_figures
from bench.scale.table import render

OUT = REPO / "bench" / "out"
ASK_TARGET_MS = 100.0


@dataclass(frozen=True)
class Plan:
    """How much of everything a run uses."""

    name: str
    reuters: int | None  # None: every story
    bbc: int | None
    questions: int
    sentences: int
    rounds: int  # turns of each encoder on the sentences; the best counts
    add_small: int
    add_large: int
    delete: int


QUICK = Plan("quick", reuters=500, bbc=200, questions=50, sentences=500, rounds=1, add_small=10, add_large=50, delete=10)
FULL = Plan("full", reuters=None, bbc=None, questions=200, sentences=2000, rounds=3, add_small=10, add_large=1000,
            delete=100)


class Run:
    """One bench run: its folders, its figures (saved after every step) and its probe processes."""

    def __init__(self, plan: Plan, work: Path, json_path: Path) -> None:
        self.plan, self.work, self.json_path = plan, work, json_path
        self.figures: dict = {"plan": plan.__dict__, "command": " ".join(["python -m bench.scale.run", *sys.argv[1:]]),
                              "cpus": os.cpu_count(), "load": {}}
        self._probes = 0

    def step(self, name: str) -> None:
        self.figures["load"][name] = os.getloadavg()[0]
        print(f"[{time.strftime('%H:%M:%S')}] {name} (load average {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)

    def save(self) -> None:
        self.json_path.parent.mkdir(parents=True, exist_ok=True)
        self.json_path.write_text(json.dumps(self.figures, indent=2), encoding="utf-8")

    def probe(self, name: str, *args: str) -> dict:
        """Run a probe of bench/scale/probes.py in a fresh process; its figures plus wall time and peak RSS."""
        self._probes += 1
        out = self.work / "probes" / f"{self._probes:02d}-{name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        usage = _run([sys.executable, "-m", "bench.scale_probes", name, *args, str(out)])
        figures = json.loads(out.read_text(encoding="utf-8"))
        if name == "cli":
            figures["probe_wall_s"] = usage["wall_s"]
        else:
            figures.update(usage)
        return figures


def _run(command: list[str]) -> dict[str, float]:
    """Run a command to its end; its wall seconds and CPU seconds (wait4).

    CPU seconds near twice the wall time mean the process had both cores; much less, that others shared them.
    """
    tick = time.perf_counter()
    proc = subprocess.Popen(command, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - tick
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed with exit code {proc.returncode}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime}


def _questions(records: list[dict], count: int) -> list[dict]:
    """Story titles of at least four words that no other story shares, as typed queries."""
    titles: dict[str, int] = {}
    for r in records:
        titles[r["title"]] = titles.get(r["title"], 0) + 1
    usable = [r for r in records if titles[r["title"]] == 1 and len(r["title"].split()) >= 4]
    picked = random.Random(6).sample(usable, min(count, len(usable)))
    return [{"question": r["title"], "doc_id": r["id"]} for r in picked]


def _sentences(records: list[dict], count: int) -> list[str]:
    """A random sample of the corpus's sentences, split by qa.sentences as the build splits them."""
    from qa.sentences import split_sentences

    sentences = [r["text"][s:e] for r in records for s, e in split_sentences(r["text"])]
    return random.Random(7).sample(sentences, min(count, len(sentences)))


def _disk_mb(index: Path) -> dict[str, float]:
    from qa import store

    generation = store.generation_dir(index, store.read_manifest(index))
    parts = {"catalog": generation / store.CATALOG, "faiss": generation / store.DENSE,
             "bm25": generation / store.LEXICAL, "model": store.model_dir(index)}
    sizes = {}
    for name, path in parts.items():
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        sizes[name] = sum(p.stat().st_size for p in files) / 2**20
    sizes["total"] = sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 2**20
    return sizes


def _build(run: Run, corpus: Path, index: Path) -> dict:
    shutil.rmtree(index, ignore_errors=True)
    figures = run.probe("build", str(corpus), str(index), "--rebuild")
    figures["disk_mb"] = _disk_mb(index)
    return figures


def _incremental(run: Run, records: list[dict], corpus: Path, index: Path) -> dict:
    """Add, then add more, then delete stories on a copy of the index, each as a fresh `qa index` would."""
    plan = run.plan
    work_corpus, work_index = run.work / "corpora" / "reuters-incremental", run.work / "index-incremental"
    shutil.rmtree(work_corpus, ignore_errors=True)
    shutil.rmtree(work_index, ignore_errors=True)
    work_corpus.mkdir(parents=True)
    shutil.copyfile(corpus / "reuters.jsonl", work_corpus / "reuters.jsonl")
    shutil.copytree(index, work_index)
    # New stories are copies of existing ones under new ids, so they have the archive's length distribution.
    chosen = random.Random(10).sample(records, plan.add_small + plan.add_large + plan.delete)
    copies = [dict(r, id=f"{r['id']}-copy") for r in chosen[: plan.add_small + plan.add_large]]
    gone = {r["id"] for r in chosen[plan.add_small + plan.add_large :]}
    steps = [  # (change, what it does to the corpus, its target as a share of the full build)
        ("no change", lambda: None, None),
        (f"add {plan.add_small}", lambda: write_jsonl(copies[: plan.add_small], work_corpus / "added-1.jsonl"), 0.05),
        (f"add {plan.add_large}", lambda: write_jsonl(copies[plan.add_small :], work_corpus / "added-2.jsonl"), 0.10),
        (f"delete {plan.delete}", lambda: write_jsonl([r for r in records if r["id"] not in gone],
                                                      work_corpus / "reuters.jsonl"), 0.05),
    ]
    rows = {}
    for name, change, target in steps:
        run.step(f"incremental: {name}")
        change()
        rows[name] = run.probe("build", str(work_corpus), str(work_index))
        rows[name]["target_share"] = target
    return rows


def _cold(run: Run, index: Path, question: str, repeats: int = 3) -> dict:
    qa_command = str(REPO / ".venv" / "bin" / "qa")
    steps = run.probe("cold", str(index), question)
    cli = [run.probe("cli", qa_command, "ask", question, "--index", str(index)) for _ in range(repeats)]
    return {"steps": steps, "cli": cli}


STEPS = ("encode", "build", "query", "cold", "bm25", "dense", "incremental", "int8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 Reuters + 200 BBC stories, 50 questions")
    parser.add_argument("--json", type=Path, help="where to write the figures (default bench/out/scale.json)")
    parser.add_argument("--skip-int8-quality", action="store_true", help="do not score the int8 model on the dev sets")
    parser.add_argument("--only", metavar="STEP,...", help=f"rerun these steps of a saved run ({', '.join(STEPS)}) "
                        "and update its figures; later steps need the indexes of `build`")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    suffix = "-quick" if args.quick else ""
    run = Run(plan, OUT / f"scale{suffix}", args.json or OUT / f"scale{suffix}.json")
    steps = set(STEPS) - ({"int8"} if args.skip_int8_quality else set())
    if args.only:
        steps = set(args.only.split(","))
        if steps - set(STEPS):
            parser.error(f"unknown steps {sorted(steps - set(STEPS))}; choose from {', '.join(STEPS)}")
        saved = json.loads(run.json_path.read_text(encoding="utf-8")) if run.json_path.is_file() else {}
        if saved:
            saved["reruns"] = [*saved.get("reruns", []), run.figures["command"]]
            run.figures = saved
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    run.step("corpora")
    reuters = reuters_records()[: plan.reuters]
    bbc = bbc_records()[: plan.bbc]
    corpora = run.work / "corpora"
    write_jsonl(reuters, corpora / "reuters" / "reuters.jsonl")
    write_jsonl(bbc, corpora / "bbc" / "bbc.jsonl")
    questions = _questions(reuters, plan.questions)
    questions_file = run.work / "questions.json"
    questions_file.write_text(json.dumps(questions, indent=1), encoding="utf-8")
    sentences_file = run.work / "sentences.json"
    sentences_file.write_text(json.dumps(_sentences(reuters, plan.sentences)), encoding="utf-8")
    run.figures["corpora"] = {"reuters": len(reuters), "bbc": len(bbc), "questions": len(questions),
                              "sentence_sample": plan.sentences, "encode_rounds": plan.rounds}
    reuters_index, bbc_index = run.work / "index-reuters", run.work / "index-bbc"

    if "encode" in steps:
        run.step("encoders")
        run.figures["encode"] = run.probe("encode", str(sentences_file), str(plan.rounds))
        run.save()
    if "build" in steps:
        run.step("build reuters")
        run.figures["build"] = {"reuters": _build(run, corpora / "reuters", reuters_index)}
        run.save()
        run.step("build bbc")
        run.figures["build"]["bbc"] = _build(run, corpora / "bbc", bbc_index)
        run.save()
    if "query" in steps:
        run.step("queries")
        run.figures["query"] = run.probe("query", str(reuters_index), str(questions_file))
        run.save()
    if "cold" in steps:
        run.step("cold start")
        run.figures["cold"] = _cold(run, reuters_index, questions[0]["question"])
        run.save()
    if "bm25" in steps:
        run.step("bm25")
        run.figures["bm25"] = bm25_figures(reuters_index, questions)
        run.save()
    if "dense" in steps:
        run.step("dense")
        query = run.figures.get("query")
        rest_of_ask = query["ask_ms"]["p50"] - query["faiss_ms"]["p50"] if query else 0.0
        run.figures["dense"] = dense_figures(reuters_index, questions, budget_ms=ASK_TARGET_MS - rest_of_ask)
        run.save()
    if "incremental" in steps:
        run.figures["incremental"] = _incremental(run, reuters, corpora / "reuters", reuters_index)
        run.save()
    if "int8" in steps:
        run.step("int8 quality")
        run.figures["int8"] = run.probe("int8")
        run.save()
    run.step("done")
    run.save()
    print(render(run.figures))
    print(f"\nfigures: {run.json_path}")


if __name__ == "__main__":
    main()
