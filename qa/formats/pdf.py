"""PDF: the text layer through pdfminer.six's layout analysis, without the running headers and page numbers.

pdfminer.six (MIT) groups characters into text boxes and orders them by position, so a two-column page
reads column by column; pypdf (BSD) is 9x faster but follows the order text was drawn in (bench/scale/read_speed.py).
A page without a text layer (a scan) is left out with a note; a PDF that is all scans, or that needs a
password, is skipped with the reason. No OCR.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import Any

from qa.documents import RawArticle
from qa.errors import DocumentError, EmptyDocumentError
from qa.formats import missing_library
from qa.formats._text import WholeFileReader, article_fields, join_lines, runs_on

_MARGIN = 0.1  # the top and bottom tenth of a page, where running headers and footers sit
_PAGE_NUMBER = re.compile(r"(?:page\s*)?[-–]?\s*\d{1,4}\s*[-–]?(?:\s*(?:of|/)\s*\d{1,4})?", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")


class PdfReader(WholeFileReader):
    """Reads .pdf files; see the module docstring."""

    def file_limit(self, max_article_bytes: int) -> int | None:
        return 20 * max_article_bytes  # a PDF holds fonts and images beside its text

    def parse(self, raw: RawArticle, data: bytes) -> dict[str, Any]:
        try:
            from pdfminer.high_level import extract_pages
            from pdfminer.layout import LAParams, LTTextContainer
            from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
            from pdfminer.pdfparser import PDFSyntaxError
            from pdfminer.psparser import PSException
        except ImportError as exc:
            raise DocumentError(f"{raw.location}: {missing_library(exc, 'pdfminer.six')}") from exc
        pages: list[list[tuple[str, bool]]] = []  # per page: (paragraph, in the top or bottom margin)
        scanned: list[int] = []
        try:
            for number, page in enumerate(extract_pages(io.BytesIO(data), laparams=LAParams()), 1):
                boxes = []
                for box in page:
                    if isinstance(box, LTTextContainer):
                        text = join_lines(box.get_text().splitlines())
                        if text:
                            middle = (box.y0 + box.y1) / 2
                            margin = not _MARGIN * page.height < middle < (1 - _MARGIN) * page.height
                            boxes.append((text, margin))
                if not boxes:
                    scanned.append(number)
                pages.append(boxes)
        except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
            raise DocumentError(f"{raw.location}: the PDF is encrypted and needs a password; save an "
                                "unencrypted copy to index it") from exc
        except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AssertionError) as exc:
            raise DocumentError(f"{raw.location}: not a readable PDF ({exc or type(exc).__name__}); "
                                "is the file truncated?") from exc
        if not pages or len(scanned) == len(pages):
            raise EmptyDocumentError(
                f"{raw.location}: no text layer on {'its page' if len(pages) == 1 else f'any of its {len(pages)} pages'} "
                "(a scanned image?); "
                "qa does no OCR: run OCR on it (e.g. ocrmypdf) and index the result")
        paragraphs = _without_furniture(pages)
        title, date = _info(data)
        fields = article_fields(paragraphs, title=title, date=date)
        if scanned:
            fields["notes"] = [f"page{'s' if len(scanned) > 1 else ''} {_numbers(scanned)} of {len(pages)} "
                               "ha{} no text layer (scanned?) and {} left out; qa does no OCR".format(
                                   "ve" if len(scanned) > 1 else "s", "are" if len(scanned) > 1 else "is")]
        return fields


def _without_furniture(pages: list[list[tuple[str, bool]]]) -> list[str]:
    """The paragraphs of every page in order, without running headers, footers and page numbers.

    A margin paragraph is furniture when it is a page number, or when the same words (numbers aside) sit
    in the margin of at least two pages and half of them: "Annual Report 2025 · Page 3".
    """
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_DIGITS.sub("#", text.lower()) for text, margin in page if margin})
    furniture = {key for key, n in counts.items() if n >= 2 and n >= len(pages) / 2}
    paragraphs: list[str] = []
    for page in pages:
        for text, margin in page:
            if margin and (_PAGE_NUMBER.fullmatch(text.strip()) or _DIGITS.sub("#", text.lower()) in furniture):
                continue
            if paragraphs and runs_on(paragraphs[-1], text):
                paragraphs[-1] = join_lines([paragraphs[-1], text])
            else:
                paragraphs.append(text)
    return paragraphs


def _info(data: bytes) -> tuple[str | None, str | None]:
    """The document's Title (when it looks like a title, not a file name) and CreationDate from its info."""
    try:
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfparser import PDFParser
        from pdfminer.pdftypes import resolve1

        info = PDFDocument(PDFParser(io.BytesIO(data))).info
        values = [resolve1(info[0].get(key)) if info else None for key in ("Title", "CreationDate")]
    except Exception:  # the text was read; a damaged info dictionary only costs the title and date
        return None, None
    title, created = (_text(v) for v in values)
    if re.search(r"\.(docx?|pdf|indd|tex)$|^untitled|^microsoft word", title, re.IGNORECASE):
        title = ""
    date = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", created)
    return title or None, "-".join(date.groups()) if date else None


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-16") if value.startswith((b"\xfe\xff", b"\xff\xfe")) else value.decode("latin-1")
    return " ".join(str(value or "").split())


def _numbers(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}" if len(numbers) > 1 else str(numbers[0])


READER = PdfReader()
