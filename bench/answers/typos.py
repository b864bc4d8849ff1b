"""Typos in questions: acc@1 of the dev questions with 1-2 random character edits in content words.

Every answerable question with a gold answer is asked three ways, on the same index:

    clean            as written, with typo correction (the default)
    typed            with 1 or 2 edits, each in another content word, with typo correction
    typed, as typed  the same edits, correct_typos=False: what the correction wins back

An edit (fixed seed) deletes, inserts, substitutes or swaps two neighbouring letters of a content word: a
word of four letters or more that is not a stop word, names included. Also counted: how many clean
questions the correction changed at all (any word replaced), and how many of their answers differ from
the same question asked with correct_typos=False ("clean unchanged" is the share of identical answers).

    python -m bench.answers.typos                     # seed, realtimeqa, squad
    python -m bench.answers.typos --sets seed --seed 7
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shlex
import string
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import qa
from bench.common.evalsets import DEFAULT_DATA, load_set
from bench.answers.evaluate import OUT, prepare_corpus
from bench.common.metrics import contains_answer, percentile
from qa.lexical import stop_words

_WORD = re.compile(r"[A-Za-z]{4,}")


def with_typos(question: str, rng: random.Random) -> str:
    """The question with 1 or 2 random character edits, each in a different content word."""
    words = [m for m in _WORD.finditer(question) if m.group(0).lower() not in stop_words()]
    if not words:
        return question
    chosen = sorted(rng.sample(words, min(len(words), rng.choice((1, 2)))), key=lambda m: m.start())
    out, last = [], 0
    for match in chosen:
        out += [question[last:match.start()], _edit(match.group(0), rng)]
        last = match.end()
    return "".join(out) + question[last:]


def _edit(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    letter = rng.choice(string.ascii_lowercase)
    kind = rng.choice(("delete", "insert", "substitute", "swap"))
    if kind == "delete":
        return word[:i] + word[i + 1:]
    if kind == "insert":
        return word[:i] + letter + word[i:]
    if kind == "substitute":
        other = rng.choice([c for c in string.ascii_lowercase if c != word[i].lower()])
        return word[:i] + other + word[i + 1:]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the evaldev folder")
    parser.add_argument("--sets", default="seed,realtimeqa,squad", help="comma-separated sets (bench/common/evalsets.py)")
    parser.add_argument("--seed", type=int, default=12, help="seed of the random edits")
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions of each set")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    rows = []
    for name in args.sets.split(","):
        evalset = load_set(name, args.data)
        out_dir = OUT / name
        report = qa.build_index(prepare_corpus(evalset, out_dir), out_dir / "index")
        questions = [q for q in evalset.questions if q.answerable and q.answers]
        questions = questions[: args.limit] if args.limit else questions
        rng = random.Random(args.seed)
        typed = [with_typos(q.question, rng) for q in questions]
        counts = {"clean": 0, "typed": 0, "typed, as typed": 0, "changed": 0, "clean differs": 0, "fixed": 0}
        ms = []
        with qa.open_index(out_dir / "index") as bot:
            for q, t in zip(questions, typed):
                clean = bot.ask(q.question)
                plain = bot.ask(q.question, correct_typos=False)
                tick = time.perf_counter()
                answer = bot.ask(t)
                ms.append((time.perf_counter() - tick) * 1000)
                raw = bot.ask(t, correct_typos=False)
                counts["clean"] += _right(clean, q.answers)
                counts["typed"] += _right(answer, q.answers)
                counts["typed, as typed"] += _right(raw, q.answers)
                counts["changed"] += bool(clean.corrections)
                counts["clean differs"] += (clean.sentence, clean.found) != (plain.sentence, plain.found)
                counts["fixed"] += t != q.question and _restored(answer.question, answer.corrections).lower() == \
                    " ".join(q.question.split()).lower()
        n = len(questions)
        rows.append((name, n, report.articles, counts, percentile(ms, 50) if ms else 0.0))

    print(f"{'set':11s} {'n':>4s} {'clean':>6s} {'typed':>6s} {'as typed':>8s} {'Δ typed':>7s} {'restored':>8s} "
          f"{'clean corrected':>15s} {'clean unchanged':>15s} {'typed p50 ms':>12s}")
    for name, n, _articles, c, p50 in rows:
        pct = {k: 100 * v / n for k, v in c.items()}
        print(f"{name:11s} {n:4d} {pct['clean']:6.1f} {pct['typed']:6.1f} {pct['typed, as typed']:8.1f} "
              f"{pct['typed'] - pct['clean']:+7.1f} {pct['fixed']:8.1f} {c['changed']:15d} "
              f"{100 - pct['clean differs']:14.1f}% {p50:12.1f}")
    print("(acc@1 in %: the quoted sentence holds a gold answer; clean corrected = clean questions in which any "
          "word was replaced; restored = typed questions whose corrections give back the clean one; "
          "clean unchanged = clean answers identical with and without correction)")
    print(f"(wall {time.perf_counter() - started:.0f} s; command: python -m bench.answers.typos "
          f"{shlex.join(argv if argv is not None else sys.argv[1:])})")
    return 0


def _right(answer: qa.Answer, golds: list[str]) -> bool:
    return answer.found and contains_answer(answer.sentence or "", golds)


def _restored(typed: str, corrections: list[qa.Correction]) -> str:
    out, last = [], 0
    for c in corrections:
        out += [typed[last:c.start], c.replacement]
        last = c.end
    return "".join(out) + typed[last:]


if __name__ == "__main__":
    raise SystemExit(main())
