"""What every format reader does once it has paragraphs: metadata lines, boilerplate, headline, clean body."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, BinaryIO

from qa.boilerplate import clean_body, strip_boilerplate
from qa.documents import RawArticle
from qa.metadata import clean_title, metadata_lines, same_title, title_line
from qa.models import SkippedFile

_HYPHENATED = re.compile(r"(?<=[^\W\d_])-$")
_TERMINAL = re.compile(r"[.!?:;\"'”’)]$")


def article_fields(paragraphs: list[str], **meta: Any) -> dict[str, Any]:
    """The fields of an Article from its paragraphs, in order, and the metadata the format gave.

    Args:
        paragraphs: one paragraph a string, each on one line.
        meta: title, date, source, url, authors as the file's own fields give them (None when it has none);
            a "Date:" or byline line at the top fills a slot the file left empty.

    Returns:
        title, text, source, date, url and authors, as `qa.documents.parse_article` takes them.
    """
    fields: dict[str, Any] = {"title": None, "date": None, "source": None, "url": None, "authors": []}
    fields.update({k: v for k, v in meta.items() if v})
    if fields["title"]:
        fields["title"] = clean_title(fields["title"])
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += [" ".join(paragraph.split()), ""]
    lines = strip_boilerplate(metadata_lines(lines, fields))
    while lines and (not lines[0].strip() or (fields["title"] and same_title(lines[0], fields["title"]))):
        lines.pop(0)
    if not fields["title"]:
        fields["title"] = title_line(lines)
    fields["text"] = clean_body(lines)
    return fields


def join_lines(lines: list[str]) -> str:
    """The lines of one paragraph on one line: a word hyphenated at a line end ("re-" "open") is joined."""
    out = ""
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if out and _HYPHENATED.search(out) and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return out


def runs_on(paragraph: str, following: str) -> bool:
    """Whether a paragraph cut by a page or column break carries on in the next one (no final stop, lowercase next)."""
    return bool(paragraph) and not _TERMINAL.search(paragraph) and following[:1].islower()


def whole_file(rel: str, file: str, f: BinaryIO) -> RawArticle:
    """A one-article file hashed in chunks and read again at parse time, so a scan keeps no large file."""
    digest = hashlib.sha256()
    size = 0
    while chunk := f.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return RawArticle(RawArticle.of_file(rel, b"").doc_id, rel, None, digest.hexdigest(), b"", (file, 0, size))


class WholeFileReader:
    """The scan of a format whose file is one article (PDF, DOCX): hashed, read again when parsed."""

    def scan(self, rel: str, file: str, f: BinaryIO, max_article_bytes: int, skipped: list[SkippedFile],
             options: Mapping[str, Any]) -> list[RawArticle]:
        return [whole_file(rel, file, f)]
