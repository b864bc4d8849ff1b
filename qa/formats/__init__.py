"""Readers for the formats beyond text, HTML and JSONL, one module each, registered by suffix.

    .pdf          pdf.py    the text layer through pdfminer.six: reading order, no running headers
    .docx         docx.py   paragraphs and tables through python-docx
    .eml, .mbox   mail.py   stdlib `email`; readable attachments become articles of their own
    .csv          table.py  one row an article: id/title/text/date/source/url columns, or a mapping

Every reader keeps `qa.documents`' contract: `scan` is cheap (bytes, hashes, ids; for a file of many
records, offsets rather than records, so memory stays bounded) and `parse` does the decoding, for new
or changed articles only. A reader's library is imported on first use, so `qa --help` stays instant.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

if TYPE_CHECKING:
    from qa.documents import RawArticle
    from qa.models import SkippedFile

_MODULES = {".pdf": "pdf", ".docx": "docx", ".eml": "mail", ".mbox": "mail", ".csv": "table"}
FORMAT_SUFFIXES = tuple(_MODULES)


class FormatReader(Protocol):
    """What `qa.documents` asks of a format: find the articles in a file, then parse one."""

    def file_limit(self, max_article_bytes: int) -> int | None:
        """The largest file read (None: any size, the file is streamed and each record checked)."""

    def scan(self, rel: str, file: str, f: BinaryIO, max_article_bytes: int, skipped: list[SkippedFile],
             options: Mapping[str, Any]) -> list[RawArticle]:
        """The articles in the open file `f` (`rel` below the corpus, `file` its absolute path); a record
        that cannot be read goes to `skipped` with the reason."""

    def parse(self, raw: RawArticle, data: bytes) -> dict[str, Any]:
        """title, text, source, date, url and authors of one article, from the bytes `raw.read()` gave,
        and "notes" (a list of str) for what was read but left out (a PDF's scanned pages).

        Raises:
            DocumentError: the article cannot be read; the message says why and what to do.
        """


def reader_for(suffix: str) -> FormatReader:
    """The reader of a suffix in FORMAT_SUFFIXES ("pdf" -> qa.formats.pdf.READER)."""
    module = importlib.import_module(f"qa.formats.{_MODULES[suffix]}")
    return module.READER


def missing_library(exc: ImportError, package: str) -> str:
    """The message for a reader whose library is not installed: which package to install."""
    return f"reading it needs {package}, which is not installed ({exc.name} is missing): pip install {package}"
