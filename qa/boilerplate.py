"""Page furniture: the lines of a scraped page that are not the article, and must never be quoted as an answer.

Furniture is share bars ("Share on Facebook"), "Leave a Reply" and comment counts, newsletter and cookie boxes,
"You may also like" and "Most read" boxes of links, bulleted menus, breadcrumbs, runs of timestamped headlines,
photo credits, and section labels ("World"). The rules are data:

- END_MARKERS: a line after which nothing belongs to the article any more ("Leave a Reply", "About the author").
- BOX_MARKERS: a line that opens a box of links ("Read more", "Most read"): the end of the article, or only of
  the box when prose follows it.
- FURNITURE_PHRASES: a phrase that marks a short line (at most FURNITURE_MAX_WORDS words) as furniture wherever
  it is ("all rights reserved", "follow us on Twitter").

Each entry is a case-insensitive regex. When a new site's furniture slips through, add the narrowest phrase that
catches it to the right list, and add the page (or its lines) to tests/test_documents.py, with a sentence of real
prose that uses the same words, so the rule does not eat articles.

`strip_boilerplate` drops the furniture lines and cuts the text at its end; `clean_body` then strips line markers
and labels into the text that sentences are quoted from. `qa.documents` runs both on every format it reads.
"""

from __future__ import annotations

import re

__all__ = [
    "BOX_MARKERS", "BULLET", "END_MARKERS", "FURNITURE_MAX_WORDS", "FURNITURE_PHRASES", "HEADING", "TERMINAL",
    "TIMESTAMPED", "clean_body", "is_label", "strip_boilerplate",
]

END_MARKERS = [
    "leave a (?:reply|comment)", "post a comment", "add a comment", "comments", r"comments \(\d+\)", r"\d+ comments?",
    "join the (?:conversation|discussion)", "you (?:may|might) also like", "we also recommend", "more from .{1,40}",
    "discover more from .{1,40}", "about the author", "tags", "filed under",
]
"""Whole lines (case-insensitive regexes) after which nothing belongs to the article any more."""

BOX_MARKERS = [
    "related", "related (?:articles|posts|stories|news|content|topics|coverage|links)", "read more", "read next",
    "read also", "also read", "see also", "more stories", "more on this story", "recommended(?: for you| stories)?",
    "top stories", "latest(?: news| posts| stories)?", "don'?t miss", "must read", "trending(?: posts| now| stories)?",
    "popular(?: articles| posts)?", "most (?:popular|read|viewed|shared)", "editor'?s picks", "newsletter",
]
"""Whole lines that open a box of links: the end of the article, unless prose follows the links (then only
the box goes: "Read more" lists and "Most read" sidebars sit in the middle of many scraped articles)."""

_SOCIAL = (
    r"(?:facebook|twitter|x|instagram|linkedin|youtube|telegram|tiktok|whatsapp|reddit|pinterest|email|google news)"
)
FURNITURE_PHRASES = [
    "enable javascript", "javascript is disabled", "your browser does not support", "powered by disqus",
    "required fields are marked", "email address will not be published", "successfully subscribed",
    "you have been successfully", "all rights reserved", "©", "may not be (?:published|reproduced|redistributed)",
    rf"follow (?:us|him|her|them|@\w+) on {_SOCIAL}", "you can follow us", "subscribe now", "subscribe for more",
    r"(?:sign up|subscribe|register)\b.{0,60}\b(?:newsletter|inbox|alerts)", "subscribe to our",
    rf"join (?:us|our \w+) on {_SOCIAL}", "join our .{0,30}(?:channel|community)", "accept (?:all )?cookies",
    "we use cookies", "(?:this|our) (?:site|website) uses cookies", "(?:cookie settings|manage cookies)",
    "back to top", "skip to (?:main )?content", "edit template", "share this (?:article|story|post|page)",
    rf"(?:click to )?share (?:on|via) {_SOCIAL}", "opens in (?:a )?new (?:window|tab)", "click here", "tap here",
    "for social networking", "source of information and images", "get access to the full archive",
    "listen to this article", r"\d+ min(?:ute)?s? read", "download (?:our|the) app", "(?:log|sign) in to comment",
    "contact us:", "report an error", "print this article", "toggle navigation", "scroll to continue",
    "(?:story|article) continues below", "this article is more than", "image (?:caption|source|copyright)",
    r"^(?:read more|read also|also read|see also|related|recommended|more|trending|tags|topics|categories|watch)\s*[:|]",
    "getty images", "shutterstock", r"(?:ap|afp|reuters|epa) photo",
    r"^(?:photo|picture|image|video|credit)s?\s*:", r"^\(?(?:additional )?(?:reporting|writing|editing) by\b",
    r"^\d[\d.,]*[km]?\s+(?:shares?|comments?|views?|likes?)$",
]
"""Regexes (case-insensitive, between word boundaries) that mark a line of at most FURNITURE_MAX_WORDS words
as page furniture, wherever it is. Keep them specific: "advertisement" alone would also drop the sentence
"Gibson will not be using paid advertisements"; one- and two-word lines are dropped as labels anyway."""

FURNITURE_MAX_WORDS = 30
_LABEL_MAX_WORDS = 2

