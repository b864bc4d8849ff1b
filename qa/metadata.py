"""Article metadata in the text itself: title, date, byline and labelled lines ("Source: Reuters").

`metadata_lines` takes "Title:", "Date:", "By ..." and date-only lines out of an article's lines, into a metadata
dict; `front_matter` does the same for a Markdown file's YAML block. The headline comes from a labelled line, else
`title_line` (the first line that is not a label, if it does not read as prose), else `title_from_body` (the first
sentence, cut short). `clean_title` drops a trailing date stamp ("... March 3, 2024, 10:15 AM") from any of them.
"""

from __future__ import annotations

import re
from typing import Any

from qa import months
from qa.boilerplate import HEADING, is_label
from qa.sentences import split_sentences

__all__ = [
    "META_LINE", "clean_title", "front_matter", "metadata_lines", "same_title", "split_authors", "title_from_body",
    "title_line",
]

_PROSE_END = re.compile(r"[.…][\"'”’)\]]*$")
META_LINE = re.compile(
    r"^\s*(title|headline|date|published|published on|updated|source|url|link|author|authors|by)\s*[:=]\s*(\S.*)$",
    re.IGNORECASE,
)
_DATE_TITLE_LINE = re.compile(r"^\s*date\s*[:=]?\s*(\d{4}-\d{2}-\d{2})\b\s*(.*)$", re.IGNORECASE)
_MONTHS = months.WORDS
_TRAILING_STAMP = re.compile(
    r"\s*(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
    rf"(?:(?:{_MONTHS})\.?\s+\d{{1,2}},?|\d{{1,2}}\s+(?:{_MONTHS}),?)"
    r"\s+\d{4}(?:,?\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?)?\s*$"
)
_WEEKDAY = r"(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?"
_DATE = (
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}(?:[T ]\d{{2}}:\d{{2}}\S*)?|\d{{1,2}}\s+(?:{_MONTHS})\.?,?\s+\d{{4}}"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}/\d{{1,2}}/\d{{4}})"
)
_DATE_ONLY = re.compile(
    rf"(?:(?:published|updated|posted|last updated)(?:\s+on)?\s*:?\s*)?(?:{_WEEKDAY},?\s+)?{_DATE}"
    r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?)?",
    re.IGNORECASE,
)
_AGO = re.compile(r"(?:published|updated|posted)?\s*\d+\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?)\s+ago",
                  re.IGNORECASE)
_NAME = r"[A-Z][^\s,]*(?:\s+[A-Z][^\s,]*){0,3}"
_BYLINE = re.compile(rf"By\s+{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*")
_TITLE_MAX_WORDS = 30
_HEADER_LINES = 20
_TITLE_MAX_CHARS = 100



def metadata_lines(lines: list[str], meta: dict[str, Any]) -> list[str]:
    """Take "Title:", "Date:", "Source:", byline and dateline lines out of the text, into `meta`.

    A line that is only a date anywhere goes, but sets the article's date only near the top: further down
    it is more likely a date in a timeline.

    Args:
        lines: the article's lines.
        meta: the metadata found so far, with keys title, date, source, url and authors; a slot already
            filled keeps its value. Filled in place.

    Returns:
        The lines that are not metadata, in order.
    """
    kept: list[str] = []
    for number, line in enumerate(lines):
        near_top = number < _HEADER_LINES
        dated = _DATE_TITLE_LINE.match(line)
        labelled = META_LINE.match(line) if len(line) <= 200 else None
        if dated and meta["date"] is None:
            meta["date"] = dated.group(1)
            if dated.group(2).strip() and meta["title"] is None:
                meta["title"] = clean_title(dated.group(2))
        elif _DATE_ONLY.fullmatch(line.strip()) or _AGO.fullmatch(line.strip()):
            if meta["date"] is None and near_top and _DATE_ONLY.fullmatch(line.strip()):
                meta["date"] = _iso_date(line)
        elif _BYLINE.fullmatch(line.strip()):
            meta["authors"] = meta["authors"] or split_authors(line)
        elif labelled:
            key, value = labelled.group(1).lower(), labelled.group(2).strip()
            if key in ("author", "authors", "by"):
                meta["authors"] = meta["authors"] or split_authors(value)
            else:
                slot = {"headline": "title", "published": "date", "published on": "date", "updated": "date",
                        "link": "url"}.get(key, key)
                value = clean_title(value) if slot == "title" else _iso_date(value) if slot == "date" else value
                meta[slot] = meta[slot] or value
        else:
            kept.append(line)
    return kept


