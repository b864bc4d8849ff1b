"""Fault injection on qa's index: kills at every filesystem step of a build, damaged index files, asks
across publishes, and a watched HOME and TMPDIR for anything written outside the index.

    .venv/bin/python -m bench.scale.faults [--quick] [--work bench/out/faults]

Kill points: a child build counts the filesystem calls qa makes (os.replace, mkdir, unlink, fsync, rmtree,
...) and SIGKILLs itself at the n-th one, for an incremental build, a --rebuild and a model change. After
each kill the old index must still answer, the next build must leave a whole index (verify_index, the
right answer) and nothing but the manifest, the lock and the folders it names. Damaged files: every file
the manifest records, and the manifest, truncated to half, zeroed, overwritten with random bytes, or with
two bytes flipped; opening must fail with an error naming the file (never a wrong answer) and the next
build must repair it. Publishes: a child makes 40 incremental builds while this process opens the index
and asks in a loop. --quick samples 6 kill points per scenario and only bit flips of the model files; --kill-points N
samples N.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from bench import REPO

QUESTION = "how many Chinese nationals did Zelensky claim?"
EXPECTED = "155"

# Runs a build in a child; at the n-th filesystem call made from qa (directly or through pathlib) it SIGKILLs
# itself. n = 0: no kill; the count is printed at the end, so a first run gives the number of kill points.
CHILD = r"""
import os, shutil, signal, sys
target, scenario, corpus, index = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
count = 0
def _from_qa():
    f = sys._getframe(2)
    for _ in range(2):
        name = f.f_globals.get("__name__", "") if f else ""
        if name.startswith("qa."):
            return True
        if name != "pathlib":
            return False
        f = f.f_back
    return False
def _step(fn):
    def wrapped(*args, **kwargs):
        global count
        if _from_qa():
            count += 1
            if count == target:
                os.kill(os.getpid(), signal.SIGKILL)
        return fn(*args, **kwargs)
    return wrapped
for module, name in [(os, "replace"), (os, "rename"), (os, "mkdir"), (os, "unlink"), (os, "rmdir"), (os, "fsync"),
                     (os, "ftruncate"), (os, "open"), (shutil, "rmtree"), (shutil, "copyfile")]:
    setattr(module, name, _step(getattr(module, name)))
import qa, qa.embedding
if scenario == "model change":
    qa.embedding.EXPORT_VERSION = "next"
