"""Disagreeing accounts: other articles that give another value for what was asked.

"How many Chinese nationals are fighting for Russia?" is answered with Zelensky's 155, stated by three
articles; a fourth says Russian media identified 51. The answer carries that second account.

A sentence of another article is an account when
1. the question asks for a typed value (a count, a date, a name, a place, a duration; or it has no type
   and its answer is a number, which is then compared as a count) and the sentence's typed short answer
   (`qa.spans.best_span`, as for the answer itself), normalised, differs from the answer's
   (`same_value`: "at least 155" is "155", "two" is "2", "Lin Jian" is "Jian");
2. the sentence does not take that value back ("not the eight mln dlrs", "corrects ... from 65 mln");
   it is a likely answer in its own right (`ACCOUNT_PROBABILITY`, `ACCOUNT_SHARE`: the answerer's own
   probability) and about the same thing (the corroboration test: the question's words or a close
   embedding);
3. no sentence of the answer's article or of a corroborating one states that value without the answer's:
   then it is another fact of the same story ("two captured" beside "155 fighting"), not another account
   of this one. A sentence that states both ("125.5 mln dlrs of debt and not 25.5 mln") is a correction,
   and does not count.
One entry per distinct value, the likeliest sentence first; other articles with that value corroborate it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa.attribution import speaker_of
from qa.features import Scored
from qa.models import Account, Citation, ShortAnswer
from qa.question import COUNT, DATE, DURATION, NAME, PLACE, Question
from qa.spans import best_span

TYPED_KINDS = frozenset({COUNT, DATE, DURATION, NAME, PLACE})
# an account must be a sentence the answerer finds likely to answer by itself: 0.3, or half the answer's
# own probability when that is lower (an answer at 0.34 has rivals at 0.2)
ACCOUNT_PROBABILITY = 0.3
ACCOUNT_SHARE = 0.5
MAX_ACCOUNTS = 3

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_SCALES = {"hundred": 100, "hundreds": 100, "thousand": 1_000, "thousands": 1_000, "million": 1_000_000,
           "millions": 1_000_000, "m": 1_000_000, "billion": 1_000_000_000, "bn": 1_000_000_000,
           "trillion": 1_000_000_000_000, "dozen": 12, "dozens": 12}
_QUALIFIERS = re.compile(
    r"\b(?:at least|at most|more than|less than|fewer than|up to|about|around|nearly|almost|over|some|"
    r"approximately|roughly|an estimated|only|just|as many as|as much as|between|on|in|the|a|an|of)\b",
    re.IGNORECASE,
)


def normalised(text: str, kind: str) -> tuple[str, ...]:
    """A value as two articles would compare it: numbers as numbers, names and dates as lower-case words.

    "at least 155" -> ("155",); "Forty-one" -> ("41",); "1.5 million" -> ("1500000",);
    "between 60,000 and 100,000" -> ("60000", "100000"); "Lin Jian" -> ("lin", "jian").
    """
    if kind in (COUNT, DURATION):
        numbers = _numbers(text)
        unit = re.findall(r"\b(second|minute|hour|day|week|month|year|decade|centur)", text.lower())
        if numbers:
            return tuple(numbers) + tuple(unit[:1])
    words = re.findall(r"[\w]+", _QUALIFIERS.sub(" ", text.lower().replace("’s", "").replace("'s", "")))
    return tuple(words)


def same_value(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two normalised values name the same thing: equal, or one inside the other ("Jian" in "Lin
    Jian", "July 4" in "July 4, 2022")."""
    if not a or not b:
        return a == b
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if all(w.isdigit() for w in short) and all(w.isdigit() for w in long) and len(short) == len(long):
        return False
    return _inside(short, long)


