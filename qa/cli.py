"""The `qa` command: index a corpus, ask a question, search passages, open the chat UI.

Heavy modules (the model, FAISS) load inside each subcommand, so `qa --help` answers at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from qa.models import ShortAnswer

DESCRIPTION = """\
Ask questions of a local archive of news articles. Every answer is a sentence quoted
verbatim from an article, with its citation, so you can check it; when the archive
does not say, qa says so.

  qa index corpus/                   build or update the index (only changed articles are embedded)
  qa ask "how many Chinese nationals did Zelensky claim?"
  qa search "Chinese soldiers captured" -k 5
  qa tui                             chat with the archive in the terminal
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 a qa error, 2 bad usage)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from qa.errors import QAError

    try:
        return args.run(args)
    except BrokenPipeError:
        # the reader went away (`qa search ... | head`): nothing to report, and nothing more to write
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (QAError, OSError) as exc:  # OSError: a folder qa may not write, a full disk; no traceback either way
        print(f"qa: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "index", help="build or update the index of a corpus folder",
        description="Build the index of a corpus folder, or bring it up to date: new and changed articles are "
        "split and embedded, removed ones leave the index, unchanged ones are not touched. Reads .txt, .md, "
        ".html/.htm (one article per file) and .jsonl (one article per line: id, title, text, optional source, "
        "date, url, authors), recursively. Files it cannot read are skipped and listed.",
    )
    p.add_argument("corpus", nargs="?", default="corpus", help="folder of articles (default: corpus)")
    p.add_argument("--index", default="index", metavar="DIR", help="index folder (default: index)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything instead of updating")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another build of the same index to finish (default: fail at once)")
    p.add_argument("--json", action="store_true", help="print the IndexReport as JSON")
    p.set_defaults(run=_index)

    p = sub.add_parser(
        "ask", help="answer a question with a quoted, cited sentence",
        description="Answer a question with the sentence of the archive that answers it, quoted verbatim, its "
        "short answer highlighted, with the article it comes from, the character offsets of the sentence in "
        "that article, a confidence between 0 and 1, and the other articles that state the same fact. When "
        "no sentence answers, qa says so and lists the closest passages.",
    )
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--index", default="index", metavar="DIR", help="index folder (default: index)")
    p.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    p.set_defaults(run=_ask)

    p = sub.add_parser(
        "search", help="list the passages that best match a question",
        description="List the passages that best match a question: BM25 and embedding rankings fused by "
        "reciprocal rank fusion, with each ranking's rank.",
    )
    p.add_argument("question", help="the question or keywords, in quotes")
    p.add_argument("-k", type=int, default=5, metavar="N", help="how many passages (default: 5)")
    p.add_argument("--index", default="index", metavar="DIR", help="index folder (default: index)")
    p.add_argument("--json", action="store_true", help="print the passages as JSON")
    p.set_defaults(run=_search)

    p = sub.add_parser(
        "tui", help="chat with the archive in the terminal",
        description="Chat with a news archive: every answer is a sentence quoted from an article, with its "
        "source. Builds the index first if there is none.",
    )
    p.add_argument("--corpus", default=None, metavar="DIR",
                   help="folder of articles (default: ./corpus, else the corpus/ shipped with qa)")
    p.add_argument("--index", default="index", metavar="DIR", help="index folder, built there if missing (default: index)")
    p.set_defaults(run=_tui)
    return parser


def _index(args: argparse.Namespace) -> int:
    from qa import build_index

    with _ProgressBars() as bars:
        report = build_index(args.corpus, args.index, rebuild=args.rebuild, progress=bars.update, wait=args.wait)
    if args.json:
        print(report.model_dump_json(indent=2))
        return 0
    if report.reason:
        print(f"Full rebuild: {report.reason}", file=sys.stderr)
    for skipped in report.skipped:
        print(f"skipped {skipped.location}: {skipped.reason}", file=sys.stderr)
    print(report.summary())
    return 0


def _ask(args: argparse.Namespace) -> int:
    from qa import open_index

    bot = open_index(args.index)
    answer = bot.ask(args.question)
    if args.json:
        print(answer.model_dump_json(indent=2))
        return 0
    out = sys.stdout
    if not answer.found:
        print(answer.message, f"(confidence that any sentence answers: {answer.confidence:.2f})", file=out)
        if answer.related:
            print("\nClosest passages:", file=out)
            for p in answer.related[:3]:
                print(f"  - {p.title} [{p.doc_id}]: {_clip(p.text, 160)}", file=out)
        return 0
    print(_quoted(answer.sentence or "", answer.short_answer, out), file=out)
    c = answer.citation
    if answer.short_answer:
        print(f"  answer:     {answer.short_answer.text}", file=out)
    print(f"  confidence: {answer.confidence:.2f}", file=out)
    if c:
        details = ", ".join(x for x in (c.source, c.date) if x)
        print(f"  source:     {c.title}" + (f" ({details})" if details else ""), file=out)
        print(f"  citation:   {c.doc_id} [{c.path}], characters {c.start}-{c.end}", file=out)
    for other in answer.corroborating:
        print(f"  also in:    {other.title} [{other.doc_id}], characters {other.start}-{other.end}", file=out)
    return 0


def _search(args: argparse.Namespace) -> int:
    from qa import open_index

    if args.k < 1:
        print("qa: error: -k must be at least 1", file=sys.stderr)
        return 2
    passages = open_index(args.index).search(args.question, k=args.k)
    if args.json:
        print("[" + ",\n".join(p.model_dump_json(indent=2) for p in passages) + "]")
        return 0
    for n, p in enumerate(passages, 1):
        ranks = f"bm25 #{p.lexical_rank or '-'}, dense #{p.dense_rank or '-'}"
        print(f"{n}. {p.title} [{p.passage_id}]  score {p.score:.4f} ({ranks})")
        print(f"   {_clip(p.text, 300)}")
    return 0


def _tui(args: argparse.Namespace) -> int:
    from qa.tui import run

    return run(args.corpus, args.index)


def _quoted(sentence: str, short: ShortAnswer | None, out: TextIO) -> str:
    if short is None:
        return f"“{sentence}”"
    start, end = short.start, short.end
    if out.isatty():
        return f"“{sentence[:start]}\033[1;33m{sentence[start:end]}\033[0m{sentence[end:]}”"
    return f"“{sentence}”"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class _ProgressBars:
    """tqdm bars for build_index's progress callback, one bar per stage."""

    def __init__(self) -> None:
        self._bars: dict[str, object] = {}

    def update(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        from qa import BUILD_STAGES

        bar = self._bars.get(stage)
        if bar is None:
            for previous in self._bars.values():
                previous.close()  # type: ignore[attr-defined]
            bar = self._bars[stage] = tqdm(total=total, desc=BUILD_STAGES.get(stage, stage).lower(), unit=" items",
                                           file=sys.stderr, leave=True, dynamic_ncols=True)
        bar.n = done  # type: ignore[attr-defined]
        bar.refresh()  # type: ignore[attr-defined]

    def __enter__(self) -> _ProgressBars:
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in self._bars.values():
            bar.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    raise SystemExit(main())
