"""Where the answer of the type a question asks for is inside a sentence.

`qa.question.expected_type` reads the question's wh-phrase ("how many" wants a count, "who" a name);
`_find_spans` lists the spans of a sentence that have that type and are not words of the question itself;
`best_span` picks the one closest to the question's words, which becomes the short answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from qa import months
from qa.question import CAPITALISED_WORD, COUNT, DATE, DURATION, NAME, OTHER, PLACE, QUOTE, expected_type

_MONTHS = "|".join(months.NAMES) + "|" + "|".join(rf"{a}\." for a in months.ABBREVIATIONS.split("|"))
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|"
    "thousand|thousands|million|millions|billion|dozen|dozens|a dozen|a hundred|a thousand"
)
_QUALIFIER = (
    r"(?:(?:at least|at most|more than|less than|fewer than|up to|about|around|nearly|almost|over|some|"
    r"approximately|roughly|an estimated|only|just|as many as|as much as)\s+)?"
)
_NUM = r"(?:[$€£]\s?)?\d+(?:[,.]\d+)*(?:[–-]\d+(?:[,.]\d+)*)?"
_SCALE = r"(?:\s?(?:%|percent|per cent|million|billion|trillion|thousand|bn|m)\b)?"
_COUNT_RE = re.compile(
    rf"\b{_QUALIFIER}(?:between\s+{_NUM}{_SCALE}\s+and\s+{_NUM}{_SCALE}|{_NUM}{_SCALE}|(?:{_NUMBER_WORDS})(?:[ -](?:{_NUMBER_WORDS}))*)(?![\w])",
    re.IGNORECASE,
)
_DATE_RE = re.compile(
    rf"\b(?:(?:on\s+)?(?:{_WEEKDAYS})(?:,?\s+(?:{_MONTHS})\s+\d{{1,2}})?"
    rf"|(?:\d{{1,2}}\s+)?(?:{_MONTHS})(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}|(?:in\s+)?(?:1[89]|20)\d{{2}}s?"
    rf"|(?:last|next|this|earlier this|later this)\s+(?:week|month|year|spring|summer|autumn|fall|winter)"
    rf"|yesterday|today|tomorrow)\b",
    re.IGNORECASE,
)
_DURATION_RE = re.compile(
    rf"\b{_QUALIFIER}(?:{_NUM}|(?:{_NUMBER_WORDS})(?:[ -](?:{_NUMBER_WORDS}))*|a|an|several|a few)"
    r"[ -](?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centuries|century)\b",
    re.IGNORECASE,
)
_QUOTE_RE = re.compile(r"[\"“”]([^\"“”]{2,200})[\"“”]")
# reported speech: what follows "admitting", "said that", "described it as" up to the end of the clause
_SPEECH_RE = re.compile(
    r"\b(?:said|says|told \w+|added|admitted|admitting|described \w+ as|describing \w+ as|called \w+|calling \w+|"
    r"termed \w+|stated|stating|claimed|claiming|warned|noted|argued|insisted)\b(?:\s+(?:that|as))?\s+"
    r"([^,;:.!?“”\"]{3,160})"
)
_NAME_WORD = rf"(?:{CAPITALISED_WORD}|[A-Z]\.?)"
_NAME_RE = re.compile(rf"{_NAME_WORD}(?:\s+(?:(?:of|de|da|del|van|von|bin|al|the|and)\s+)?{_NAME_WORD})*")
_NOT_NAMES = set(
    (
        "The A An In On At For And But Or If As By From To Of With He She It They We I You His Her Its Their Our "
        "This That These Those There Here When Where While After Before Since During Earlier Later Meanwhile "
        "However Although Also According Another Some Many Most Other Others Both Each Every One Two Mr Mrs Ms Dr "
        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July "
        "August September October November December"
    ).split()
)
_AGE_OR_NUMBER = re.compile(rf"^(?:\w+-year-old|(?:{_NUMBER_WORDS})(?:-\w+)*)$", re.IGNORECASE)
_PLACE_PREPOSITIONS = {"in", "at", "near", "from", "to", "into", "across", "outside", "inside"}

@dataclass(frozen=True)
class Span:
    """A typed stretch of a sentence: `sentence[start:end] == text`."""

    start: int
    end: int
    text: str


def _find_spans(sentence: str, kind: str, question: str) -> list[Span]:
    """Spans of the sentence of the given type whose words are not all words of the question."""
    q_words = _question_words(question)
    spans: list[Span] = []
    for start, end in _raw_spans(sentence, kind):
        text = sentence[start:end].strip(" ,.;:")
        start = sentence.index(text, start) if text else start
        words = {w.lower() for w in re.findall(r"\w+", text)}
        if not text or words <= q_words:
            continue
        if kind == COUNT and re.fullmatch(r"(?:in\s+)?(?:1[89]|20)\d{2}", text):
            continue  # a year is a date, not a count
        spans.append(Span(start, start + len(text), text))
    return spans


def best_span(sentence: str, question: str, kind: str | None = None) -> Span | None:
    """The span of the sentence that answers the question, or None when no span of the wanted type fits.

    Among the typed spans, the one nearest to the question's words wins: news sentences put the count
    next to what is counted ("at least 155 Chinese nationals") and the name next to its role.
    """
    found = _ranked_span(sentence, question, kind or expected_type(question))
    return found[0] if found else None


def span_fit(sentence: str, question: str, kind: str | None = None) -> float:
    """How well the sentence's best typed span fits, in [0, 1]: 1 for a span of the wanted type right next
    to the question's words, falling off with distance; 0 when there is none."""
    found = _ranked_span(sentence, question, kind or expected_type(question))
    return 0.0 if found is None else 1.0 / (1.0 + math.exp(-found[1]))


