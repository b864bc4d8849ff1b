"""Follow-up questions: a thread of questions, each read against the ones before it.

    chat = bot.conversation()
    chat.ask("How many Chinese nationals did Zelensky claim?")
    answer = chat.ask("what did China say about it?")
    answer.resolved   # "what did China say about Chinese nationals Zelensky claim?"

A follow-up is rewritten into a question that stands alone, from the previous turn's question (as
resolved) and answer, then asked as any question is; its words carry the earlier topic and names into
retrieval. The rules, tried in order (`resolve`):
- "what about X?" / "and X?": the previous question with X in place of its name ("What did Zelensky say?"
  -> "what about China?" -> "What did China say?");
- "how many were killed?": "how many" without a noun borrows the previous one's ("how many Chinese
  nationals were killed?");
- he / she / him / her / his: the person the previous answer named (its short answer, for a "who"
  question), else the previous question's first name;
- it / they / them / their / this / that (as a pronoun): the previous question's topic words;
- a question that is only a wh-word or starts with "and": the previous topic added.
A question with none of these is asked as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from qa.models import Answer
from qa.question import NAME, analyze


class _Asks(Protocol):
    def ask(self, question: str, **filters: Any) -> Answer: ...


@dataclass(frozen=True)
class Turn:
    """One question of a conversation and its answer (`answer.resolved` is what was asked of the index)."""

    question: str
    answer: Answer


class Conversation:
    """A thread of questions over one open index; `QA.conversation()` starts one.

    Args:
        bot: the open index (anything with `ask(question) -> Answer`).
    """

    def __init__(self, bot: _Asks) -> None:
        self._bot = bot
        self.turns: list[Turn] = []

    def ask(self, question: str, **filters: Any) -> Answer:
        """Answer a question in the light of the earlier ones.

        Args:
            question: the question as typed.
            filters: passed on to `QA.ask` (since, until, sources, undated, ...).

        Returns:
            The Answer; `question` is as asked, `resolved` the standalone question asked of the index
            when the earlier turns changed it (None otherwise).

        Raises:
            EmptyQuestionError: the question is empty or only whitespace.
        """
        resolved = resolve(question, self.turns[-1] if self.turns else None) if isinstance(question, str) else None
        if resolved is None:
            answer = self._bot.ask(question, **filters)
        else:
            answer = self._bot.ask(resolved, **filters).model_copy(update={"question": " ".join(question.split()), "resolved": resolved})
        self.turns.append(Turn(question=answer.question, answer=answer))
        return answer

    def new(self) -> None:
        """Start a new thread: later questions are read without the earlier ones."""
        self.turns.clear()

    def __repr__(self) -> str:
        return f"<Conversation turns={len(self.turns)}>"


_FUNCTION = frozenset(
    "a an the and or but of to in on at by for with from as is are was were be been being has have had do does did "
    "that this these those which who whom whose what when where why how many much it its they them their he she "
    "his her him we our you your i not no so than then there here will would can could may might must shall should "
    "about also any some".split()
)
_AUX = r"(?:are|were|is|was|did|do|does|have|has|had|will|would|can|could)"
_WHAT_ABOUT = re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*\??$", re.IGNORECASE)
_AND_X = re.compile(r"^and\s+(?P<x>(?:the\s+)?[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)\s*\??$")
_BARE_HOW_MANY = re.compile(rf"\bhow\s+(many|much)\s+(?={_AUX}\b)", re.IGNORECASE)
_HOW_MANY_NOUN = re.compile(rf"\bhow\s+(?:many|much)\s+(?P<noun>(?:(?!{_AUX}\b)[\w'’-]+\s+){{1,4}}?)(?={_AUX}\b|\w+ed\b)", re.IGNORECASE)
_PERSON = re.compile(r"\b(he|she|him|her|his|hers)\b", re.IGNORECASE)
_THING = re.compile(r"\b(it|they|them|their|its)\b|\b(this|that|these|those)(?=\s*(?:\?|$|,|\.))", re.IGNORECASE)
_BARE_WH = re.compile(r"^(?:and\s+)?(?:when|where|why|how|who|what|which)(?:\s+(?:else|then|exactly))?\s*\??$", re.IGNORECASE)


def resolve(question: str, previous: Turn | None) -> str | None:
    """The follow-up rewritten to stand alone, or None when it already does (or there is no earlier turn).

    Args:
        question: the new question, as typed.
        previous: the last turn of the conversation.
    """
    text = " ".join(question.split())
    if previous is None or not text:
        return None
    before = previous.answer.resolved or previous.question

    match = _WHAT_ABOUT.match(text) or _AND_X.match(text)
    if match:
        return _substitute(before, match.group("x").strip(" ?"))

    resolved = text
    if _BARE_HOW_MANY.search(resolved):
        noun = _counted(before)
        if noun:
            resolved = _BARE_HOW_MANY.sub(lambda m: f"how {m.group(1)} {noun} ", resolved, count=1)
    # a follow-up that names its own subject ("what did China say about it?") asks about the earlier
    # topic, not the earlier speaker: Zelensky's name would pull back Zelensky's own sentences
    topic = _topic(before, drop=_names(before) if analyze(text).entities else ())
    unresolved = False
    if _PERSON.search(resolved):
        person = _person(previous)
        if person:
            resolved = _PERSON.sub(lambda m: f"{person}'s" if m.group(1).lower() in ("his", "hers") else person, resolved)
        else:
            unresolved = True  # "he" after "which country's president...": the topic words go along
    named = _named_thing(previous)
    if _IT.search(resolved) and named:
        resolved = _IT.sub(lambda m: f"{named}'s" if m.group(0).lower() == "its" else named, resolved)
    if topic and _THING.search(resolved):
        resolved = _THING.sub(lambda m: f"{topic}'s" if m.group(0).lower() in ("their", "its") else topic, resolved)
    if unresolved or _BARE_WH.match(resolved) or (resolved == text and text.lower().startswith("and ")):
        missing = [w for w in topic.split() if w.lower() not in resolved.lower()] if topic else []
        if missing:
            resolved = f"{resolved.rstrip(' ?')} {' '.join(missing)}?"
    if resolved.lower().startswith("and "):
        resolved = resolved[4:]
    return resolved if resolved != text else None


def _substitute(before: str, new: str) -> str:
    """The previous question with `new` in place of its leading name; with `new` added when it has none."""
    runs = list(_NAME_RUN.finditer(before))
    # a name used as an adjective ("Chinese nationals") is the thing described, not who is asked about
    nouns = [m for m in runs if not _adjective(m, before)] or runs
    if not nouns:
        return f"{before.rstrip(' ?')} {new}?"
    start, end = nouns[0].span()
    if before[:start].lower().endswith("the ") and not new.lower().startswith("the "):
        start -= 4  # "the U.S." -> "China", not "the China"
    return before[:start] + new + before[end:]


def _counted(before: str) -> str | None:
    match = _HOW_MANY_NOUN.search(before)
    return match.group("noun").strip() if match else None


def _person(previous: Turn) -> str | None:
    """Who "he" or "she" is: the person a "who" question was answered with, else the previous question's
    first name ("how many did Zelensky claim?" -> "what did he say?"), unless it asked "which/what"."""
    answer = previous.answer
    before = answer.resolved or previous.question
    if answer.found and answer.short_answer is not None and _ASKS_PERSON.search(before):
        return answer.short_answer.text
    names = _names(before)
    # "which country's president ...?" names a country, not the person "he" is
    return names[0] if names and not re.match(r"\s*(?:which|what)\b", before, re.IGNORECASE) else None


def _named_thing(previous: Turn) -> str | None:
    """What "it" is after "which company / airline ...?" or "who may downgrade ...?": the name it was
    answered with."""
    answer = previous.answer
    before = answer.resolved or previous.question
    if (answer.found and answer.short_answer is not None and analyze(before).kind == NAME
            and (_ASKS_THING.search(before) or re.match(r"\s*who\b", before, re.IGNORECASE))):
        return answer.short_answer.text
    return None


_PERSON_NOUNS = (r"person|people|man|woman|official|leader|minister|president|spokes\w+|soldier|player|chairman|"
                 r"chief|executive|ceo|director|secretary|governor|mayor|judge|general|commander|founder|head")
# "which president", "what Ukrainian official"; not "which country's president", which asks for a country
_ASKS_PERSON = re.compile(rf"^\s*who\b|\b(?:which|what)\s+(?:(?![\w-]*['’]s\b)[\w'’-]+\s+){{0,2}}?(?:{_PERSON_NOUNS})\b",
                          re.IGNORECASE)
_ASKS_THING = re.compile(rf"^\s*(?:which|what)\s+(?!(?:did|do|does|is|are|was|were|will|has|have|had)\b)"
                         rf"(?!(?:[\w'’-]+\s+){{0,2}}?(?:{_PERSON_NOUNS})\b)[\w'’-]+", re.IGNORECASE)
_IT = re.compile(r"\b(it|its)\b", re.IGNORECASE)


def _topic(before: str, drop: tuple[str, ...] = ()) -> str:
    """The previous question's topic words: all but its wh-words, auxiliaries, function words and `drop`."""
    dropped = {w.lower() for name in drop for w in name.split()}
    words = re.findall(r"[\w'’-]+", before)
    return " ".join(w for w in words if w.lower() not in _FUNCTION and w.lower() not in dropped)


def _names(text: str) -> tuple[str, ...]:
    """The names of a question used as nouns, not as adjectives ("Zelensky", not "Chinese" of "Chinese
    nationals"), in order."""
    return tuple(m.group(0) for m in _NAME_RUN.finditer(text) if not _adjective(m, text))


def _adjective(match: re.Match[str], text: str) -> bool:
    """A demonym before a noun: "Chinese nationals", "Russian media" (but "Zelensky claim" is a name)."""
    return bool(_DEMONYM.search(match.group(0)) and re.match(r"\s+[a-z]", text[match.end():]))


_DEMONYM = re.compile(r"(?:ese|ian|an|ish|i|ic|ch)$")


_NAME_RUN = re.compile(r"(?<!^)\b[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*")
