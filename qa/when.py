"""Time in the question: "in April 2025", "in 2023", "this week", "last month", "the latest", read as dates.

`read_time(question, as_of)` finds the phrase and turns it into a range of days relative to `as_of` (the
day the question is asked about; `QA.ask` defaults it to the newest article date of the index):

    in 2023, during 2023                 2023-01-01 .. 2023-12-31
    in April 2025, April 2025            2025-04-01 .. 2025-04-30
    in April (no year)                   the last April that began on or before as_of
    on April 12, 2025, 12 April 2025     that day
    before / until April 2025            .. 2025-03-31 (before) or .. 2025-04-30 (until)
    after / since April 2025             2025-05-01 .. (after) or 2025-04-01 .. (since)
    today, yesterday                     as_of, the day before
    this week, past week                 the seven days ending on as_of
    last week, recently                  the fourteen days ending on as_of (news says "last week" of both)
    this month, last month               that calendar month
    this year, last year                 that calendar year
    latest, most recent, newest          no range: the newest article that answers is preferred

A small reader of these phrases rather than a general date parser: `dateparser` reads a whole string as
one date and its `search_dates` finds "may" and "march" in any question, and both take milliseconds where
this takes microseconds.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from qa import months
from qa.fusion import Ranked

TIME_PHRASES = ("prefer", "filter", "off")
LATEST_MARGIN = 1.0  # combiner score (log-odds) within which a newer article's sentence goes first for "latest"
PREFERENCE_K = 60  # the RRF constant of the preferred ranking's bonus, as in qa.fusion

_MONTH = r"(?P<month>" + months.WORDS + r")\.?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_LEAD = r"(?P<lead>\b(?:in|during|on|of|before|until|till|by|after|since|from)\s+)?"
_ABSOLUTE = [
    re.compile(_LEAD + r"\b" + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + r"\b", re.I),
    re.compile(_LEAD + r"\b" + _DAY + r"\s+(?:of\s+)?" + _MONTH + r",?\s+" + _YEAR + r"\b", re.I),
    re.compile(_LEAD + r"\b" + _MONTH + r",?\s+(?:of\s+)?" + _YEAR + r"\b", re.I),
    re.compile(r"(?P<lead>\b(?:in|during|before|until|till|by|after|since|from)\s+)" + r"\b" + _MONTH + r"\b", re.I),
    re.compile(r"(?P<lead>\b(?:in|during|before|until|till|by|after|since|from|of)\s+(?:the\s+year\s+)?)" + _YEAR + r"\b", re.I),
]
_RELATIVE = re.compile(
    r"\b(?P<phrase>today|yesterday|(?:this|past|last|previous)\s+(?:week|month|year)|recently|in\s+recent\s+(?:days|weeks))\b",
    re.I,
)
_LATEST = re.compile(r"\b(?:the\s+)?(?:latest|most\s+recent(?:ly)?|newest|last\s+(?:reported|known))\b", re.I)


@dataclass(frozen=True)
class TimeReading:
    """What a question says about time: a range of days (either end open), or a wish for the latest."""

    phrase: str  # the words read, as in the question
    since: date | None = None
    until: date | None = None
    latest: bool = False

    @property
    def has_range(self) -> bool:
        return self.since is not None or self.until is not None


def read_time(question: str, as_of: date | None) -> TimeReading | None:
    """The time a question asks about, or None when it names none.

    Args:
        question: the question as asked.
        as_of: the day relative phrases count from ("this week"); None reads only absolute ones.
    """
    for pattern in _ABSOLUTE:
        match = pattern.search(question)
        if match:
            found = _absolute(match, as_of)
            if found is not None:
                return found
    match = _RELATIVE.search(question)
    if match and as_of is not None:
        since, until = _relative(match.group("phrase").lower(), as_of)
        return TimeReading(match.group(0), since, until)
    match = _LATEST.search(question)
    if match:
        return TimeReading(match.group(0), latest=True)
    return None


def _absolute(match: re.Match[str], as_of: date | None) -> TimeReading | None:
    parts = match.groupdict()
    lead = (parts.get("lead") or "").strip().lower()
    month = months.NUMBERS[parts["month"].lower().rstrip(".")] if parts.get("month") else None
    year = int(parts["year"]) if parts.get("year") else None
    if year is None:  # a month alone: the last one that began on or before as_of
        if as_of is None or month is None:
            return None
        year = as_of.year if month <= as_of.month else as_of.year - 1
    try:
        if parts.get("day"):
            first = last = date(year, month or 1, int(parts["day"]))
        elif month:
            first, last = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        else:
            first, last = date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        return None
    phrase = match.group(0).strip()
    if lead == "before":
        return TimeReading(phrase, until=first - timedelta(days=1))
    if lead in ("until", "till", "by"):
        return TimeReading(phrase, until=last)
    if lead == "after":
        return TimeReading(phrase, since=last + timedelta(days=1))
    if lead in ("since", "from"):
        return TimeReading(phrase, since=first)
    return TimeReading(phrase, first, last)


def _relative(phrase: str, as_of: date) -> tuple[date, date]:
    words = phrase.split()
    if phrase == "today":
        return as_of, as_of
    if phrase == "yesterday":
        day = as_of - timedelta(days=1)
        return day, day
    if phrase == "recently" or words[0] == "in":
        return as_of - timedelta(days=13), as_of
    which, unit = words
    if unit == "week":
        return as_of - timedelta(days=13 if which == "last" else 6), as_of
    if unit == "month":
        first = as_of.replace(day=1)
        if which in ("last", "previous"):
            first = (first - timedelta(days=1)).replace(day=1)
        elif which == "past":
            return as_of - timedelta(days=30), as_of
        return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])
    year = as_of.year - (which in ("last", "previous"))
    if which == "past":
        return as_of - timedelta(days=365), as_of
    return date(year, 1, 1), date(year, 12, 31)


def preferred(ranked: list[Ranked], in_range: list[Ranked], k: int) -> list[Ranked]:
    """A ranking that prefers passages in a range: the question's ranking and the same search within the
    range, fused by reciprocal rank; a passage in both comes first, one only in range can overtake."""
    by_id = {r.passage_id: r for r in [*in_range, *ranked]}
    scores: dict[int, float] = {}
    for ranking in (ranked, in_range):
        for rank, r in enumerate(ranking, 1):
            scores[r.passage_id] = scores.get(r.passage_id, 0.0) + 1.0 / (PREFERENCE_K + rank)
    order = sorted(scores, key=lambda pid: -scores[pid])[:k]
    return [Ranked(pid, scores[pid], by_id[pid].lexical_rank, by_id[pid].lexical_score, by_id[pid].dense_rank,
                   by_id[pid].dense_score) for pid in order]
