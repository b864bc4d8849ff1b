"""Disagreeing accounts: precision and recall of agree / disagree on a hand-labelled dev set.

    .venv/bin/python -m bench.answers.accounts [--data /work/shared/evaldev] [--out bench/out/accounts]

`bench/data/accounts.jsonl` holds, per question, the value each article gives for it (question and doc ids
only: the articles are read where they lie, in the default corpus and /work/shared/evaldev/, and indexed
under bench/out/accounts/). Two labelled articles **agree** when their values are the same, **disagree**
otherwise; an article with no label gives no value for the question.

qa's answer groups articles: the answer's article with its corroborating ones, then each `Answer.accounts`
entry with its own corroborating ones. Every pair of articles qa puts in groups is a prediction: the same
group is "agree", two groups "disagree". A pair with an unlabelled article is a wrong prediction. Precision
is over qa's predicted pairs, recall over the labelled pairs. The script also times `ask` on the default
corpus (p50 / p95 over all its questions, warm, 5 rounds).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import html
import json
import re
import statistics
import time
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

import qa

REPO = Path(__file__).resolve().parents[2]
DATA = Path("/work/shared/evaldev")
LABELS = REPO / "bench" / "data" / "accounts.jsonl"
FOLLOWUPS = REPO / "bench" / "data" / "followups.jsonl"
OUT = REPO / "bench" / "out" / "accounts"


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def labelled_parser(doc: str, flag: str, default: Path, what: str, verbose: str) -> argparse.ArgumentParser:
    """The options of a script that asks a labelled JSONL file's questions of the dev corpora it names."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc)
    parser.add_argument("--data", type=Path, default=DATA, help="the dev data folder (default %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT, help="where the dev indexes are built (default %(default)s)")
    parser.add_argument(flag, type=Path, default=default, help=f"{what} (default %(default)s)")
    parser.add_argument("--verbose", action="store_true", help=verbose)
    return parser


def by_corpus(rows: list[dict], data: Path, out: Path) -> Iterator[tuple[str, qa.QA, list[dict]]]:
    """Each corpus the rows name, in their order: its name, its index opened, and its rows."""
    for name in dict.fromkeys(r["corpus"] for r in rows):
        with qa.open_index(corpus_index(name, data, out)) as bot:
            yield name, bot, [r for r in rows if r["corpus"] == name]


def _reuters_records(data: Path, wanted: set[str]) -> list[dict]:
    """The Reuters-21578 stories with these ids ("reuters-<NEWID>"), as bench/common/corpora.py writes them."""
    records = []
    for path in sorted((data / "corpora" / "reuters-21578").glob("reut2-*.sgm")):
        for attributes, story in re.findall(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", path.read_text(encoding="latin-1"), re.S):
            newid = re.search(r'NEWID="(\d+)"', attributes)
            body = re.search(r"<BODY>(.*?)</BODY>", story, re.S)
            if not newid or not body or f"reuters-{newid.group(1)}" not in wanted:
                continue
            text = re.sub(r"\s*\bReuters?\s*$", "", re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", html.unescape(body.group(1))))
            paragraphs = [" ".join(p.split()) for p in re.split(r"\n[ \t]+", text.strip())]
            title = re.search(r"<TITLE>(.*?)</TITLE>", story, re.S)
            date = re.search(r"<DATE>\s*(\d+)-(\w{3})-(\d{4})", story)
            iso = None
            if date:
                month = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split().index(date.group(2).upper()) + 1
                iso = f"{date.group(3)}-{month:02d}-{int(date.group(1)):02d}"
            records.append({"id": f"reuters-{newid.group(1)}", "title": " ".join(html.unescape(title.group(1)).split()) if title else "",
                            "text": "\n\n".join(p for p in paragraphs if p), "date": iso, "source": "Reuters"})
    return records


def _realtimeqa_records(data: Path) -> list[dict]:
    """Every RealTimeQA gold article with text, id "rtqa-" + sha1(url)[:12] as bench/common/evalsets.py has them."""
    articles: dict[str, dict] = {}
    for path in sorted(glob.glob(str(data / "realtimeqa" / "*_gold.jsonl"))):
        for row in read_jsonl(Path(path)):
            for res in row.get("search_result", []):
                text = res.get("text") or ""
                url = res["url"].split("#")[0]
                doc_id = "rtqa-" + hashlib.sha1(url.encode("utf-8")).hexdigest()[:12]
                if text.strip() and doc_id not in articles:
                    date = (res.get("publish_date") or "").replace("/", "-") or None
                    first = text.strip().split("\n", 1)[0].strip()
                    articles[doc_id] = {"id": doc_id, "title": first[:200] if 4 <= len(first.split()) <= 15 else url,
                                        "text": text, "date": date, "url": url, "source": "CNN"}
    return list(articles.values())


def corpus_index(name: str, data: Path = DATA, out: Path = OUT) -> Path:
    """The index of one dev corpus, built (or brought up to date) under `out/name/index`.

    default: the five shipped articles; reuters: the Reuters stories the label files name; realtimeqa:
    every RealTimeQA gold article.
    """
    if name == "default":
        corpus = REPO / "corpus"
    else:
        if name == "reuters":
            wanted = {d for path in (LABELS, FOLLOWUPS) if path.is_file() for row in read_jsonl(path)
                      for d in [*row.get("values", {}), *row.get("docs", [])] if d.startswith("reuters-")}
            records = _reuters_records(data, wanted)
        elif name == "realtimeqa":
            records = _realtimeqa_records(data)
        else:
            raise ValueError(f"unknown dev corpus {name!r}")
        corpus = out / name / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        content = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        target = corpus / f"{name}.jsonl"
        if not target.is_file() or target.read_text(encoding="utf-8") != content:
            tmp = target.with_suffix(".tmp")
            tmp.write_text(content, encoding="utf-8")
            tmp.replace(target)
    index = out / name / "index"
    qa.build_index(corpus, index)
    return index


def predicted_groups(answer: qa.Answer) -> list[list[str]]:
    """The articles qa groups by value: the answer's with its corroboration, then each account's."""
    if not answer.found or answer.citation is None:
        return []
    groups = [[answer.citation.doc_id, *(c.doc_id for c in answer.corroborating)]]
    groups += [[a.citation.doc_id, *(c.doc_id for c in a.corroborating)] for a in getattr(answer, "accounts", [])]
    return groups


def score_question(values: dict[str, str], groups: list[list[str]]) -> dict[str, int]:
    """Counts of predicted, gold and right pairs, for agree and disagree."""
    where = {doc: i for i, group in enumerate(groups) for doc in group}
    counts = {k: 0 for k in ("agree_pred", "agree_gold", "agree_right", "disagree_pred", "disagree_gold", "disagree_right")}
    for a, b in combinations(sorted(values), 2):
        counts["agree_gold" if _same(values[a], values[b]) else "disagree_gold"] += 1
    for a, b in combinations(sorted(where), 2):
        predicted = "agree" if where[a] == where[b] else "disagree"
        counts[f"{predicted}_pred"] += 1
        if a in values and b in values and _same(values[a], values[b]) == (predicted == "agree"):
            counts[f"{predicted}_right"] += 1
    return counts


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def _ratio(right: int, total: int) -> str:
    return f"{100 * right / total:.1f}" if total else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = labelled_parser(__doc__ or "", "--labels", LABELS, "the labelled questions", "print every question's groups")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    rows = read_jsonl(args.labels)
    totals: dict[str, dict[str, int]] = {}
    for name, bot, labelled in by_corpus(rows, args.data, args.out):
        for row in labelled:
            answer = bot.ask(row["question"])
            groups = predicted_groups(answer)
            counts = score_question(row["values"], groups)
            for key in (name, "all"):
                bucket = totals.setdefault(key, {"questions": 0} | {k: 0 for k in counts})
                bucket["questions"] += 1
                for k, v in counts.items():
                    bucket[k] += v
            if args.verbose:
                shown = [[f"{d}={row['values'].get(d, '-')}" for d in g] for g in groups]
                accounts = [a.value.text for a in getattr(answer, "accounts", [])]
                print(f"{name:10s} {row['question'][:70]:70s} short={answer.short_answer.text if answer.short_answer else None!r} "
                      f"accounts={accounts} groups={shown}")

    print(f"\n{'corpus':10s} {'questions':>9s} {'agree P':>8s} {'agree R':>8s} {'disagree P':>10s} {'disagree R':>10s}"
          f" {'pairs agree/disagree (gold)':>28s}")
    for name, t in totals.items():
        print(f"{name:10s} {t['questions']:9d} {_ratio(t['agree_right'], t['agree_pred']):>8s} "
              f"{_ratio(t['agree_right'], t['agree_gold']):>8s} {_ratio(t['disagree_right'], t['disagree_pred']):>10s} "
              f"{_ratio(t['disagree_right'], t['disagree_gold']):>10s} {t['agree_gold']:>14d} / {t['disagree_gold']}")
    print("  (P: share of qa's predicted pairs that are right; R: share of the labelled pairs qa predicts right)")

    default = [r["question"] for r in rows if r["corpus"] == "default"]
    if FOLLOWUPS.is_file():
        default += [q for r in read_jsonl(FOLLOWUPS) if r["corpus"] == "default" for q in (r["first"], r["second"])]
    with qa.open_index(corpus_index("default", args.data, args.out)) as bot:
        bot.ask(default[0])
        times = []
        for _ in range(5):
            for question in default:
                t0 = time.perf_counter()
                bot.ask(question)
                times.append(1000 * (time.perf_counter() - t0))
    times.sort()
    print(f"\nask on the default corpus: p50 {statistics.median(times):.1f} ms, p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms "
          f"({len(times)} asks of {len(default)} questions, warm)")
    print(f"wall time {time.perf_counter() - started:.0f} s; command: python -m bench.answers.accounts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
