"""Which fusion of BM25 and dense retrieval finds the answering passage best, and how much the dense side
should weigh the article's title.

For every answerable question with a gold answer, each method ranks the passages of the set's index and
the table gives hit@k: the share of questions for which one of the top k passages (k = 1, 3, 8) holds a
gold answer and comes from a gold article. The `headlines` set asks each BBC News headline (2,225) of an
index of the BBC articles: a hit is a top passage from its own article; `hit@1 copy` also counts an
article with the very same text (the collection holds about 100 such duplicates, and a tie between two
copies is a coin toss).

Methods: BM25 alone; dense alone (a passage scores its best sentence); `rrf` (k = 60) over BM25 and the
sentence-only dense side; `rrf+title W`: the dense side adds W times the question's similarity to the
passage's article title (qa's own retrieval, W fitted); convex combinations of min-max normalised scores.
`--write` stores in qa/weights/retrieval.json the smallest title weight within 0.1 points of the best mean
hit@1/3/8 over the sets (only the best passage of each article gets its title's share).

It reads the indexes bench.answers.evaluate builds under bench/out/<set>/index (run that first); the
headlines index is built here under bench/out/headlines/ (about 3 minutes on this machine).

    .venv/bin/python -m bench.answers.evaluate --sets realtimeqa,squad,trecqa
    .venv/bin/python -m bench.answers.retrieval [--sets headlines,realtimeqa,squad,trecqa] [--write]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import qa
from bench import OUT, REPO
from bench.common.corpora import bbc_records, write_jsonl
from bench.common.evalsets import DEFAULT_DATA, Question, load_set
from qa import fusion
from qa.embedding import Embedder
from qa.stores.embedded import EmbeddedStore

KS = (1, 3, 8)
TITLE_WEIGHTS = (0.25, 0.5, 0.75, 1.0)
METHODS = (["bm25", "dense", "rrf"] + [f"rrf+title {w:.2f}" for w in TITLE_WEIGHTS]
           + [f"convex {a:.1f}" for a in (0.3, 0.5, 0.7)])
TIE = 0.1  # points of the mean of 12 hit@k figures: one TrecQA question at one depth moves it 0.11


def convex_fusion(lexical: dict[int, float], dense: dict[int, float], alpha: float) -> list[tuple[int, float]]:
    """Weighted sum of min-max normalised scores (missing counts as 0); alpha weighs the dense side."""
    def normalised(scores: dict[int, float]) -> dict[int, float]:
        if not scores:
            return {}
        low, high = min(scores.values()), max(scores.values())
        return {i: (v - low) / (high - low) if high > low else 1.0 for i, v in scores.items()}

    lex, den = normalised(lexical), normalised(dense)
    fused = {i: (1 - alpha) * lex.get(i, 0.0) + alpha * den.get(i, 0.0) for i in lex.keys() | den.keys()}
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


@dataclass(frozen=True)
class Parts:
    """An index's BM25, dense and title indexes and its model, opened apart so each fusion can be tried."""

    store: EmbeddedStore
    embedder: Embedder

    @classmethod
    def open(cls, index: Path) -> Parts:
        opened = EmbeddedStore(index)
        return cls(opened, Embedder(opened.model_dir))


def rankings(question: str, parts: Parts) -> dict[str, list[int]]:
    """Passage ids, best first, by every method."""
    store = parts.store
    vector = parts.embedder.encode([question])[0]
    plain = fusion.retrieve(question, vector, store.lexical, store.dense, store.catalog, k=200)
    lexical = {r.passage_id: r.lexical_score for r in plain if r.lexical_rank}
    dense = {r.passage_id: r.dense_score for r in plain if r.dense_rank}
    out = {
        "bm25": sorted(lexical, key=lambda i: -lexical[i]),
        "dense": sorted(dense, key=lambda i: -dense[i]),
        "rrf": [r.passage_id for r in plain],
    }
    for weight in TITLE_WEIGHTS:
        ranked = fusion.retrieve(question, vector, store.lexical, store.dense, store.catalog, k=200,
                                 titles=store.titles, weight=weight)
        out[f"rrf+title {weight:.2f}"] = [r.passage_id for r in ranked]
    for method in METHODS:
        if method.startswith("convex"):
            out[method] = [i for i, _ in convex_fusion(lexical, dense, float(method.split()[1]))]
    return out


def headlines_index() -> Path:
    """The BBC News articles as a corpus and an index under bench/out/headlines/, built when missing or old."""
    corpus = write_jsonl(bbc_records(), OUT / "headlines" / "corpus" / "bbc.jsonl").parent
    index = OUT / "headlines" / "index"
    report = qa.build_index(corpus, index)
    if report.embedded:
        print(f"indexed {report.articles} BBC articles in {report.seconds:.0f} s", file=sys.stderr)
    return index