_END_LINE = re.compile(r"(?:" + "|".join(END_MARKERS) + r")\s*[:.!]?", re.IGNORECASE)
_BOX_LINE = re.compile(r"(?:" + "|".join(BOX_MARKERS) + r")\s*[:.!]?", re.IGNORECASE)
_FURNITURE = re.compile(r"(?<!\w)(?:" + "|".join(FURNITURE_PHRASES) + r")(?!\w)", re.IGNORECASE)

# Line shapes that qa.documents reads too: its unwrapping of hard-wrapped text must not join a bulleted or
# timestamped line to the paragraph above, or the rules here could no longer see it.
BULLET = re.compile(r"^\s*(?:[-*+•·▪►●◦‣–]|\d{1,2}[.)])\s+")
HEADING = re.compile(r"^\s*#{1,6}\s+")
TIMESTAMPED = re.compile(r"^\s*(?:[-*•·–]\s*)?\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?\s*\S")
TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")
_QUOTE_MARKER = re.compile(r"^\s*>\s?")
_BREADCRUMB = re.compile(r"[\w .'&-]{1,30}(?:\s+[»›>|]\s+[\w .'&-]{1,30}){1,6}")
_SHARE_WORDS = {"share", "tweet", "facebook", "twitter", "x", "whatsapp", "email", "e-mail", "linkedin", "pinterest",
                "reddit", "telegram", "messenger", "print", "copy", "link", "|", "·", "•"}


def strip_boilerplate(lines: list[str]) -> list[str]:
    """Drop the furniture lines of an article's text and cut it where the article ends.

    Args:
        lines: the article's lines, metadata lines (title, date, byline) already taken out.

    Returns:
        The lines that are left, in order; line markers (bullets, "#", ">") and labels stay for `clean_body`,
        so that the headline can still be told from a section label above it.
    """
    return _truncate_at_end_marker(_drop_furniture(lines))


def clean_body(lines: list[str]) -> str:
    """Strip line markers and labels, collapse blank runs: the text that sentences are quoted from.

    Args:
        lines: the lines `strip_boilerplate` left, the headline line blanked out.

    Returns:
        The body text: one paragraph a line, at most one blank line between paragraphs.
    """
    out: list[str] = []
    for line in lines:
        line = HEADING.sub("", BULLET.sub("", _QUOTE_MARKER.sub("", line))).strip()
        if line and is_label(line):
            continue
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def is_label(line: str) -> bool:
    """Whether a line is a label ("World", "Share"): capitalised, at most two words, no digit or final punctuation.

    Args:
        line: one line, stripped.

    Returns:
        True for a label, which `clean_body` drops and headline detection skips.
    """
    words = line.split()
    return (
        len(words) <= _LABEL_MAX_WORDS
        and line[:1].isupper()
        and not TERMINAL.search(line)
        and not line.endswith((",", ":", ";"))
        and not any(c.isdigit() for c in line)
    )


def _truncate_at_end_marker(lines: list[str]) -> list[str]:
    """Cut the text at the first end-of-article marker ("Leave a Reply") that follows a line of prose.

    The same words above the story (a menu above the headline) only drop their own line; a box of links
    ("Read more") followed by more prose drops only the box.
    """
    prose = 0
    kept: list[str] = []
    i = 0
    while i < len(lines):
        bare = BULLET.sub("", lines[i]).strip()
        is_end, is_box = bool(_END_LINE.fullmatch(bare)), bool(_BOX_LINE.fullmatch(bare))
        if (is_end or is_box) and not prose:
            i += 1
            continue
        if is_end:
            break
        if is_box:
            resume = next((j for j in range(i + 1, len(lines)) if _is_prose(lines[j]) or _is_marker(lines[j])), None)
            if resume is None or _is_marker(lines[resume]):
                break
            i = resume
            continue
        if _is_prose(bare):
            prose += 1
        kept.append(lines[i])
        i += 1
    return kept


def _is_prose(line: str) -> bool:
    return bool(TERMINAL.search(line.strip())) and len(line.split()) > 5


def _is_marker(line: str) -> bool:
    bare = BULLET.sub("", line).strip()
    return bool(_END_LINE.fullmatch(bare) or _BOX_LINE.fullmatch(bare))


def _drop_furniture(lines: list[str]) -> list[str]:
    """Drop share/subscribe/cookie lines, menus of bullet links and runs of timestamped headlines."""
    kept: list[str] = []
    for i, line in enumerate(lines):
        bare = BULLET.sub("", _QUOTE_MARKER.sub("", line)).strip()
        words = len(bare.split())
        if words and words <= FURNITURE_MAX_WORDS and _FURNITURE.search(bare):
            continue
        if BULLET.match(line) and _is_menu_item(bare):
            continue
        if _BREADCRUMB.fullmatch(bare) or (words >= 2 and all(w in _SHARE_WORDS for w in bare.lower().split())):
            continue
        if TIMESTAMPED.match(line) and any(
            0 <= j < len(lines) and TIMESTAMPED.match(lines[j]) for j in (i - 1, i + 1)
        ):
            continue
        kept.append(line)
    return kept


def _is_menu_item(item: str) -> bool:
    """A bulleted link of a menu ("All Post", "Fascinating Facts"), unlike "- A freeze on petrol duty"."""
    words = item.split()
    if TERMINAL.search(item) or any(c.isdigit() for c in item) or len(words) > 6:
        return False
    return len(words) <= 3 or all(word[:1].isupper() for word in words if len(word) > 3)
