"""Which articles a question may be answered from: a date range, outlets or corpus folders, undated articles.

`make_filter` reads what a caller gives `QA.ask` and `QA.search` (`since`, `until`, `sources`, `undated`)
into one `Filter`; each store applies it in retrieval (the embedded store masks BM25 rows and gives FAISS an
ID selector, the Milvus store a filter expression), so the best passages are the best *admitted* ones.

Dates: `since` and `until` take a `datetime.date` or an ISO string of a year, a month or a day ("2025",
"2025-04", "2025-04-12"); `since` is the first day of that period and `until` its last, both included, so
`since="2025-04", until="2025-04"` is April 2025. An article's date is the `date` its metadata gives (ISO, as
`qa list` shows it); an article without one, or with one that is not ISO, is *undated*. Undated articles are
kept by a date filter unless `undated="drop"`: the archive cannot tell whether they are in the range, and a
filter that silently hid them would hide articles that a reader never dated.

Sources: each name matches, ignoring case, an article's `source` (the outlet: "BBC", "Reuters") or the first
folder of its path in the corpus ("bbc" for `corpus/bbc/2025-04-12.txt`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from qa.errors import FilterError

UNDATED = ("keep", "drop")
_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_ARTICLE_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class Filter:
    """The articles a question may be answered from. Build it with `make_filter`."""

    since: date | None = None
    until: date | None = None
    sources: tuple[str, ...] = ()  # lower case
    undated: str = "keep"

    def admits(self, source: str | None, day: str | None, path: str | None) -> bool:
        """Whether an article with this source, date (as stored) and corpus path passes the filter."""
        if self.sources:
            parts = (path or "").replace("\\", "/").split("/")
            folder = parts[0].lower() if len(parts) > 1 else None
            if (source or "").strip().lower() not in self.sources and folder not in self.sources:
                return False
        if self.since is None and self.until is None:
            return True
        dated = article_date(day)
        if dated is None:
            return self.undated == "keep"
        return (self.since is None or dated >= self.since) and (self.until is None or dated <= self.until)

    def describe(self) -> str:
        """"since 2025-04-01, until 2025-04-30, source bbc or reuters": the filter in a message."""
        parts = []
        if self.since:
            parts.append(f"since {self.since.isoformat()}")
        if self.until:
            parts.append(f"until {self.until.isoformat()}")
        if self.sources:
            parts.append(("source " if len(self.sources) == 1 else "sources ") + " or ".join(self.sources))
        if self.undated == "drop" and (self.since or self.until):
            parts.append("dated articles only")
        return ", ".join(parts)

    def nothing_left(self) -> str:
        """The plain message of an answer or search that the filter left nothing to look in."""
        return f"The filter ({self.describe()}) left nothing: no article of the archive matches it. Widen or drop it."


def make_filter(
    since: date | str | None = None,
    until: date | str | None = None,
    sources: Iterable[str] | str | None = None,
    undated: str = "keep",
) -> Filter | None:
    """Read the filter arguments of `QA.ask` / `QA.search`; None when they filter nothing.

    Raises:
        FilterError: a date that is not ISO or not a real day, `since` after `until`, an empty source name,
            or `undated` other than "keep" or "drop".
    """
    if undated not in UNDATED:
        raise FilterError(f"undated must be \"keep\" or \"drop\", not {undated!r}")
    first = _day(since, "since", last=False)
    last = _day(until, "until", last=True)
    if first and last and first > last:
        raise FilterError(f"since ({first.isoformat()}) is after until ({last.isoformat()}): nothing can match")
    if isinstance(sources, str):
        sources = [sources]
    names: list[str] = []
    for name in sources or ():
        if not isinstance(name, str) or not name.strip():
            raise FilterError(f"a source is an outlet name or a corpus folder, not {name!r}")
        names.append(name.strip().lower())
    if first is None and last is None and not names:
        return None
    return Filter(first, last, tuple(dict.fromkeys(names)), undated)


def article_date(value: str | None) -> date | None:
    """The day an article's stored date names ("2025-04-12", "2025-04-12T10:00"), or None (undated)."""
    match = _ARTICLE_DATE.match(value or "")
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_day(value: date | str | None, name: str) -> date | None:
    """A `datetime.date` or an ISO string as a day (a year or month: its first day).

    Raises:
        FilterError: not a date.
    """
    return _day(value, name, last=False)


def _day(value: date | str | None, name: str, *, last: bool) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise FilterError(f"{name} is a date or an ISO string like \"2025-04\", not {type(value).__name__}")
    match = _ISO.match(value.strip())
    if not match:
        raise FilterError(f"{name}={value!r} is not a date: write a year, a month or a day, "
                          "\"2025\", \"2025-04\" or \"2025-04-12\"")
    year, month, day = int(match[1]), match[2] and int(match[2]), match[3] and int(match[3])
    try:
        if not month:
            return date(year, 12, 31) if last else date(year, 1, 1)
        if not day:
            return date(year, month, calendar.monthrange(year, month)[1]) if last else date(year, month, 1)
        return date(year, month, day)
    except (ValueError, calendar.IllegalMonthError) as exc:
        raise FilterError(f"{name}={value!r} is not a real day ({exc})") from exc