qa.build_index(corpus, index, rebuild=scenario == "rebuild")
print("steps", count)
"""


@dataclass
class Row:
    sweep: str
    tried: int = 0
    usable: int = 0  # kill: old index answers; damage: a clear error naming the file
    wrong: int = 0  # a wrong answer, a traceback or an error that does not name the damaged file
    repaired: int = 0
    leftovers: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="sample 6 kill points per scenario, flip-only model damage")
    parser.add_argument("--kill-points", type=int, default=0, metavar="N",
                        help="kill at N evenly spaced steps of each scenario (default: every step; --quick: 6)")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out" / "faults",
                        help="scratch folder, emptied first (default: bench/out/faults)")
    parser.add_argument("--publishes", type=int, default=40, help="builds published during the ask loop (default: 40)")
    parser.add_argument("--memory", action="store_true",
                        help="instead: peak RSS of scanning a 100k- and a 1M-line JSONL, and of building 1k, 4k and 8k records")
    args = parser.parse_args()
    if args.memory:
        memory(args.work.resolve())
        return

    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    home, tmp = work / "home", work / "tmp"
    for folder in (home, tmp):
        folder.mkdir(parents=True)
    # Everything, this process and its children, runs with a watched HOME and TMPDIR.
    for name in [n for n in os.environ if n.startswith(("XDG_", "ORT_", "TORCH", "HF_"))]:
        del os.environ[name]
    os.environ.update(HOME=str(home), TMPDIR=str(tmp))
    import tempfile

    tempfile.tempdir = None

    import qa

    started = time.perf_counter()
    corpus = work / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    base = work / "base"
    qa.build_index(corpus, base)
    rows = [
        *kill_sweep(work, corpus, base, points=6 if args.quick and not args.kill_points else args.kill_points),
        *damage_sweep(work, corpus, base, quick=args.quick),
        publish_sweep(work, corpus, base, args.publishes),
    ]
    outside = [p for folder in (home, tmp) for p in folder.rglob("*")]
    rows.append(Row("writes outside the index (watched HOME, TMPDIR)", tried=1, wrong=len(outside),
                    notes=[str(p.relative_to(work)) for p in outside[:3]]))
    _print(rows, time.perf_counter() - started, args)


def _answers(index: Path) -> bool:
    import qa

    with qa.open_index(index) as bot:
        answer = bot.ask(QUESTION)
    return answer.found and EXPECTED in (answer.sentence or "")


def _leftovers(index: Path) -> list[str]:
    from qa import store

    keep = {store.MANIFEST, store.BACKUP, store.LOCK} | store.read_manifest(index).in_use()
    return sorted(name for name in os.listdir(index) if name not in keep)


def _whole(index: Path) -> bool:
    import qa

    try:
        return qa.verify_index(index).ok and _answers(index)
    except qa.QAError:
        return False


def _copy(base: Path, target: Path, real: Collection[str] = frozenset()) -> None:
    """A copy of the base index: the model hard-linked (it is never written in place), all else copied."""
    def copy(src: str, dst: str) -> None:
        rel = Path(src).relative_to(base).as_posix()
        if rel.endswith("model.onnx") and rel not in real:
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(base, target, copy_function=copy)


def _child(target: int, scenario: str, corpus: Path, index: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, str(target), scenario, str(corpus), str(index)],
                          capture_output=True, text=True, timeout=900, cwd=REPO)


def kill_sweep(work: Path, corpus: Path, base: Path, points: int) -> list[Row]:
    rows = []
    changed = work / "corpus-changed"
    shutil.copytree(corpus, changed)
    (changed / "added.txt").write_text(
        "Ferry strike ends\n\nThe ferry workers ended their strike on Monday after 12 days. Sailings resume today.\n"
    )
    for scenario in ("incremental", "rebuild", "model change"):
        tick = time.perf_counter()
        row = Row(f"kill at a filesystem step: {scenario}")
        probe = work / "probe"
        _copy(base, probe)
        run = _child(0, scenario, changed, probe)
        steps = int(run.stdout.split()[-1]) if run.returncode == 0 else 0
        shutil.rmtree(probe)
        if not steps:
            row.notes.append(f"the unkilled build failed: {run.stderr[-300:]}")
            rows.append(row)
            continue
        chosen = list(range(1, steps + 1))
        if 0 < points < steps:
            chosen = sorted({round(1 + i * (steps - 1) / (points - 1)) for i in range(points)}) if points > 1 else [steps // 2]
        for n in chosen:
            index = work / "kill"
            _copy(base, index)
            run = _child(n, scenario, changed, index)
            row.tried += 1
            if run.returncode not in (-9, 0):
                row.notes.append(f"step {n}: exit {run.returncode} {run.stderr.strip().splitlines()[-1:]}")
            try:
                row.usable += _answers(index)
            except Exception as exc:  # any failure to answer is what is counted
                row.notes.append(f"step {n}: after the kill, {type(exc).__name__}: {str(exc)[:120]}")
            again = _child(0, scenario, changed, index)
            if again.returncode == 0 and _whole(index):
                row.repaired += 1
            else:
                row.notes.append(f"step {n}: next build {again.returncode} {again.stderr.strip().splitlines()[-1:]}")
            left = _leftovers(index)
            row.leftovers += len(left)
            if left:
                row.notes.append(f"step {n}: left {left}")
            shutil.rmtree(index)
        row.notes.insert(0, f"{steps} steps, killed at {'all' if len(chosen) == steps else chosen}")
        row.seconds = time.perf_counter() - tick
        rows.append(row)
    return rows


def _damage(path: Path, how: str, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        data = data[: len(data) // 2]
    elif how == "zero":
        data = bytearray(len(data))
    elif how == "garbage":
        data = bytearray(rng.randbytes(len(data)))
    else:  # two bytes flipped in the middle
        for i in (len(data) // 2, len(data) // 2 + 1):
            data[i % max(len(data), 1)] ^= 0xFF
    path.write_bytes(bytes(data))


def damage_sweep(work: Path, corpus: Path, base: Path, quick: bool) -> list[Row]:
    import qa
    from qa import store

    rng = random.Random(11)
    names = sorted(store.read_manifest(base).files) + [store.MANIFEST]
    rows = {kind: Row(f"damaged {kind} files × truncate/zero/garbage/flip") for kind in ("generation", "model", "manifest")}
    for name in names:
        kind = "manifest" if name == store.MANIFEST else "model" if name.startswith("model-") else "generation"
        for how in ("truncate", "zero", "garbage", "flip"):
            if quick and kind == "model" and how != "flip":
                continue
            tick = time.perf_counter()
            row = rows[kind]
            index = work / "damaged"
            _copy(base, index, real={name})
            _damage(index / name, how, rng)
            row.tried += 1
            label = f"{name} {how}"
            try:
                right = _answers(index)
                row.wrong += 1
                row.notes.append(f"{label}: not detected, {'right' if right else 'WRONG'} answer")
            except qa.QAError as exc:
                if Path(name).name in str(exc):
                    row.usable += 1
                else:
                    row.wrong += 1
                    row.notes.append(f"{label}: {type(exc).__name__} not naming it: {str(exc)[:100]}")
            except Exception as exc:  # a traceback is what this counts
                row.wrong += 1
                row.notes.append(f"{label}: traceback {type(exc).__name__}: {str(exc)[:100]}")
            try:
                qa.build_index(corpus, index)
                row.repaired += _whole(index)
                left = _leftovers(index)
                row.leftovers += len(left)
                if left:
                    row.notes.append(f"{label}: left {left}")
            except Exception as exc:
                row.notes.append(f"{label}: next build {type(exc).__name__}: {str(exc)[:100]}")
            shutil.rmtree(index)
            row.seconds += time.perf_counter() - tick
    return list(rows.values())


PUBLISHER = r"""
import sys
from pathlib import Path
import qa
corpus, index, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(n):
    (corpus / f"pub-{i}.txt").write_text(f"Update {i}\n\nThe harbour counted {i} ships today. Cranes stood idle.\n")
    qa.build_index(corpus, index, wait=60)