def headline_hits(bot: qa.QA, parts: Parts) -> tuple[dict[str, dict[int, int]], dict[str, int], int]:
    """hit@k of each headline's own article, and hit@1 counting an identical copy, per method."""
    articles = bot.articles()
    by_text: dict[str, set[str]] = {}
    for info in articles:
        by_text.setdefault(bot.article(info.doc_id).text, set()).add(info.doc_id)
    copies = {doc_id: ids for ids in by_text.values() for doc_id in ids}
    hits = {method: {k: 0 for k in KS} for method in METHODS}
    copy_hits = {method: 0 for method in METHODS}
    for info in articles:
        for method, ids in rankings(info.title, parts).items():
            passages = parts.store.passages(ids[: max(KS)])
            docs = [passages[i].doc_id for i in ids[: max(KS)] if i in passages]
            for k in KS:
                hits[method][k] += info.doc_id in docs[:k]
            copy_hits[method] += bool(docs) and docs[0] in copies[info.doc_id]
    return hits, copy_hits, len(articles)


def question_hits(name: str, data: Path) -> tuple[dict[str, dict[int, int]], int]:
    """hit@k of a gold passage per method, over the set's answerable questions with a gold answer."""
    evalset = load_set(name, data)
    questions: list[Question] = [q for q in evalset.questions if q.answerable and q.answers]
    hits = {method: {k: 0 for k in KS} for method in METHODS}
    parts = Parts.open(OUT / name / "index")
    for q in questions:
        for method, ids in rankings(q.question, parts).items():
            ids = ids[: max(KS)]
            passages = parts.store.passages(ids)
            good = [evalset.is_right(q, passages[i].text, passages[i].doc_id) for i in ids]
            for k in KS:
                hits[method][k] += any(good[:k])
    return hits, len(questions)


def write_weight(weight: float, hit1: dict[str, dict[str, float]], command: str) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    data = {
        "title_weight": weight,
        "provenance": {
            "command": command, "commit": commit, "fitted": datetime.date.today().isoformat(),
            "rule": f"the smallest title weight within {TIE} points of the best mean of hit@1, hit@3 and hit@8 "
                    "over the sets",
            "hit@1": hit1,
        },
    }
    target = fusion.WEIGHTS_FILE
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    print(f"wrote {target} (title weight {weight})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="headlines,realtimeqa,squad,trecqa",
                        help="comma-separated sets: headlines, or development sets indexed by bench/answers/evaluate.py "
                             "(default: %(default)s)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="evaluation data folder, read-only (default: %(default)s)")
    parser.add_argument("--write", action="store_true",
                        help="store the best title weight in qa/weights/retrieval.json")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"{'set':<12}{'method':<17}" + "".join(f"{'hit@' + str(k):>8}" for k in KS) + f"{'hit@1 copy':>12}{'n':>6}")
    hit1: dict[str, dict[str, float]] = {}
    hit_all: dict[str, list[float]] = {}
    for name in args.sets.split(","):
        copy_hits: dict[str, int] = {}
        if name == "headlines":
            index = headlines_index()
            with qa.open_index(index) as bot:
                hits, copy_hits, n = headline_hits(bot, Parts.open(index))
        else:
            hits, n = question_hits(name, args.data)
        for method in METHODS:
            copy = f"{100 * copy_hits[method] / n:>12.1f}" if copy_hits else f"{'':>12}"
            print(f"{name:<12}{method:<17}" + "".join(f"{100 * hits[method][k] / n:>8.1f}" for k in KS) + copy + f"{n:>6}")
            hit1.setdefault(method, {})[name] = round(100 * hits[method][1] / n, 1)
            hit_all.setdefault(method, []).extend(100 * hits[method][k] / n for k in KS)
    # the answerer reads the 8 best passages: every depth counts, not the first passage alone
    mean = {m: sum(v) / len(v) for m, v in hit_all.items() if m.startswith("rrf")}
    # within TIE points of the best, the smallest weight: the least change that the figures can tell apart
    top = max(mean.values())
    best = min((m for m in mean if mean[m] >= top - TIE), key=lambda m: 0.0 if m == "rrf" else float(m.split()[1]))
    print("\nmean hit@1/3/8 over the sets: " + ", ".join(f"{m} {v:.2f}" for m, v in mean.items()) + f"  (best: {best})")
    command = "python -m bench.answers.retrieval --sets " + args.sets + (" --write" if args.write else "")
    print(f"load average {os.getloadavg()[0]:.1f}, {time.perf_counter() - started:.0f} s; command: {command}")
    if args.write:
        write_weight(float(best.split()[1]) if best != "rrf" else 0.0,
                     {n: {m: v[n] for m, v in hit1.items() if m.startswith("rrf")} for n in args.sets.split(",")}, command)


if __name__ == "__main__":
    main()