def front_matter(lines: list[str], meta: dict[str, Any]) -> list[str]:
    """Read a Markdown file's front matter (between "---" lines at the top) into `meta`, as `metadata_lines` does.

    Args:
        lines: the file's lines.
        meta: as for `metadata_lines`; filled in place.

    Returns:
        The lines after the front matter; all of them when the file has none, or it is never closed.
    """
    if not lines or lines[0].strip() != "---":
        return lines
    for end in range(1, min(len(lines), 60)):
        if lines[end].strip() in ("---", "..."):
            metadata_lines(lines[1:end], meta)
            return lines[end + 1 :]
    return lines


def title_line(lines: list[str]) -> str | None:
    """Take the headline from the top of the text, and blank it out: the first line that is not a label.

    A section label ("World") above the headline is skipped; a text that starts with prose, or has nothing
    after its first line, has no headline line.

    Args:
        lines: the article's lines, boilerplate removed; the headline line is set to "" in place.

    Returns:
        The cleaned headline, or None when the text has no headline line.
    """
    for i, line in enumerate(lines):
        bare = line.strip()
        if not bare or is_label(bare):
            continue
        if _PROSE_END.search(bare) or len(bare.split()) > _TITLE_MAX_WORDS:
            return None
        if not any(other.strip() for other in lines[i + 1 :]):
            return None
        lines[i] = ""
        return clean_title(HEADING.sub("", bare))
    return None


def title_from_body(text: str) -> str:
    """A title for an article that gives none: its first sentence, cut at a word near 100 characters.

    Args:
        text: the article's clean body text.

    Returns:
        The first sentence, or its first words followed by "…".
    """
    spans = split_sentences(text)
    first = text[spans[0][0] : spans[0][1]] if spans else text.strip()
    if len(first) <= _TITLE_MAX_CHARS:
        return first
    cut = first.rfind(" ", 0, _TITLE_MAX_CHARS)
    return first[: cut if cut > 0 else _TITLE_MAX_CHARS].rstrip(" ,;:") + "…"


def clean_title(title: str) -> str:
    """Collapse whitespace and drop a trailing date stamp ("… March 3, 2024, 10:15 AM").

    Args:
        title: a headline as found.

    Returns:
        The headline on one line, without the stamp.
    """
    title = " ".join(title.split())
    return _TRAILING_STAMP.sub("", title).strip()


def same_title(line: str, title: str) -> bool:
    """Whether a line repeats the title (ignoring case, whitespace and a date stamp).

    Args:
        line: a line of the text.
        title: the title found so far; "" matches nothing.

    Returns:
        True when the line is the title again.
    """
    return bool(title) and clean_title(line).casefold() == title.casefold()


def split_authors(value: str) -> list[str]:
    """Split a byline ("By Jane Doe and John Roe", "Doe; Roe") into names.

    Args:
        value: the byline or author field, with or without a leading "By".

    Returns:
        The names, in order, stripped; empty ones dropped.
    """
    value = re.sub(r"^\s*by\s+", "", value, flags=re.IGNORECASE)
    return [name.strip() for name in re.split(r"\s*(?:;|,|\band\b|&)\s*", value) if name.strip()]


def _iso_date(value: str) -> str:
    """YYYY-MM-DD when the value holds a date in a common form, else the value as written."""
    iso = re.search(r"\b\d{4}-\d{2}-\d{2}(?!\d)", value)
    if iso:
        return iso.group(0)
    for pattern in (rf"\b(\d{{1,2}})\s+({_MONTHS})\.?,?\s+(\d{{4}})", rf"\b({_MONTHS})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})"):
        found = re.search(pattern, value, re.IGNORECASE)
        if found:
            day, month = sorted(found.groups()[:2], key=lambda part: part.isalpha())
            return f"{found.group(3)}-{months.NUMBERS[month.lower()]:02d}-{int(day):02d}"
    return value.strip()
