"""Compare sentence splitters on hand-labelled news sentences and on speed over the BBC corpus.

Run: .venv/bin/python -m bench.experiments.splitter [--corpus BBC_FOLDER] [--reuters REUTERS_FOLDER] [--show-failures]

qa.sentences, sentencex (a dependency of qa: qa.sentences corrects its boundaries), pysbd (in qa's `test`
extra) and the regex always run; blingfire and syntok are measured only if installed
(`pip install blingfire syntok`), neither being a dependency of qa. Every splitter gets one line
(paragraph) at a time, as qa.sentences does. A second table times qa's own parse_article +
split_sentences over the 19,043 Reuters stories.

Caveat: the labelled cases, the regex baseline and qa's fixes were written by the same hand, the last two
after looking at the first 35 cases and at where pysbd and sentencex disagree on BBC and Reuters text; the
last 13 cases come from those disagreements. Read the accuracy columns as a sanity check, not a benchmark.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path


# Each case: a paragraph and the sentences a careful reader would cut it into.
CASES: list[tuple[str, list[str]]] = [
    (
        "The U.S. has called the reports “disturbing”. U.S. intelligence has also alleged it.",
        ["The U.S. has called the reports “disturbing”.", "U.S. intelligence has also alleged it."],
    ),
    (
        "Mr. Smith went to Washington. He met Dr. Jones there.",
        ["Mr. Smith went to Washington.", "He met Dr. Jones there."],
    ),
    (
        "He met Gov. Jerry Brown and Sen. John McCain on Tuesday. They talked.",
        ["He met Gov. Jerry Brown and Sen. John McCain on Tuesday.", "They talked."],
    ),
    (
        "The meeting is on Jan. 5 at 10 a.m. in Washington. It will be brief.",
        ["The meeting is on Jan. 5 at 10 a.m. in Washington.", "It will be brief."],
    ),
    (
        "Shares of Acme Inc. rose 3.5 pct to 12.50 dlrs. Volume was heavy.",
        ["Shares of Acme Inc. rose 3.5 pct to 12.50 dlrs.", "Volume was heavy."],
    ),
    (
        '"Our soldiers are like brothers – willing to die," he remarked. He left.',
        ['"Our soldiers are like brothers – willing to die," he remarked.', "He left."],
    ),
    (
        "“China is not a party to the conflict,” said Lin Jian. “We remain a firm supporter.”",
        ["“China is not a party to the conflict,” said Lin Jian.", "“We remain a firm supporter.”"],
    ),
    (
        'He added: "China is neither the creator nor a party." The talks ended.',
        ['He added: "China is neither the creator nor a party."', "The talks ended."],
    ),
    (
        "“Is this the end?” she asked. Nobody answered.",
        ["“Is this the end?” she asked.", "Nobody answered."],
    ),
    (
        "His comrades waited 8–10 hours for aid. Russia has suffered 1,028,610 casualties since Feb. 24, 2022.",
        ["His comrades waited 8–10 hours for aid.", "Russia has suffered 1,028,610 casualties since Feb. 24, 2022."],
    ),
    (
        "Lin Pan received a St. George's Cross near Bakhmut. He was 38.",
        ["Lin Pan received a St. George's Cross near Bakhmut.", "He was 38."],
    ),
    (
        "J.K. Rowling's new book sold 2.6m copies. Her publisher, Bloomsbury Plc, was pleased.",
        ["J.K. Rowling's new book sold 2.6m copies.", "Her publisher, Bloomsbury Plc, was pleased."],
    ),
    (
        "The No. 2 player, Andy Roddick, lost 6-4 7-5. He was upset.",
        ["The No. 2 player, Andy Roddick, lost 6-4 7-5.", "He was upset."],
    ),
    (
        "Profits rose to £1.5bn ($2.8bn) in the year to March. Analysts had expected £1.4bn.",
        ["Profits rose to £1.5bn ($2.8bn) in the year to March.", "Analysts had expected £1.4bn."],
    ),
    (
        "The firm (see www.example.co.uk) said sales fell 3%. It gave no reason.",
        ["The firm (see www.example.co.uk) said sales fell 3%.", "It gave no reason."],
    ),
    (
        "He lives in the U.K. and works in the U.S. for a U.N. agency.",
        ["He lives in the U.K. and works in the U.S. for a U.N. agency."],
    ),
    (
        "The company was founded in 1987. It employs 400 people.",
        ["The company was founded in 1987.", "It employs 400 people."],
    ),
    (
        "Sales rose... but not by much. What happened? Nobody knows!",
        ["Sales rose... but not by much.", "What happened?", "Nobody knows!"],
    ),
    (
        "The vote was 5 vs. 3, a clear majority. It passed.",
        ["The vote was 5 vs. 3, a clear majority.", "It passed."],
    ),
    (
        "Output grew 2.1 pct, the Commerce Dept. said on Friday. That beat forecasts.",
        ["Output grew 2.1 pct, the Commerce Dept. said on Friday.", "That beat forecasts."],
    ),
    (
        'The Fed\'s Alan Greenspan said rates would stay at 1%. "We are watching," he said.',
        ["The Fed's Alan Greenspan said rates would stay at 1%.", '"We are watching," he said.'],
    ),
    (
        "Gen. David Petraeus arrived in Kabul on Sept. 11. He met troops.",
        ["Gen. David Petraeus arrived in Kabul on Sept. 11.", "He met troops."],
    ),
    (
        "Mrs. Thatcher and Ms. Jones met Lt. Col. Smith. They discussed it.",
        ["Mrs. Thatcher and Ms. Jones met Lt. Col. Smith.", "They discussed it."],
    ),
    (
        "Inflation was 2.5% in Jan., down from 2.7% a year earlier. The bank held rates.",
        ["Inflation was 2.5% in Jan., down from 2.7% a year earlier.", "The bank held rates."],
    ),
    (
        "Apple Inc. said on Monday it would buy the firm. The deal is worth $3 bn.",
        ["Apple Inc. said on Monday it would buy the firm.", "The deal is worth $3 bn."],
    ),
    (
        'He said the claims were "absolutely groundless." The ministry agreed.',
        ['He said the claims were "absolutely groundless."', "The ministry agreed."],
    ),
    (
        "The U.S.-led coalition struck at 3 a.m. local time. Casualties were unknown.",
        ["The U.S.-led coalition struck at 3 a.m. local time.", "Casualties were unknown."],
    ),
    (
        "Shr 52 cts vs 1.04 dlrs. Net 1,000,000 vs 2,000,000.",
        ["Shr 52 cts vs 1.04 dlrs.", "Net 1,000,000 vs 2,000,000."],
    ),
    (
        "‘We will win,’ said the coach. ‘We always do.’",
        ["‘We will win,’ said the coach.", "‘We always do.’"],
    ),
    (
        "The case is Smith v. Jones. It was heard on Wednesday.",
        ["The case is Smith v. Jones.", "It was heard on Wednesday."],
    ),
    (
        "Mr Zelensky said Ukraine had the data. Mr Lin denied it.",
        ["Mr Zelensky said Ukraine had the data.", "Mr Lin denied it."],
    ),
    (
        "Microsoft Corp. and Intel Corp. said profits rose. Both beat estimates.",
        ["Microsoft Corp. and Intel Corp. said profits rose.", "Both beat estimates."],
    ),
    (
        "The plan, unveiled by Chancellor Gordon Brown, costs £6bn. Critics said it was too little.",
        ["The plan, unveiled by Chancellor Gordon Brown, costs £6bn.", "Critics said it was too little."],
    ),
    (
        "He joined in 2001 (aged 17). He left in 2004.",
        ["He joined in 2001 (aged 17).", "He left in 2004."],
    ),
    (
        "Same. Same. Same.",
        ["Same.", "Same.", "Same."],
    ),
    # Habits of the BBC and Reuters corpora: a quote running over paragraphs joined on one line, titles
    # ending in "!" or "?", file extensions, "U.S. And" (Reuters upper-cases words after a stop).
    (
        'Mr Mandelson said: "I understand why the Tories fear his skills. "What I understand less is why the BBC '
        "joins them.",
        [
            'Mr Mandelson said: "I understand why the Tories fear his skills.',
            '"What I understand less is why the BBC joins them.',
        ],
    ),
    (
        'He said: "We will study this judgement. "It does not affect other cases." Napier sued in 2001.',
        ['He said: "We will study this judgement.', '"It does not affect other cases."', "Napier sued in 2001."],
    ),
    (
        '"This is a humiliating retreat. "The bill now imposes a stricter regime than at present." Shares in Rank '
        "Group fell.",
        [
            '"This is a humiliating retreat.',
            '"The bill now imposes a stricter regime than at present."',
            "Shares in Rank Group fell.",
        ],
    ),
    (
        "The film shows his early days in Wham! along with his legal battles with Sony.",
        ["The film shows his early days in Wham! along with his legal battles with Sony."],
    ),
    (
        "Meet The Fockers and Shall We Dance? starring Jennifer Lopez completed the top five.",
        ["Meet The Fockers and Shall We Dance? starring Jennifer Lopez completed the top five."],
    ),
    (
        "Users should not open playlist files with the extension .pls or .m3u from unknown sources.",
        ["Users should not open playlist files with the extension .pls or .m3u from unknown sources."],
    ),
    (
        'She won the 10,500m race in 33.22. "This is a good beginning," she said.',
        ["She won the 10,500m race in 33.22.", '"This is a good beginning," she said.'],
    ),
    (
        'Labour will bear out the old maxim: "No pain, no gain." The Tories disagree.',
        ['Labour will bear out the old maxim: "No pain, no gain."', "The Tories disagree."],
    ),
    (
        "Lead bank Citizens Fidelity was upgraded to AA-plus from A. Its deposits were upgraded too.",
        ["Lead bank Citizens Fidelity was upgraded to AA-plus from A.", "Its deposits were upgraded too."],
    ),
    (
        "Nissan has reached agreement with <Lombard North Central Plc> of the U.K. It will take a 50 pct stake.",
        ["Nissan has reached agreement with <Lombard North Central Plc> of the U.K.", "It will take a 50 pct stake."],
    ),
    (
        "The unit merged with <Trident Seafoods Corp.> Its president was named to head the new company.",
        ["The unit merged with <Trident Seafoods Corp.>", "Its president was named to head the new company."],
    ),
    (
        "Merrill Lynch is a member of the London Stock Exchange, in addition to its U.S. And other activities.",
        ["Merrill Lynch is a member of the London Stock Exchange, in addition to its U.S. And other activities."],
    ),
    (
        "Kuranari said both the U.S. and Japan should approach the trade imbalance calmly.",
        ["Kuranari said both the U.S. and Japan should approach the trade imbalance calmly."],
    ),
]

Splitter = Callable[[str], list[str]]

_ABBREVIATIONS = (
    r"(?:Mr|Mrs|Ms|Dr|Prof|St|Gen|Gov|Sen|Rep|Lt|Col|Sgt|Capt|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
    r"|No|vs|v|Inc|Corp|Co|Ltd|Dept|[A-Z])"
)


def _regex_splitter() -> Splitter:
    # Python's look-behind needs fixed width, so abbreviations are checked after the candidate match.
    candidate = re.compile(r"[.!?…]+[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
    abbreviation = re.compile(rf"(?:^|[\s(])(?:{_ABBREVIATIONS}|(?:[A-Za-z]\.)+[A-Za-z])\.$")

    def split(text: str) -> list[str]:
        out, start = [], 0
        for match in candidate.finditer(text):
            if abbreviation.search(text[start : match.start() + 1]):
                continue
            out.append(text[start : match.end()].strip())
            start = match.end()
        if text[start:].strip():
            out.append(text[start:].strip())
        return out

    return split


def _splitters() -> dict[str, Splitter]:
    import pysbd
    import sentencex

    from qa.sentences import split_sentences

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=False)
    splitters: dict[str, Splitter] = {
        "qa.sentences": lambda t: [t[s:e] for s, e in split_sentences(t)],
        "pysbd": lambda t: [s.strip() for s in segmenter.segment(t) if s.strip()],
        "regex": _regex_splitter(),
        "sentencex": lambda t: [s.strip() for s in sentencex.segment("en", t) if s.strip()],
    }
    try:
        import blingfire

        splitters["blingfire"] = lambda t: [s for s in blingfire.text_to_sentences(t).split("\n") if s]
    except ImportError:
        pass
    try:
        import syntok.segmenter as syntok

        splitters["syntok"] = lambda t: [
            "".join(str(token) for token in sentence).strip() for para in syntok.analyze(t) for sentence in para
        ]
    except ImportError:
        pass
    return splitters


def _boundaries(text: str, sentences: list[str]) -> set[int]:
    """End offsets of all sentences but the last, found by walking the text."""
    ends, cursor = set(), 0
    for sentence in sentences[:-1]:
        at = text.find(sentence, cursor)
        if at < 0:
            return {-1}
        cursor = at + len(sentence)
        ends.add(cursor)
    return ends


def _accuracy(split: Splitter) -> tuple[int, float, float, list[str]]:
    exact, tp, fp, fn, failures = 0, 0, 0, 0, []
    for text, expected in CASES:
        got = split(text)
        if got == expected:
            exact += 1
        else:
            failures.append(text)
        want, have = _boundaries(text, expected), _boundaries(text, got)
        tp += len(want & have)
        fp += len(have - want)
        fn += len(want - have)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return exact, precision, recall, failures


def _lines(corpus: Path) -> list[str]:
    lines: list[str] = []
    for path in sorted(corpus.rglob("*.txt")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        lines.extend(line for line in text.splitlines() if line.strip())
    return lines


def _reuters_pipeline(folder: Path) -> None:
    """Time qa's own reading and splitting of every Reuters story with a body (read as JSONL records)."""
    import html
    import json

    from qa.documents import RawArticle, parse_article
    from qa.errors import DocumentError
    from qa.sentences import split_sentences

    raws = []
    for path in sorted(folder.glob("reut2-*.sgm")):
        for number, body in enumerate(re.findall(r"<BODY>(.*?)</BODY>", path.read_text(encoding="latin-1"), re.S)):
            data = json.dumps({"id": f"{path.stem}-{number}", "text": html.unescape(body)}).encode()
            raws.append(RawArticle(f"{path.stem}-{number}", "reuters.jsonl", number + 1, "", data))
    started = time.perf_counter()
    texts = []
    for raw in raws:
        try:
            texts.append(parse_article(raw).text)
        except DocumentError:
            pass
    parsed = time.perf_counter() - started
    started = time.perf_counter()
    count = sum(len(split_sentences(text)) for text in texts)
    split = time.perf_counter() - started
    chars = sum(len(text) for text in texts)
    print(f"\nqa over Reuters-21578 ({folder}): {len(texts):,} of {len(raws):,} stories, {chars:,} chars")
    print(f"{'stage':<14}{'seconds':>9}{'kchars/s':>10}")
    print(f"{'parse_article':<14}{parsed:>9.2f}{chars / parsed / 1000:>10,.0f}")
    print(f"{'split':<14}{split:>9.2f}{chars / split / 1000:>10,.0f}   ({count:,} sentences)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/evaldev/corpora/bbc-news/bbc"),
                        help="folder of .txt files whose lines time every splitter (default: %(default)s)")
    parser.add_argument("--reuters", type=Path, default=Path("/work/shared/evaldev/corpora/reuters-21578"),
                        help="Reuters-21578 .sgm folder for the qa pipeline timing; skipped if missing "
                        "(default: %(default)s)")
    parser.add_argument("--show-failures", action="store_true",
                        help="print each labelled case a splitter gets wrong, with its split")
    args = parser.parse_args()

    lines = _lines(args.corpus) if args.corpus.is_dir() else []
    chars = sum(len(line) for line in lines)
    print(f"labelled cases: {len(CASES)}; speed corpus: {args.corpus} ({len(lines):,} lines, {chars:,} chars)")
    print(f"{'splitter':<14}{'exact':>8}{'prec':>7}{'recall':>8}{'sentences':>11}{'seconds':>9}{'kchars/s':>10}")
    for name, split in _splitters().items():
        exact, precision, recall, failures = _accuracy(split)
        started = time.perf_counter()
        count = sum(len(split(line)) for line in lines)
        seconds = time.perf_counter() - started
        rate = chars / seconds / 1000 if seconds else float("nan")
        print(
            f"{name:<14}{exact:>5}/{len(CASES):<2}{precision:>7.2f}{recall:>8.2f}"
            f"{count:>11,}{seconds:>9.2f}{rate:>10,.0f}"
        )
        if args.show_failures:
            for text in failures:
                print(f"    miss: {text} -> {split(text)}")
    if args.reuters.is_dir():
        _reuters_pipeline(args.reuters)
    print(f"command: {' '.join(sys.argv)}")


if __name__ == "__main__":
    main()