"""


def publish_sweep(work: Path, corpus: Path, base: Path, publishes: int) -> Row:

    tick = time.perf_counter()
    row = Row(f"asks while {publishes} builds publish (API opens + CLI asks)")
    index, live = work / "live", work / "corpus-live"
    _copy(base, index)
    shutil.copytree(corpus, live)
    publisher = subprocess.Popen([sys.executable, "-c", PUBLISHER, str(live), str(index), str(publishes)],
                                 stderr=subprocess.PIPE, text=True, cwd=REPO)
    failures: list[str] = []
    cli = {"tried": 0}

    def cli_asks() -> None:
        while publisher.poll() is None:
            run = subprocess.run([sys.executable, "-m", "qa.cli", "ask", QUESTION, "--index", str(index)],
                                 capture_output=True, text=True, cwd=REPO)
            cli["tried"] += 1
            if run.returncode != 0 or EXPECTED not in run.stdout:
                failures.append(f"CLI: {run.stderr.strip()[-150:]}")

    thread = threading.Thread(target=cli_asks)
    thread.start()
    while publisher.poll() is None:
        row.tried += 1
        try:
            if _answers(index):
                row.usable += 1
            else:
                failures.append("API: wrong answer")
        except Exception as exc:
            failures.append(f"API: {type(exc).__name__}: {str(exc)[:150]}")
    thread.join()
    row.tried += cli["tried"]
    row.usable = row.tried - len(failures)
    row.wrong = len(failures)
    if publisher.returncode != 0:
        row.notes.append(f"publisher failed: {publisher.communicate()[1][-300:]}")
    row.repaired = int(_whole(index))
    row.leftovers = len(_leftovers(index))
    row.notes += [f"{cli['tried']} CLI asks, {row.tried - cli['tried']} API opens"] + failures[:3]
    row.seconds = time.perf_counter() - tick
    return row


MEASURE = r"""
import resource, sys, time
import qa
from qa.documents import scan_corpus
what, corpus = sys.argv[1], sys.argv[2]
tick = time.perf_counter()
if what == "scan":
    n = len(scan_corpus(corpus).articles)
