"""Follow-up questions: acc@1 of the second question of a pair, with and without the conversation.

    .venv/bin/python -m bench.answers.followups [--data /work/shared/evaldev] [--out bench/out/accounts] [--verbose]

`bench/data/followups.jsonl` holds hand-written pairs over the default corpus and the dev corpora (the
Reuters stories and RealTimeQA articles of `bench.answers.accounts`, indexed the same way): a first question, a
follow-up that needs it ("and how many were killed?", "who reported it?"), the articles that answer the
follow-up and words a right sentence holds. The second question is right at 1 when it is answered (not
declined) from one of those articles with a sentence holding one of those words (case-insensitive).
"Alone" asks it with `QA.ask`; "in conversation" after the first, with `QA.conversation()`.
"""

from __future__ import annotations

import time

import qa
from bench.answers.accounts import FOLLOWUPS, by_corpus, labelled_parser, read_jsonl


def is_right(answer: qa.Answer, row: dict) -> bool:
    """Answered from a gold article with a sentence holding a gold phrase."""
    if not answer.found or answer.citation is None or answer.sentence is None:
        return False
    sentence = " ".join(answer.sentence.split()).lower()
    return answer.citation.doc_id in row["docs"] and any(a.lower() in sentence for a in row["answers"])


def main(argv: list[str] | None = None) -> int:
    parser = labelled_parser(__doc__ or "", "--pairs", FOLLOWUPS, "the follow-up pairs",
                             "print every pair's resolved question and answers")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    rows = read_jsonl(args.pairs)
    totals: dict[str, list[int]] = {}
    for name, bot, pairs in by_corpus(rows, args.data, args.out):
        for row in pairs:
            alone = bot.ask(row["second"])
            chat = bot.conversation()
            chat.ask(row["first"])
            threaded = chat.ask(row["second"])
            marks = [int(is_right(alone, row)), int(is_right(threaded, row))]
            for key in (name, "all"):
                bucket = totals.setdefault(key, [0, 0, 0, 0])
                bucket[0] += 1
                bucket[1] += marks[0]
                bucket[2] += marks[1]
                bucket[3] += int(threaded.resolved is not None)
            if args.verbose:
                print(f"{name:10s} {row['first'][:50]!r} -> {row['second']!r}\n"
                      f"           read as {threaded.resolved!r}\n"
                      f"           alone {'right' if marks[0] else 'wrong'} ({alone.confidence:.2f}): "
                      f"{(alone.sentence or alone.message)[:110]!r}\n"
                      f"           conv  {'right' if marks[1] else 'wrong'} ({threaded.confidence:.2f}): "
                      f"{(threaded.sentence or threaded.message)[:110]!r}")

    print(f"\n{'corpus':10s} {'pairs':>5s} {'acc@1 alone':>11s} {'acc@1 in conversation':>22s} {'resolved':>8s}")
    for name, (n, alone_right, threaded_right, resolved) in totals.items():
        print(f"{name:10s} {n:5d} {100 * alone_right / n:11.1f} {100 * threaded_right / n:22.1f} {resolved:8d}")
    print(f"wall time {time.perf_counter() - started:.0f} s; command: python -m bench.answers.followups")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
