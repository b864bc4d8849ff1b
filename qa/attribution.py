"""Who a sentence says the fact comes from: "Zelensky claimed", "Russian media identified", "TASS reports".

One general rule over reporting verbs, no list of speakers: a reporting verb (said, claimed, told,
reported, identified, ...) with the name or organisation next to it, before it ("Russian media have
identified"), after it ("said foreign ministry spokesperson Lin Jian"), or after "according to".
A pronoun ("he said") names nobody, so it gives no speaker.
"""

from __future__ import annotations

import re

from qa.models import Speaker

_VERBS = (
    "said|says|say|claimed|claims|claim|told|tells|reported|reports|report|identified|identifies|stated|states|"
    "announced|announces|confirmed|confirms|denied|denies|estimated|estimates|revealed|reveals|asserted|asserts|"
    "alleged|alleges|added|adds|wrote|writes|insisted|insists|suggested|suggests|warned|warns|noted|notes|"
    "counted|counts|put|puts|found|finds|disclosed|discloses|acknowledged|acknowledges|admitted|admits|"
    "rejected|rejects|termed|called|calls|described|describes|mentioned|mentions"
)
# words a speaker's name may hold besides capitalised ones: "Russian media", "Ukraine's military"
_ROLE_WORDS = (
    "media|military|officials?|ministry|government|spokes(?:person|man|woman)|police|army|forces|authorities|"
    "agency|service|news|president|minister|intelligence|sources?|staff|general|command|office|department|"
    "embassy|outlet|newspaper|analysts?|experts?|researchers?|investigators?|prosecutors?|officers?|state|"
    "foreign|defen[cs]e|interior|federal|national|chief|head|leader|secretary|commander|company|firm|bank|"
    "court|board|council|union|committee|commission|party|statement|report|study|survey|spokesmen"
)
_CAPITALISED = r"(?:[A-Z][\w'’.&-]*[\w.]|[A-Z])"
_WORD = rf"(?:{_CAPITALISED}(?:['’]s)?|(?:{_ROLE_WORDS})(?:['’]s)?|of|the|for)"
_NAME = rf"{_WORD}(?:\s+{_WORD})*"
_AUX = r"(?:\s+(?:has|have|had|was|were|is|are|also|earlier|later|then|now|reportedly|previously|again|first|"\
       r"publicly|repeatedly|separately|on \w+|in \w+)){0,3}"

_BEFORE = re.compile(rf"(?P<name>{_NAME}){_AUX}\s+(?P<verb>{_VERBS})\b")
_AFTER = re.compile(rf"\b(?P<verb>{_VERBS}),?\s+(?P<name>{_NAME})")
_ACCORDING = re.compile(rf"\b(?P<verb>[Aa]ccording to)\s+(?P<name>{_NAME})")
_LEADING = re.compile(r"^(?:(?:the|of|for|The|A|An|In|On|At|But|And|However|Meanwhile|Earlier|Later|Also|While|"
                      r"When|After|Before|Since|Then|Now|Yesterday|Today)\s+)+")
_TRAILING = re.compile(r"(?:\s+(?:of|the|for))+$")
_PRONOUNS = frozenset("I We You He She It They This That These Those Who Which There Here".split())
_NOT_A_SPEAKER = frozenset({"Earlier", "Later", "Meanwhile", "However", "Also"})


def speaker_of(sentence: str, near: int | None = None) -> Speaker | None:
    """The named source a sentence attributes its statement to, or None when it names none.

    Args:
        sentence: the sentence's text.
        near: a character offset in the sentence (the short answer's start); when several speakers are
            named, the one whose reporting verb is nearest to it, preferring verbs before it.

    Returns:
        The speaker's words and the reporting verb, both verbatim from the sentence, with offsets.
    """
    found: list[tuple[int, Speaker]] = []
    for pattern in (_BEFORE, _ACCORDING, _AFTER):
        for match in pattern.finditer(sentence):
            speaker = _speaker(sentence, match)
            if speaker is not None:
                found.append((match.start("verb"), speaker))
    if not found:
        return None
    if near is None:
        return min(found, key=lambda f: f[0])[1]
    before = [f for f in found if f[0] <= near]
    return (max(before, key=lambda f: f[0]) if before else min(found, key=lambda f: f[0]))[1]


def _speaker(sentence: str, match: re.Match[str]) -> Speaker | None:
    start, end = match.span("name")
    text = sentence[start:end]
    lead = _LEADING.match(text)
    if lead:
        start += lead.end()
        text = text[lead.end():]
    trail = _TRAILING.search(text)
    if trail:
        text = text[:trail.start()]
    if text.endswith(".") and not re.search(r"(?:^|\s)[A-Z]\.$", text):
        text = text[:-1]  # the sentence's full stop, not an initial
    end = start + len(text)
    words = text.split()
    if not words or all(w in _PRONOUNS or w in _NOT_A_SPEAKER for w in words):
        return None
    if words[0] in _PRONOUNS:
        return None
    verb = match.group("verb")
    return Speaker(name=text, verb=verb, start=start, end=end)
