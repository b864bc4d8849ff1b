"""The `qa` command: index a corpus, ask a question, search passages, list and show articles, open the chat.

Heavy modules (the model, FAISS) load inside each subcommand, so `qa --help` answers at once. Every string
read from the corpus goes through `qa.display.printable` before it reaches the terminal; `--json` and
`--jsonl` print the models exactly.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qa.display import clip, highlighted, printable, question_words, shell_word, styled, word_spans

if TYPE_CHECKING:
    from qa import QA, Answer, Candidate, Citation, SkippedFile

ANSWERED, NOT_ANSWERED, FAILED = 0, 1, 2

DESCRIPTION = """\
Ask questions of a local archive of news articles. Every answer is a sentence quoted
verbatim from an article, with its citation, so you can check it; when the archive
does not say, qa says so.

  qa index corpus/                   build or update the index (only changed articles are embedded)
  qa ask how many Chinese nationals did Zelensky claim
  qa search "Chinese soldiers captured" -k 5
  qa list                            the articles of the index
  qa show 001_0b0befd10767e2d2 --range 0:154
  qa tui                             chat with the archive in the terminal
"""

EPILOG = """\
index folder: --index DIR, else $QA_INDEX, else ./index.

exit status: 0 answered (or done), 1 no answer (ask: the archive does not say;
search: no passage), 2 bad usage or a problem with the index, corpus or files.
Colour only on a terminal and never with NO_COLOR set; progress bars only on a terminal.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 answered, 1 no answer, 2 bad usage or data)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return FAILED
    from qa.errors import QAError

    try:
        code = args.run(args)
        sys.stdout.flush()  # inside the try: a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # the reader went away (`qa ask ... | head -1`): it has what it wanted; write nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ANSWERED
    except (QAError, OSError) as exc:  # OSError: a folder qa may not write, a full disk; no traceback either way
        print(f"qa: error: {printable(str(exc))}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    from qa import __version__

    parser = argparse.ArgumentParser(
        prog="qa", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"qa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    index_help = "index folder (default: $QA_INDEX, else ./index)"

    def command(name: str, help: str, description: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=description, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = command(
        "index", "build or update the index of a corpus folder",
        "Build the index of a corpus folder, or bring it up to date: new and changed articles are\n"
        "split and embedded, removed ones leave the index, unchanged ones are not touched. Reads .txt,\n"
        ".md, .html/.htm, .pdf, .docx, .eml (one article per file; an e-mail's readable attachments\n"
        "too), .mbox (one per message), .jsonl (one per line: id, title, text, optional source, date,\n"
        "url, authors) and .csv (one per row, the same columns), recursively. Files it cannot read are\n"
        "skipped and listed. With --watch it stays on and updates the index as files change.",
    )
    p.add_argument("corpus", nargs="?", default="corpus", help="folder of articles (default: corpus)")
    p.add_argument("--index", default=None, metavar="DIR", help=index_help)
    p.add_argument("--rebuild", action="store_true", help="re-embed everything instead of updating")
    p.add_argument("--verify", action="store_true", help="read every index file, compare it with its checksum, build nothing")
    p.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                   help="wait this long for another build of the same index to finish (default: fail at once)")
    p.add_argument("--json", action="store_true", help="print the IndexReport as JSON")
    p.add_argument("--csv-columns", type=_csv_columns, default=None, metavar="FIELD=COLUMN,...",
                   help="the CSV columns of the fields when a header does not name them id, title, text, date, "
                   "source, url (e.g. text=body,title=headline,id=story_id)")
    p.add_argument("--watch", action="store_true",
                   help="stay on: update the index each time files are added, changed or removed (ctrl+c or SIGTERM stops "
                   "it; a build it stops leaves the previous index whole)")
    p.set_defaults(run=_index)

    p = command(
        "ask", "answer a question with a quoted, cited sentence",
        "Answer a question with the sentence of the archive that answers it, quoted verbatim, its\n"
        "short answer highlighted, with the article it comes from, the character offsets of the\n"
        "sentence in that article's cleaned text (`qa show ID --range START:END` prints them), a\n"
        "confidence between 0 and 1, and the other articles that state the same fact. When no\n"
        "sentence answers, qa says so and lists the closest passages (exit status 1).\n\n"
        "  qa ask who is the spokesperson of the Chinese foreign ministry\n"
        "  qa ask \"who is China's spokesperson?\"     (quotes are optional, but the shell reads\n"
        "                                           ? * ' itself: quote a question with those)\n"
        "  echo 'who captured two Chinese soldiers?' | qa ask -\n"
        "  qa ask --file questions.txt --jsonl > answers.jsonl",
    )
    p.add_argument("question", nargs="*", help="the question (several words need no quotes); - reads it from stdin")
    p.add_argument("--file", metavar="FILE", help="ask every line of FILE (- for stdin), one answer each; "
                   "exit status 1 when any has none")
    p.add_argument("--top", type=int, default=1, metavar="N",
                   help="up to N answers, each from a different article (default: 1; --json has them all "
                   "as the Answer's candidates)")
    p.add_argument("--index", default=None, metavar="DIR", help=index_help)
    _add_filters(p)
    p.add_argument("--no-correct", action="store_true", help="ask as typed: do not correct words the archive does not know")
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the whole Answer as JSON (a list with --file)")
    output.add_argument("--jsonl", action="store_true", help="print one Answer as JSON per line (for --file)")
    p.set_defaults(run=_ask)

    p = command(
        "search", "list the passages that best match a question",
        "List the passages that best match a question: BM25 and embedding rankings fused by\n"
        "reciprocal rank fusion, with each ranking's rank, and the passage's sentence that best\n"
        "matches the question, its words highlighted.",
    )
    p.add_argument("question", nargs="+", help="the question or keywords (no quotes needed)")
    p.add_argument("-k", type=int, default=5, metavar="N", help="how many passages (default: 5)")
    p.add_argument("--index", default=None, metavar="DIR", help=index_help)
    p.add_argument("--json", action="store_true", help="print the passages as JSON")
    _add_filters(p)
    p.set_defaults(run=_search)

    p = command("list", "list the articles of the index",
                "List the articles of the index: id, date, source and title, by date.")
    p.add_argument("--index", default=None, metavar="DIR", help=index_help)
    p.add_argument("--json", action="store_true", help="print the articles as JSON (no text)")
    p.set_defaults(run=_list)

    p = command(
        "show", "print an article's cleaned text, a cited range highlighted",
        "Print the cleaned text of an article: the text qa indexed and every citation's offsets\n"
        "count characters in (from 0, end excluded). It differs from the file: the title line,\n"
        "a `date` line and page furniture are gone. --range or --sentence highlights part of it\n"
        "(bold on a terminal, between ** otherwise).\n\n"
        "  qa show 001_0b0befd10767e2d2 --range 0:154\n"
        "  qa show 001_0b0befd10767e2d2 --sentences",
    )
    p.add_argument("doc_id", metavar="ID", help="the article's id (qa list shows them)")
    mark = p.add_mutually_exclusive_group()
    mark.add_argument("--range", metavar="START:END", help="highlight these character offsets")
    mark.add_argument("--sentence", type=int, metavar="N", help="highlight sentence N (from 0)")
    mark.add_argument("--sentences", action="store_true", help="list the sentences with their number and offsets")
    p.add_argument("--index", default=None, metavar="DIR", help=index_help)
    p.add_argument("--json", action="store_true", help="print the Article as JSON")
    p.set_defaults(run=_show)

    p = command(
        "tui", "chat with the archive in the terminal",
        "Chat with a news archive: every answer is a sentence quoted from an article, with its\n"
        "source. Builds the index first if there is none. Started in a folder with neither ./index\n"
        "nor ./corpus, and without --index or $QA_INDEX, it opens the corpus shipped with qa and\n"
        "the index beside it, rather than creating ./index there.",
    )
    p.add_argument("--corpus", default=None, metavar="DIR",
                   help="folder of articles (default: ./corpus, else the corpus/ shipped with qa)")
    p.add_argument("--index", default=None, metavar="DIR", help="index folder, built there if missing "
                   "(default: $QA_INDEX, else ./index, else the one beside the shipped corpus)")
    p.add_argument("--no-history", action="store_true",
                   help="keep no questions across sessions (default: kept in $QA_HISTORY, else "
                   "~/.local/share/qa/history)")
    p.add_argument("--watch", action="store_true",
                   help="update the index each time the corpus changes, while the chat is open")
    p.set_defaults(run=_tui)

    p = command(
        "completion", "print a shell completion script",
        "Print a completion script for bash or zsh:\n\n"
        "  qa completion bash > ~/.local/share/bash-completion/completions/qa\n"
        "  qa completion zsh > ~/.zfunc/_qa        # with fpath+=(~/.zfunc) before compinit",
    )
    p.add_argument("shell", choices=["bash", "zsh"])
    p.set_defaults(run=_completion)
    _add_serve_and_store(sub)
    return parser


def _add_filters(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("filters", "answer only from some articles (dates are ISO: 2025, 2025-04, 2025-04-12)")
    group.add_argument("--since", metavar="DATE", help="articles dated on or after DATE (a month: from its first day)")
    group.add_argument("--until", metavar="DATE", help="articles dated on or before DATE (a month: to its last day)")
    group.add_argument("--source", action="append", metavar="NAME", dest="sources",
                       help="articles of this outlet or corpus sub-folder, any case; repeat for several")
    group.add_argument("--undated", choices=["keep", "drop"], default="keep",
                       help="with --since/--until: keep articles without a date (default) or drop them")


def _filters(args: argparse.Namespace) -> dict:
    return {"since": args.since, "until": args.until, "sources": args.sources, "undated": args.undated}
def _csv_columns(text: str) -> dict[str, str]:
    fields = ("id", "title", "text", "date", "source", "url", "authors")
    mapping = {}
    for pair in text.split(","):
        field, _, column = pair.partition("=")
        if field.strip() not in fields or not column.strip():
            raise argparse.ArgumentTypeError(
                f"{pair!r} is not FIELD=COLUMN with FIELD one of {', '.join(fields)} (e.g. text=body,title=headline)")
        mapping[field.strip()] = column.strip()
    return mapping


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds, 0 or more")
    return value


# --- commands --------------------------------------------------------------------------------------


def _index(args: argparse.Namespace) -> int:
    from qa import build_index

    if args.verify:
        from qa import verify_index

        check = verify_index(_index_dir(args))
        for problem in check.damaged:
            print(f"damaged {problem}", file=sys.stderr)
        print(f"{check.files} files, {check.bytes:,} bytes checked: "
              + ("all as the build wrote them" if check.ok else f"{len(check.damaged)} damaged; run `qa index` to repair"))
        return ANSWERED if check.ok else FAILED

    if args.watch:
        return _watch(args)
    with _ProgressBars(enabled=sys.stderr.isatty()) as bars:
        report = build_index(args.corpus, _index_dir(args), rebuild=args.rebuild, progress=bars.update,
                             wait=args.wait, **({"csv_columns": args.csv_columns} if args.csv_columns else {}))
    if args.json:
        print(report.model_dump_json(indent=2))
        return ANSWERED
    if report.reason:
        print(f"Full rebuild: {report.reason}", file=sys.stderr)
    for skipped in report.skipped:
        print(_skip_line(skipped), file=sys.stderr)
    print(report.summary())
    return ANSWERED


def _watch(args: argparse.Namespace) -> int:
    import time

    from qa.errors import QAError
    from qa.models import IndexReport
    from qa.watch import watch_index

    def built(report: IndexReport) -> None:
        if args.json:
            print(report.model_dump_json(), flush=True)
            return
        for skipped in report.skipped:
            print(_skip_line(skipped), file=sys.stderr)
        print(f"{time.strftime('%H:%M:%S')} {report.summary()}", flush=True)

    def failed(exc: QAError) -> None:
        print(f"{time.strftime('%H:%M:%S')} qa: error: {printable(str(exc))} (still watching)", file=sys.stderr, flush=True)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM (a service manager stopping qa) ends the watch as Ctrl-C does

    signal.signal(signal.SIGTERM, interrupted)
    shown = printable(str(args.corpus), one_line=True)
    print(f"watching {shown}/ for changes (ctrl+c stops)", file=sys.stderr, flush=True)
    try:
        watch_index(args.corpus, _index_dir(args), on_build=built, on_error=failed, rebuild=args.rebuild,
                    wait=max(args.wait, 60.0), **({"csv_columns": args.csv_columns} if args.csv_columns else {}))
    except KeyboardInterrupt:
        print(f"stopped watching {shown}/; the index is as the last finished build left it", file=sys.stderr)
    return ANSWERED


def _ask(args: argparse.Namespace) -> int:
    from qa import open_index

    if args.top < 1:
        return _usage("ask", "--top must be at least 1")
    if args.file is not None and args.question:
        return _usage("ask", "give a question or --file, not both")
    if args.file is not None:
        questions = list(_lines(args.file))
    elif args.question == ["-"]:
        questions = [sys.stdin.read()]
    elif args.question:
        questions = [" ".join(args.question)]
    else:
        return _usage("ask", "type a question, e.g. qa ask who is Lin Jian, or use - or --file")
    with open_index(_index_dir(args)) as bot:
        return _answer_all(bot, questions, args)


def _answer_all(bot: QA, questions: list[str], args: argparse.Namespace) -> int:
    from qa import FilterError, QuestionError

    batch = args.file is not None
    unanswered = 0
    dumped = []
    for number, question in enumerate(questions, 1):
        try:
            answer = bot.ask(question, **_filters(args), correct_typos=not args.no_correct)
        except FilterError:
            raise
        except QuestionError:
            if not batch:
                raise
            continue  # a blank line in a file of questions
        unanswered += not answer.found
        if args.jsonl:
            print(answer.model_dump_json())
        elif args.json:
            dumped.append(answer.model_dump_json(indent=2))
        else:
            if batch:
                print(("\n" if number > 1 else "") + styled(f"» {printable(answer.question)}", "1"))
            _print_answer(bot, answer, args.top)
    if args.json:
        print(dumped[0] if not batch else "[" + ",\n".join(dumped) + "]")
    return NOT_ANSWERED if unanswered else ANSWERED


def _print_answer(bot: QA, answer: Answer, top: int) -> None:
    if answer.corrections:
        print("(read as: " + ", ".join(f"{printable(c.word)} → {printable(c.replacement)}" for c in answer.corrections)
              + ")")
    if not answer.found:
        considered = answer.candidates or answer.related
        print(printable(answer.message) + (f" (confidence that any sentence answers: {answer.confidence:.2f})"
                                           if considered else ""))
        if answer.related:
            print("\nClosest passages:")
            for p in answer.related[:3]:
                print(f"  - {printable(p.title, one_line=True)} [{printable(p.doc_id, one_line=True)}]: "
                      f"{printable(clip(p.text, 160))}")
        return
    assert answer.citation is not None and answer.sentence is not None
    short = answer.short_answer
    if short:  # each part made printable on its own, so an escaped character cannot shift the highlight
        before, said, after = (printable(answer.sentence[a:b]) for a, b in
                               ((0, short.start), (short.start, short.end), (short.end, len(answer.sentence))))
        print(f"“{before}{highlighted(said, [(0, len(said))])}{after}”")
    else:
        print(f"“{printable(answer.sentence)}”")
    if short:
        print(f"  answer:     {printable(short.text)}")
    print(f"  confidence: {answer.confidence:.2f}")
    _print_citation(answer.citation)
    for other in answer.corroborating:
        sentence = _cited_text(bot, other)
        print(f"  also in:    {printable(other.title, one_line=True)} [{printable(other.doc_id, one_line=True)}], "
              f"characters {other.start}-{other.end}")
        if sentence:
            print(f"              “{printable(clip(sentence, 200))}”")
    if answer.accounts:
        _print_accounts(answer)
    if top > 1:
        seen = {answer.citation.doc_id}
        others: list[Candidate] = []
        for candidate in answer.candidates:
            if candidate.citation.doc_id not in seen and len(others) < top - 1:
                seen.add(candidate.citation.doc_id)
                others.append(candidate)
        for n, candidate in enumerate(others, 2):
            print(f"\n{n}. “{printable(candidate.sentence)}”")
            print(f"  score:      {candidate.score:.2f} (the ranker's, not a calibrated confidence)")
            _print_citation(candidate.citation)
        if len(others) < top - 1:
            found = len(others) + 1
            print(f"\n(only {found} article{'s' if found > 1 else ''} among the sentences qa considered)",
                  file=sys.stderr)


def _print_accounts(answer: Answer) -> None:
    print("\nOther accounts:")
    for account in answer.accounts:
        who = f" ({printable(str(account.speaker), one_line=True)})" if account.speaker else ""
        c = account.citation
        dated = ", ".join(printable(x, one_line=True) for x in (c.source, c.date) if x)
        print(f"  {printable(account.value.text, one_line=True)}{who}: {printable(c.title, one_line=True)}"
              f"{f' ({dated})' if dated else ''} [{printable(c.doc_id, one_line=True)}], characters {c.start}-{c.end}")
        print(f"    “{printable(clip(account.sentence, 200))}”")
        for other in account.corroborating:
            print(f"    also in: {printable(other.title, one_line=True)} [{printable(other.doc_id, one_line=True)}]")


def _print_citation(c: Citation) -> None:
    details = ", ".join(printable(x, one_line=True) for x in (c.source, c.date) if x)
    print(f"  source:     {printable(c.title, one_line=True)}" + (f" ({details})" if details else ""))
    doc_id = printable(c.doc_id, one_line=True)
    print(f"  citation:   {doc_id} [{printable(c.path, one_line=True)}], characters {c.start}-{c.end} of its "
          f"cleaned text (qa show {shell_word(c.doc_id)} --range {c.start}:{c.end})")


def _cited_text(bot: QA, citation: Citation) -> str | None:
    from qa import ArticleNotFoundError

    try:
        return bot.article(citation.doc_id).text[citation.start:citation.end]
    except ArticleNotFoundError:
        return None


def _search(args: argparse.Namespace) -> int:
    from qa import open_index

    if args.k < 1:
        return _usage("search", "-k must be at least 1")
    question = " ".join(args.question)
    with open_index(_index_dir(args)) as bot:
        passages = bot.search(question, k=args.k, **_filters(args))
        if not passages and any((args.since, args.until, args.sources)):
            from qa.filters import make_filter

            within = make_filter(**_filters(args))
            print(printable(within.nothing_left()) if within else "", file=sys.stderr)
        if args.json:
            print("[" + ",\n".join(p.model_dump_json(indent=2) for p in passages) + "]")
            return ANSWERED if passages else NOT_ANSWERED
        words = question_words(question)
        for n, p in enumerate(passages, 1):
            ranks = f"bm25 #{p.lexical_rank or '-'}, dense #{p.dense_rank or '-'}"
            print(f"{n}. {printable(p.title, one_line=True)} [{printable(p.passage_id, one_line=True)}]  "
                  f"score {p.score:.4f} ({ranks})")
            sentences = [s for s in bot.sentences(p.doc_id) if p.first_sentence <= s.index <= p.last_sentence]
            best = max(sentences, key=lambda s: (len(words & question_words(s.text)), -s.index), default=None)
            text = printable(clip(best.text if best else p.text, 300))
            where = f"   (sentence {best.index}, characters {best.start}-{best.end})" if best else ""
            print(f"   {highlighted(text, word_spans(text, words))}{where}")
    return ANSWERED if passages else NOT_ANSWERED


def _list(args: argparse.Namespace) -> int:
    from qa import open_index

    with open_index(_index_dir(args)) as bot:
        articles = bot.articles()
    if args.json:
        print("[" + ",\n".join(a.model_dump_json(indent=2) for a in articles) + "]")
        return ANSWERED
    width = max((len(a.doc_id) for a in articles), default=2)
    print(styled(f"{'id':<{width}}  {'date':<10}  {'source':<16}  title", "1"))
    for a in articles:
        source = clip(printable(a.source or "-", one_line=True), 16)
        print(f"{printable(a.doc_id, one_line=True):<{width}}  {a.date or '-':<10}  {source:<16}  "
              f"{printable(a.title, one_line=True)}")
    return ANSWERED


def _show(args: argparse.Namespace) -> int:
    from qa import open_index

    with open_index(_index_dir(args)) as bot:
        article = bot.article(args.doc_id)
        if args.json:
            print(article.model_dump_json(indent=2))
            return ANSWERED
        sentences = bot.sentences(article.doc_id) if args.sentence is not None or args.sentences else []
    spans: list[tuple[int, int]] = []
    if args.range:
        match = re.fullmatch(r"(\d+)[:-](\d+)", args.range)
        if not match or not int(match[1]) < int(match[2]) <= len(article.text):
            return _usage("show", f"--range wants START:END with 0 <= START < END <= {len(article.text)}")
        spans = [(int(match[1]), int(match[2]))]
    if args.sentence is not None:
        if not 0 <= args.sentence < len(sentences):
            return _usage("show", f"--sentence wants 0 to {len(sentences) - 1}: {article.doc_id} has "
                                  f"{len(sentences)} sentences")
        chosen = sentences[args.sentence]
        spans = [(chosen.start, chosen.end)]
    print(styled(printable(article.title, one_line=True), "1"))
    meta = [printable(x, one_line=True) for x in (article.source, article.date, ", ".join(article.authors)) if x]
    if meta:
        print(" · ".join(meta))
    print(f"{printable(article.doc_id, one_line=True)} [{printable(article.path, one_line=True)}]"
          + (f" {printable(article.url, one_line=True)}" if article.url else ""))
    print(f"{len(article.text)} characters of cleaned text; offsets count from its first character\n")
    if args.sentences:
        for s in sentences:
            print(f"[{s.index}] {s.start}-{s.end}  {printable(s.text)}")
        return ANSWERED
    if spans:
        start, end = spans[0]
        cited = printable(article.text[start:end])
        marked = highlighted(cited, [(0, len(cited))]) if sys.stdout.isatty() else f"**{cited}**"
        print(printable(article.text[:start]) + marked + printable(article.text[end:]))
    else:
        print(printable(article.text))
    return ANSWERED


def _add_serve_and_store(sub: argparse._SubParsersAction) -> None:
    """`qa serve`, and `--store URI` beside `--index DIR` wherever an index is read or written."""
    for name in ("index", "ask", "search", "list", "show"):
        sub.choices[name].add_argument(
            "--store", dest="index", default=argparse.SUPPRESS, metavar="URI",
            help="an index on Milvus instead of a folder: milvus-lite:PATH.db or milvus://HOST:19530[/PREFIX]",
        )
    p = sub.add_parser(
        "serve", help="answer questions over HTTP (POST /ask, GET /search, /articles/ID, /stats, /docs)",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Serve the index over HTTP: POST /ask {\"question\": ...} or GET /ask?q=... returns the "
        "Answer as JSON; GET /search?q=...&k=N, /articles/DOC_ID, /healthz, /stats; OpenAPI docs at /docs. "
        "Binds 127.0.0.1 unless told otherwise; any other host needs a token (--token or QA_TOKEN), which "
        "every request but /healthz must then send as `Authorization: Bearer TOKEN`. When a build publishes "
        "a new generation, the server moves to it without failing a request in flight.\n\n"
        "  qa serve --index index/\n"
        "  QA_TOKEN=$(openssl rand -hex 16) qa serve --host 0.0.0.0 --store milvus://milvus:19530/news",
    )
    p.add_argument("--index", "--store", dest="index", default=None, metavar="DIR|URI",
                   help="index folder or Milvus URI (default: $QA_INDEX, else ./index)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--token", default=os.environ.get("QA_TOKEN"),
                   help="bearer token required of every request (default: $QA_TOKEN; needed beyond loopback)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="deadline of each request; later ones get 504 (default: 10)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="requests answered at once, the others wait (default: one per core, at least 2)")
    p.add_argument("--max-question", type=int, default=1000, metavar="CHARS",
                   help="longest question accepted (default: 1000)")
    p.add_argument("--no-access-log", action="store_true", help="do not log each request")
    p.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    try:
        from qa.serve import Limits, check_binding, run
    except ImportError as exc:
        print(f"qa: error: qa serve needs its extra ({exc.name} is missing): pip install 'qa[serve]'", file=sys.stderr)
        return FAILED
    try:
        check_binding(args.host, args.token)
    except ValueError as exc:
        return _usage("serve", str(exc))
    limits = Limits(timeout=args.timeout, max_question=args.max_question)
    if args.workers:
        limits = Limits(timeout=args.timeout, max_question=args.max_question, workers=args.workers)
    run(_index_dir(args), host=args.host, port=args.port, token=args.token, limits=limits,
        access_log=not args.no_access_log)
    return ANSWERED


def _tui(args: argparse.Namespace) -> int:
    from qa.tui import default_corpus, default_history, run

    corpus = Path(args.corpus) if args.corpus else default_corpus()
    index = args.index or os.environ.get("QA_INDEX")
    if not index:
        here = Path("index").is_dir() or Path("corpus").is_dir() or args.corpus
        index = "index" if here else str(corpus.parent / "index")
    return run(corpus, index, None if args.no_history else default_history(), watch=args.watch)


def _completion(args: argparse.Namespace) -> int:
    import shtab

    print(shtab.complete(_parser(), shell=args.shell))
    return ANSWERED


# --- helpers ----------------------------------------------------------------------------------------


def _skip_line(skipped: SkippedFile) -> str:
    """"skipped report.pdf: why", the file named once when the reason already starts with it."""
    reason = skipped.reason.removeprefix(f"{skipped.location}: ")
    return f"skipped {printable(skipped.location, one_line=True)}: {printable(reason)}"


def _index_dir(args: argparse.Namespace) -> str:
    return args.index or os.environ.get("QA_INDEX") or "index"


def _usage(command: str, message: str) -> int:
    print(f"usage: qa {command} --help\nqa {command}: error: {message}", file=sys.stderr)
    return FAILED


def _lines(name: str) -> Iterator[str]:
    if name == "-":
        yield from sys.stdin
        return
    with open(name, encoding="utf-8") as lines:
        yield from lines


class _ProgressBars:
    """tqdm bars for build_index's progress callback, one bar per stage; when stderr is not a terminal (a log,
    a pipe), one plain line as each stage starts instead."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bars: dict[str, object] = {}

    def update(self, stage: str, done: int, total: int) -> None:
        from qa import BUILD_STAGES

        if not self._enabled:
            if stage not in self._bars:
                self._bars[stage] = None
                print(f"{BUILD_STAGES.get(stage, stage).lower()}: {total} items", file=sys.stderr, flush=True)
            return
        from tqdm import tqdm

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
            if bar is not None:
                bar.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    raise SystemExit(main())
