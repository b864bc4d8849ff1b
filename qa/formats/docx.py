"""Word .docx: paragraphs and table rows in document order through python-docx (MIT).

The title is the document's Title property, else its first "Title" or "Heading 1" paragraph; the date
and author come from the core properties. A truncated or password-protected file is skipped with the reason.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from qa.documents import RawArticle
from qa.errors import DocumentError, EmptyDocumentError
from qa.formats import missing_library
from qa.formats._text import WholeFileReader
from qa.metadata import split_authors

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an encrypted .docx, or an old binary .doc renamed


class DocxReader(WholeFileReader):
    """Reads .docx files; see the module docstring."""

    def file_limit(self, max_article_bytes: int) -> int | None:
        return 20 * max_article_bytes  # zipped XML, and the images beside the text

    def parse(self, raw: RawArticle, data: bytes) -> dict[str, Any]:
        try:
            import docx
            from docx.opc.exceptions import PackageNotFoundError
            from docx.table import Table
        except ImportError as exc:
            raise DocumentError(f"{raw.location}: {missing_library(exc, 'python-docx')}") from exc
        if data.startswith(_OLE_MAGIC):
            raise DocumentError(f"{raw.location}: a password-protected Word file or an old .doc, not a .docx; "
                                "save it as an unprotected .docx to index it")
        try:
            document = docx.Document(io.BytesIO(data))
            paragraphs, heading = [], None
            for block in document.iter_inner_content():
                if isinstance(block, Table):
                    for row in block.rows:
                        cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))
                        if cells:
                            paragraphs.append("; ".join(cells))
                    continue
                text = block.text.strip()
                style = (block.style.name if block.style is not None else "") or ""
                if text and heading is None and not paragraphs and style in ("Title", "Heading 1"):
                    heading = text
                elif text:
                    paragraphs.append(text)
            props = document.core_properties
            title, author, created = props.title, props.author, props.created
        except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, EOFError) as exc:
            raise DocumentError(f"{raw.location}: not a readable .docx ({exc or type(exc).__name__}); "
                                "is the file truncated? Open it in Word and save it again") from exc
        if not paragraphs:
            raise EmptyDocumentError(f"{raw.location}: the document has no text")
        from qa.formats._text import article_fields

        return article_fields(
            paragraphs, title=(title or "").strip() or heading, date=created.date().isoformat() if created else None,
            authors=split_authors(author) if author and author.strip() else [],
        )


READER = DocxReader()