else:
    n = qa.build_index(corpus, sys.argv[3]).articles
print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, round(time.perf_counter() - tick, 1))
"""


def memory(work: Path) -> None:
    """Peak RSS (MB) of a scan and of a build, each in a fresh process, as the JSONL grows."""
    import json

    print("| step | JSONL records | peak RSS, MB | s |")
    print("|---|---:|---:|---:|")
    baseline = subprocess.run([sys.executable, "-c", "import resource, qa; from qa.documents import scan_corpus; "
                               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"],
                              capture_output=True, text=True, cwd=REPO)
    print(f"| import qa | 0 | {baseline.stdout.strip()} | |")
    for what, n in (("scan", 100_000), ("scan", 1_000_000), ("build", 1_000), ("build", 4_000), ("build", 8_000)):
        corpus = work / f"memory-{n}"
        shutil.rmtree(corpus, ignore_errors=True)
        corpus.mkdir(parents=True)
        with open(corpus / "feed.jsonl", "w", encoding="utf-8") as f:
            for i in range(n):
                f.write(json.dumps({"id": f"r{i}", "title": f"Record {i}", "text": f"Ships docked {i} times. Cranes idled."}) + "\n")
        index = work / f"memory-index-{n}"
        if what == "build":  # the model exported beforehand: torch's import is not what is measured
            seed = work / "memory-seed"
            shutil.rmtree(seed, ignore_errors=True)
            shutil.copytree(REPO / "corpus", seed)
            subprocess.run([sys.executable, "-c", MEASURE, what, str(seed), str(index)], capture_output=True, cwd=REPO)
            shutil.rmtree(seed)
        run = subprocess.run([sys.executable, "-c", MEASURE, what, str(corpus), str(index)],
                             capture_output=True, text=True, cwd=REPO)
        articles, rss, seconds = (run.stdout.split() + ["?"] * 3)[:3] if run.returncode == 0 else ("failed", "", "")
        print(f"| {what} | {n:,} | {rss} | {seconds} |" + ("" if run.returncode == 0 else f" {run.stderr[-200:]}"))
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.rmtree(work / f"memory-index-{n}", ignore_errors=True)
    print("\npython -m bench.scale.faults --memory")


def _print(rows: list[Row], seconds: float, args: argparse.Namespace) -> None:
    print("| sweep | tried | usable after / clear error | wrong, traceback or unclear | repaired by next build "
          "| leftovers on disk | s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r.sweep} | {r.tried} | {r.usable} | {r.wrong} | {r.repaired} | {r.leftovers} | {r.seconds:.0f} |")
    for r in rows:
        for note in r.notes:
            print(f"  {r.sweep}: {note}")
    command = "python -m bench.scale.faults" + (" --quick" if args.quick else "") + (
        f" --kill-points {args.kill_points}" if args.kill_points else "")
    print(f"\n{command}: {seconds:.0f} s on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