def _inside(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    n = len(short)
    return any(long[i:i + n] == short for i in range(len(long) - n + 1))


def _numbers(text: str) -> list[str]:
    """The numbers of a value, in order: digits as written, number words added up ("forty one" is 41)."""
    out: list[str] = []
    total = current = None  # a number being read: total of the finished scales, current below them
    for word in re.findall(r"\d+(?:[,.]\d+)*|[a-z]+", text.lower().replace("-", " ")):
        if word[0].isdigit():
            if current is not None or total is not None:
                out.append(_fmt((total or 0) + (current or 0)))
            total, current = None, float(word.replace(",", "")) if word.count(".") <= 1 else float(word.replace(",", "").replace(".", ""))
        elif word in _UNITS or word in _TENS:
            current = (current or 0) + _UNITS.get(word, _TENS.get(word, 0))
        elif word in _SCALES:
            scale = _SCALES[word]
            current = (current if current is not None else 1.0) * scale
            if scale >= 1_000:
                total, current = (total or 0) + current, None
        elif word != "a" and (current is not None or total is not None):
            out.append(_fmt((total or 0) + (current or 0)))
            total = current = None
    if current is not None or total is not None:
        out.append(_fmt((total or 0) + (current or 0)))
    return out


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


_CORRECTION = re.compile(r"\b(?:correct\w*|revis\w*|amend\w*|chang\w*|cut|raised|lowered|updat\w*)\b", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:not|instead of|rather than)\s+(?:(?:the|a|an|about|some)\s+)?(?:[A-Za-z]+\s+)?$", re.IGNORECASE)
_REPLACED = re.compile(r"\bfrom\s+(?:(?:the|a|an|about|some)\s+)?$", re.IGNORECASE)


def retracted(sentence: str, start: int) -> bool:
    """Whether the value at `start` is one the sentence takes back: "not the eight mln dlrs", "not April
    28", "corrects the amount of debt from 65 mln dlrs", "revised to 1.2 billion from 1.1 billion"."""
    before = sentence[:start]
    if _NEGATED.search(before):
        return True
    return bool(_REPLACED.search(before) and _CORRECTION.search(before))


def find_accounts(
    question: Question,
    best: Scored,
    short: ShortAnswer | None,
    agreeing: Sequence[str],
    ranked: Sequence[Scored],
    cite: Callable[[Scored], Citation],
    article_sentences: Callable[[str], Sequence[str]],
    same_topic: Callable[[Scored], bool],
) -> list[Account]:
    """The other accounts of what was asked: one per distinct value, likeliest first.

    Args:
        question: the analysed question.
        best: the sentence quoted as the answer; `short` its short answer.
        agreeing: doc ids of the answer's article and the corroborating ones.
        ranked: every candidate sentence, best first.
        cite: a sentence's citation.
        article_sentences: an article's sentences, by doc id.
        same_topic: whether a sentence is about the same thing as the answer (the corroboration test).
    """
    if short is None:
        return []
    # a question with no wh-type ("what was the net income?") answered with a number is compared as a count
    kind = question.kind if question.kind in TYPED_KINDS else COUNT if re.search(r"\d", short.text) else None
    if kind is None:
        return []
    answer_value = normalised(short.text, kind)
    if not answer_value:
        return []
    accounts: list[tuple[tuple[str, ...], Scored, ShortAnswer]] = []
    seconds: dict[int, list[Citation]] = {}
    answer_states = _stating(best.sentence.text, short, kind, loose=True)
    least = min(ACCOUNT_PROBABILITY, ACCOUNT_SHARE * best.probability)
    for s in ranked:
        doc = s.sentence.doc_id
        if doc in agreeing or s.probability < least or not same_topic(s):
            continue
        span = best_span(s.sentence.text, question.text, kind)
        if span is None or retracted(s.sentence.text, span.start):
            continue
        value = normalised(span.text, kind)
        if not value or same_value(value, answer_value):
            continue
        marked = ShortAnswer(text=span.text, start=span.start, end=span.end)
        states = _stating(s.sentence.text, marked, kind)
        if any(states(text) and not answer_states(text) for d in agreeing for text in article_sentences(d)):
            continue
        known = next((i for i, (v, _, _) in enumerate(accounts) if same_value(v, value)), None)
        if known is not None:
            first = accounts[known][1]
            if doc != first.sentence.doc_id and all(c.doc_id != doc for c in seconds.get(known, [])):
                seconds.setdefault(known, []).append(cite(s))
            continue
        if len(accounts) < MAX_ACCOUNTS:
            accounts.append((value, s, marked))
    return [
        Account(value=value, sentence=s.sentence.text, citation=cite(s), speaker=speaker_of(s.sentence.text, value.start),
                score=round(s.probability, 4), corroborating=seconds.get(i, []))
        for i, (_, s, value) in enumerate(accounts)
    ]


def _stating(sentence: str, span: ShortAnswer, kind: str, loose: bool = False) -> Callable[[str], bool]:
    """A test of whether a text states this value about the same thing: the value ("155", "two"), then
    within three words the word that follows it in the sentence ("Chinese"), when one does (and `loose`
    is not asked)."""
    value = span.text
    if kind in (COUNT, DURATION):
        numbers = re.findall(r"\d[\d,.]*\d|\d", value)
        spelled = _numbers(value)
        core = rf"(?<![\w.,]){re.escape(numbers[-1])}(?![\w]|[.,]\d)" if numbers else rf"(?<!\w){re.escape(value)}(?!\w)"
        if not numbers and spelled:
            core = rf"(?:{core}|(?<![\w.,]){spelled[-1]}(?![\w]|[.,]\d))"
    else:
        core = rf"(?<!\w){re.escape(value)}(?!\w)"
    following = re.match(r"[\s-]+([A-Za-z][\w-]*)", sentence[span.end:])
    if following and following.group(1).lower() not in _FUNCTION_WORDS and not loose:
        core += rf"\W+(?:\w+\W+){{0,2}}?{re.escape(following.group(1))}\b"
    pattern = re.compile(core, re.IGNORECASE)
    return lambda text: bool(pattern.search(text))


_FUNCTION_WORDS = frozenset(
    "a an the and or but of to in on at by for with from as is are was were be been has have had do does did that "
    "this which who it its they their he she his her we you not no than then said says will would can could may".split()
)
