"""What a question asks for, read once per question: its answer type, its topic words, its names.

`analyze` is the one place a question is looked at; retrieval, the ranker's features, the reader and the
short-answer code all take its `Question`. The answer type comes from the wh-phrase ("how many" wants a
count, "who" a name, "when" a date, "what did X call" a quote); a question with none of these is OTHER.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COUNT, NAME, DATE, PLACE, DURATION, QUOTE, OTHER = "count", "name", "date", "place", "duration", "quote", "other"


@dataclass(frozen=True)
class Question:
    """A question as qa reads it."""

    text: str  # as asked, whitespace normalised
    kind: str  # the answer type wanted: COUNT, NAME, DATE, PLACE, DURATION, QUOTE or OTHER
    topic: str  # the question less its "how many"/"how long" phrase: what retrieval and word overlap use
    entities: frozenset[str]  # capitalised names that are not the first word
    speculative: bool  # asks for a guess or a state of mind ("what did X probably feel")


def analyze(text: str) -> Question:
    """Read a question once: answer type, topic words, names, speculation."""
    text = " ".join(text.split())
    return Question(
        text=text,
        kind=expected_type(text),
        topic=without_wh_phrase(text),
        entities=frozenset(_ENTITY.findall(text)) - _NOT_ENTITIES,
        speculative=is_speculative(text),
    )


CAPITALISED_WORD = r"[A-Z][\w'’.-]*[\w]"  # a name's word: "Zelensky", "O'Neill", "U.S", "Jean-Luc"
_ENTITY = re.compile(rf"(?<!^)(?<![.?!] )\b{CAPITALISED_WORD}")
_NOT_ENTITIES = frozenset({"I", "The", "A", "An"})

_TYPE_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bhow (many|much)\b|\bwhat (number|percentage|proportion|share|amount)\b|\bhow old\b", re.I), COUNT),
    (re.compile(r"\bhow long\b|\bfor how long\b", re.I), DURATION),
    (re.compile(r"\bwhen\b|\b(what|which) (year|date|day|month|time|decade|century)\b", re.I), DATE),
    (re.compile(r"\bwhere\b|\b(what|which|in which) (country|countries|city|cities|region|place|state|province|"
                r"town|village|capital|continent|nation|area)\b", re.I), PLACE),
    (re.compile(r"\bwho(m|se)?\b|\b(what|which)(\s+[\w-]+){0,3}?\s+(person|people|man|woman|company|organi[sz]ation|group|team|party|"
                r"official|leader|minister|president|spokes\w+|soldier|player|member|agency|firm|brand|club|"
                r"newspaper|outlet|network)\b|\bwhat is the name\b|\bname (of )?the\b", re.I), NAME),
    # "which show", "which virus outbreak": a choice among named things
    (re.compile(r"\bwhich\b", re.I), NAME),
    (re.compile(r"\bwhat did .{1,60}\b(call|calls|called|describe|describes|described|term|termed|say|said)\b|"
                r"\bhow did .{1,60}\b(describe|call|characteri[sz]e)\b", re.I), QUOTE),
]


_WH_MODIFIER = re.compile(r"\bhow\s+(many|much|long|far|old|often|soon|big|large)\b", re.IGNORECASE)


def without_wh_phrase(question: str) -> str:
    """The question less its "how many"/"how long" phrase, whose second word is not a topic word:
    "many" must not make "many more" match "how many nationals"."""
    return _WH_MODIFIER.sub(" ", question)


_SPECULATIVE = re.compile(
    r"\b(probably|likely|might|would|could|feel|feels|felt|think|thinks|thought|believe|believes|opinion|"
    r"prefer|prefers|want|wants|wish|hope|hopes|expect|predict)\b", re.IGNORECASE
)


def is_speculative(question: str) -> bool:
    """Does the question ask for a guess or a state of mind ("what did X probably feel")? News text rarely
    states those in a sentence that could be quoted."""
    return bool(_SPECULATIVE.search(question))


def expected_type(question: str) -> str:
    """The type of answer a question asks for: count, duration, date, place, name, quote or other."""
    for pattern, kind in _TYPE_RULES:
        if pattern.search(question):
            return kind
    return OTHER
