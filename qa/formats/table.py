"""CSV: one row an article, read like a JSONL record, streamed so memory holds one row, not the file.

The header names the columns: `text` (required), `id`, `title`, `date`, `source`, `url`, `authors`, in
any case; `csv_columns` ({"text": "body", "id": "story_id"}) names other columns for the fields, tried
first. A row without an id is named `<file>/<line>`. The delimiter is the header's commonest of , ; tab |.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from qa.documents import RawArticle, _parse_record, _too_large
from qa.errors import MalformedRecordError
from qa.models import SkippedFile

FIELDS = ("id", "title", "text", "date", "source", "url", "authors")
_DELIMITERS = ",;\t|"


class CsvReader:
    """Reads .csv files; see the module docstring."""

    def file_limit(self, max_article_bytes: int) -> int | None:
        return None  # streamed; each row is checked against the limit

    def scan(self, rel: str, file: str, f: BinaryIO, max_article_bytes: int, skipped: list[SkippedFile],
             options: Mapping[str, Any]) -> list[RawArticle]:
        lines = _Lines(f, max_article_bytes)
        try:
            first = f.readline(max_article_bytes + 1)
            lines.offset, lines.number = len(first), 1
            header_line = first.decode("utf-8-sig")
            delimiter = max(_DELIMITERS, key=header_line.count)
            header = next(csv.reader([header_line], delimiter=delimiter), [])
            columns = _columns(header, dict(options.get("csv_columns") or {}))
        except UnicodeDecodeError:
            skipped.append(SkippedFile(path=rel, reason="not UTF-8 text; save the CSV as UTF-8"))
            return []
        except MalformedRecordError as exc:
            skipped.append(SkippedFile(path=rel, reason=str(exc)))
            return []
        context = json.dumps({"delimiter": delimiter, "columns": columns}, sort_keys=True).encode() + b"\n"
        stem = PurePosixPath(rel).with_suffix("").as_posix()
        csv.field_size_limit(max(csv.field_size_limit(), max_article_bytes))  # the default is 128 KB a field
        found = []
        rows = csv.reader(lines, delimiter=delimiter)
        while True:
            start, number = lines.offset, lines.number + 1
            try:
                row = next(rows)
            except StopIteration:
                break
            except (csv.Error, UnicodeDecodeError, _TooLarge) as exc:
                reason = _too_large(exc.size, max_article_bytes) if isinstance(exc, _TooLarge) else \
                    f"not a readable CSV row ({exc}); fix the row or save the file as UTF-8"
                skipped.append(SkippedFile(path=rel, line=number, reason=reason))
                if isinstance(exc, _TooLarge):
                    lines.skip_rest()
                lines.take()
                rows = csv.reader(lines, delimiter=delimiter)
                continue
            if not any(cell.strip() for cell in row):
                lines.take()
                continue
            doc_id = row[columns["id"]].strip() if "id" in columns and columns["id"] < len(row) else ""
            data = lines.take()
            found.append(RawArticle(doc_id or f"{stem}/{number}", rel, number,
                                    hashlib.sha256(context + data).hexdigest(), b"", (file, start, len(data)), context))
        return found

    def parse(self, raw: RawArticle, data: bytes) -> dict[str, Any]:
        settings = json.loads(raw.context)
        try:
            row = next(csv.reader([data.decode("utf-8-sig")], delimiter=settings["delimiter"]), [])
        except (csv.Error, UnicodeDecodeError) as exc:
            raise MalformedRecordError(f"{raw.location}: not a readable CSV row ({exc})") from exc
        record: dict[str, Any] = {"id": raw.doc_id}
        for name, column in settings["columns"].items():
            if name != "id" and column < len(row) and row[column].strip():
                record[name] = row[column]
        record.setdefault("text", "")
        return _parse_record(json.dumps(record).encode(), raw.location)


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class _Lines(Iterator[str]):
    """The lines of a binary file as text for csv.reader, keeping the bytes of the row being read."""

    def __init__(self, f: BinaryIO, limit: int) -> None:
        self.f, self.limit, self.offset, self.number = f, limit, 0, 0
        self._taken: list[bytes] = []

    def __next__(self) -> str:
        line = self.f.readline(self.limit + 1)
        if not line:
            raise StopIteration
        self.offset += len(line)
        self.number += 1
        self._taken.append(line)
        if len(line) > self.limit or sum(map(len, self._taken)) > self.limit:
            size = sum(map(len, self._taken))
            self._taken = []
            raise _TooLarge(size)
        return line.decode("utf-8")

    def take(self) -> bytes:
        """The bytes read since the last take: one row's."""
        data, self._taken = b"".join(self._taken), []
        return data

    def skip_rest(self) -> None:
        """Move past the rest of a line that was too long to keep."""
        line = b""
        while not line.endswith(b"\n"):
            line = self.f.readline(1 << 20)
            if not line:
                return
            self.offset += len(line)


def _columns(header: list[str], mapping: dict[str, str]) -> dict[str, int]:
    """The column of each field: the one `mapping` names, else the one named as the field."""
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise ValueError(f"csv_columns maps {', '.join(unknown)}, which are not fields; use {', '.join(FIELDS)}")
    names = {name.strip().lower(): i for i, name in reversed(list(enumerate(header)))}
    columns = {}
    for field in FIELDS:
        for wanted in (mapping.get(field, ""), field, "author" if field == "authors" else ""):
            if wanted.strip().lower() in names:
                columns[field] = names[wanted.strip().lower()]
                break
    if "text" not in columns:
        shown = ", ".join(h.strip() for h in header if h.strip())[:200] or "no names"
        mapped = f' (nor "{mapping["text"]}", the text column csv_columns gives)' if "text" in mapping else ""
        raise MalformedRecordError(
            f"no text column{mapped}: the header has {shown}; name the columns id, title, text, date, source, "
            "url, or map yours (qa index --csv-columns text=body,title=headline)")
    return columns


READER = CsvReader()