# How a typed span is scored among the others of its sentence: minus its distance in words to the nearest
# question word over distance_per_point, plus a bonus for each sign of being the answer. Set by hand, not
# fitted (tests/test_spans.py and tests/test_ask.py hold them in place): span_fit passes the score through a
# sigmoid into the typed_fit feature, which the fitted ranker weighs against the others.
SPAN_SCORE = {
    "distance_per_point": 5.0,
    "counted_noun": 2.0,  # a count followed by the noun it counts
    "full_name": 1.0,  # a name of two words or more
    "place_preposition": 2.0,  # a place after "in", "at", "near", ...
}


@lru_cache(maxsize=256)  # span_fit scores every candidate; best_span then asks again for the winner
def _ranked_span(sentence: str, question: str, kind: str) -> tuple[Span, float] | None:
    if kind == OTHER:
        return None
    spans = _find_spans(sentence, kind, question)
    if not spans:
        return None
    anchors = _question_word_positions(sentence, question)

    def score(span: Span) -> float:
        distance = min((_gap(sentence, span, a) for a in anchors), default=len(sentence))
        value = -distance / SPAN_SCORE["distance_per_point"]
        following = re.match(r"\s+([A-Za-z][\w-]*)", sentence[span.end:])
        if kind == COUNT and following and following.group(1).lower() not in _FUNCTION_WORDS:
            value += SPAN_SCORE["counted_noun"]  # "31 individuals", not "20 did so"
        if kind == NAME and " " in span.text:
            value += SPAN_SCORE["full_name"]
        if kind == PLACE and _preceding_word(sentence, span.start) in _PLACE_PREPOSITIONS:
            value += SPAN_SCORE["place_preposition"]
        return value

    best = max(spans, key=score)
    return best, score(best)


def _raw_spans(sentence: str, kind: str) -> list[tuple[int, int]]:
    if kind == COUNT:
        return [m.span() for m in _COUNT_RE.finditer(sentence)]
    if kind == DURATION:
        return [m.span() for m in _DURATION_RE.finditer(sentence)]
    if kind == DATE:
        return [m.span() for m in _DATE_RE.finditer(sentence)]
    if kind == QUOTE:
        quoted = [m.span(1) for m in _QUOTE_RE.finditer(sentence)]
        return quoted or [m.span(1) for m in _SPEECH_RE.finditer(sentence)]
    if kind in (NAME, PLACE):
        out = []
        for m in _NAME_RE.finditer(sentence):
            # words with their own offsets: the name may be spread over several spaces or a line break
            words = [(w.start(), w.end(), w.group()) for w in re.finditer(r"\S+", m.group(0))]
            while words and (words[0][2].strip(".") in _NOT_NAMES or _AGE_OR_NUMBER.match(words[0][2])):
                words.pop(0)
            while words and words[-1][2].lower() in {"of", "de", "the", "and"}:
                words.pop()
            if not words:
                continue
            start, end = m.start() + words[0][0], m.start() + words[-1][1]
            if sentence.endswith(("'s", "’s"), start, end):
                end -= 2
            out.append((start, end))
        return out
    return []


_FUNCTION_WORDS = set(
    "a an the and or but of to in on at by for with from as is are was were be been being has have had do does did "
    "that this which who whom whose it its they them their he she his her we our you your i not no so than then "
    "per percent said says say will would can could may might must shall should".split()
)


def _stem(word: str) -> str:
    """A crude stem, enough to match "supplied" with "supply" when locating question words."""
    word = word.lower()
    return word[:5] if len(word) > 5 else word


@lru_cache(maxsize=64)
def _question_words(question: str) -> frozenset[str]:
    # cached: every candidate sentence of a question asks for the same sets
    return frozenset(w.lower() for w in re.findall(r"\w+", question))


@lru_cache(maxsize=64)
def _question_stems(question: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in re.findall(r"\w+", question) if w.lower() not in _FUNCTION_WORDS)


def _question_word_positions(sentence: str, question: str) -> list[tuple[int, int]]:
    q_stems = _question_stems(question)
    return [m.span() for m in re.finditer(r"\w+", sentence) if _stem(m.group(0)) in q_stems]


def _gap(sentence: str, span: Span, anchor: tuple[int, int]) -> int:
    """Words between a span and a word outside it (0 when they touch or overlap)."""
    if anchor[1] <= span.start:
        between = sentence[anchor[1]:span.start]
    elif anchor[0] >= span.end:
        between = sentence[span.end:anchor[0]]
    else:
        return 0
    return len(re.findall(r"\w+", re.sub(r"['’]s\b", "", between)))


def _preceding_word(sentence: str, start: int) -> str:
    words = re.findall(r"\w+", sentence[:start])
    return words[-1].lower() if words else ""
