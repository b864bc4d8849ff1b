"""Read a corpus folder of .txt, .md, .html/.htm and .jsonl files into Articles, without page boilerplate.

PDF, DOCX, e-mail (.eml, .mbox) and CSV files are read by the modules of `qa.formats`, behind the same scan
and parse steps.

Scanning is cheap (read bytes, hash, `json.loads` per JSONL line) so that an incremental build can compare
content hashes first; `parse_article` does the decoding, HTML extraction and boilerplate removal only for
articles that are new or changed.

Boilerplate (share bars, "Leave a Reply", newsletter boxes, "You may also like" lists) must never be quoted
as an answer: each format's lines go through `qa.boilerplate`, whose phrase lists say what counts as page
furniture. Title, date and byline lines are read by `qa.metadata`; this module scans, decodes, unwraps
hard-wrapped text and parses each format, and takes the source, URL and the rest from the file's own fields.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from qa.boilerplate import BULLET, TERMINAL, TIMESTAMPED, clean_body, strip_boilerplate
from qa.formats import FORMAT_SUFFIXES, reader_for
from qa.errors import CorpusError, DocumentError, EmptyDocumentError, EncodingError, MalformedRecordError, UnsupportedFormatError
from qa.metadata import (
    META_LINE, clean_title, front_matter, metadata_lines, same_title, split_authors, title_from_body, title_line,
)
from qa.models import Article, SkippedFile, location

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl", *FORMAT_SUFFIXES)
MAX_ARTICLE_BYTES = 5 * 2**20
"""The largest file, or JSONL line, read as one article: a long news story is ~50 KB, a book 1 MB; 5 MB of
text is ~40,000 sentences, an hour of embedding on a laptop."""

_LOWER_OR_DIGIT = re.compile(r"[a-z0-9(]")
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_HIGH_BYTES = bytes(range(128, 256))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ABBREVIATION_END = re.compile(
    r"(?:\b(?:[A-Z]\.){1,3}|\b(?:Mr|Mrs|Ms|Dr|St|Co|Corp|Inc|Ltd|No|Gov|Gen|Sen|Rep|Jan|Feb|Aug|Sept?|Oct|Nov|Dec)\.)$"
)
_MD_LINK = re.compile(r"!\[[^\]]*\]\([^)]*\)|\[([^\]]+)\]\([^)]*\)")


@dataclass(frozen=True, slots=True)
class RawArticle:
    """One article as found on disk: its bytes and hash, not yet decoded or cleaned."""

    doc_id: str
    path: str
    line: int | None
    content_hash: str
    data: bytes
    origin: tuple[str, int, int] | None = None
    """For a JSONL record: (file, offset, length) to read `data` from when it is parsed, so a scan of a
    million-line file keeps offsets, not lines; `data` is then empty."""
    context: bytes = b""
    """What a reader needs beside the bytes (a CSV's column mapping, an e-mail attachment's part number),
    hashed with them: the content hash is sha256(context + bytes)."""
    kind: str | None = None
    """The suffix of the format the article is in when it is not its file's (a PDF attached to an .eml)."""

    def read(self) -> bytes:
        """The article's bytes, read again from its JSONL file if the scan did not keep them.

        Raises:
            DocumentError: the file changed since the scan (its bytes no longer match the hash).
        """
        if self.origin is None:
            return self.data
        file, offset, length = self.origin
        try:
            with open(file, "rb") as f:
                f.seek(offset)
                data = f.read(length)
        except OSError as exc:
            raise DocumentError(f"{self.location}: cannot read the file again: {exc.strerror or exc}") from exc
        if hashlib.sha256(self.context + data).hexdigest() != self.content_hash:
            raise DocumentError(f"{self.location}: the file changed while qa was indexing it; index again")
        return data

    @classmethod
    def of_file(cls, rel: str, data: bytes) -> RawArticle:
        """A one-article file, named by its path below the corpus folder without the extension."""
        return cls(PurePosixPath(rel).with_suffix("").as_posix(), rel, None, hashlib.sha256(data).hexdigest(), data)

    @property
    def location(self) -> str:
        """"path" or "path:line" for a JSONL record."""
        return location(self.path, self.line)


@dataclass
class CorpusScan:
    """What `scan_corpus` found: the articles to parse and the files (or JSONL lines) it had to skip."""

    articles: list[RawArticle] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def scan_corpus(
    corpus_dir: str | Path, *, max_article_bytes: int = MAX_ARTICLE_BYTES, csv_columns: Mapping[str, str] | None = None
) -> CorpusScan:
    """List the articles of a corpus folder, recursively, in a deterministic order.

    Only regular files are read (a link to one is fine): a FIFO, a device or a socket is skipped, as is a
    file or JSONL line larger than `max_article_bytes`. A JSONL file is read line by line.

    Args:
        corpus_dir: folder of .txt, .md, .html, .htm and .jsonl files; hidden files and folders are ignored.
        max_article_bytes: the largest file (or JSONL line) read as one article; a PDF, DOCX or e-mail
            file may be 20 times larger, since it holds images and markup beside its text.
        csv_columns: which CSV column holds each field ({"text": "body", "title": "headline"}), for CSV
            files whose header does not use the names id, title, text, date, source and url.

    Returns:
        A CorpusScan: one RawArticle per file (per line for .jsonl), and a SkippedFile, with the reason,
        for each file of another type, unreadable file or folder, malformed JSONL line or duplicate doc_id.
        A JSONL id that a file or another JSONL file already uses is made unique with its file's path
        (`feed/b001` for the id "b001" in feed.jsonl).

    Raises:
        CorpusError: if the folder does not exist or is not a folder.
    """
    root = Path(corpus_dir)
    if not root.exists():
        raise CorpusError(f"corpus folder {root} does not exist; pass the folder that holds your articles")
    if not root.is_dir():
        raise CorpusError(f"{root} is not a folder; pass the folder that holds your articles")
    scan = CorpusScan()
    options = {"csv_columns": dict(csv_columns or {})}
    found: list[RawArticle] = []
    for path in _walk(root, scan.skipped):
        rel = path.relative_to(root).as_posix()
        shown = _shown(rel)
        if shown != rel:
            scan.skipped.append(SkippedFile(path=shown, reason="the file name is not valid UTF-8; rename the file"))
            continue
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            scan.skipped.append(SkippedFile(path=rel, reason=_unsupported(suffix)))
            continue
        try:
            if suffix in FORMAT_SUFFIXES:
                reader = reader_for(suffix)
                with _open_article(path, reader.file_limit(max_article_bytes)) as f:
                    found += reader.scan(rel, str(path.absolute()), f, max_article_bytes, scan.skipped, options)
                continue
            with _open_article(path, None if suffix == ".jsonl" else max_article_bytes) as f:
                if suffix == ".jsonl":
                    found += _scan_jsonl(rel, str(path.absolute()), f, max_article_bytes, scan.skipped)
                else:
                    found.append(RawArticle.of_file(rel, f.read(max_article_bytes + 1)))
        except _Unreadable as exc:
            scan.skipped.append(SkippedFile(path=rel, reason=str(exc)))
        except OSError as exc:
            scan.skipped.append(SkippedFile(path=rel, reason=f"cannot read the file: {exc.strerror or exc}"))
    seen: dict[str, RawArticle] = {}
    # Files first: a file is named by its path, which nothing else can take from it.
    for raw in sorted(found, key=lambda r: r.line is not None):
        doc_id = raw.doc_id
        if doc_id in seen and raw.line is not None and seen[doc_id].path != raw.path:
            doc_id = f"{PurePosixPath(raw.path).with_suffix('').as_posix()}/{raw.doc_id}"
        if doc_id in seen:
            reason = f"duplicate doc_id {doc_id!r}: already used by {seen[doc_id].location}"
            scan.skipped.append(SkippedFile(path=raw.path, line=raw.line, reason=reason))
            continue
        seen[doc_id] = raw if doc_id == raw.doc_id else replace(raw, doc_id=doc_id)
    order = {(raw.path, raw.line): n for n, raw in enumerate(found)}
    scan.articles = sorted(seen.values(), key=lambda raw: order[(raw.path, raw.line)])
    return scan


class _Unreadable(Exception):
    """A corpus entry qa does not open: not a regular file, or too large."""


@contextmanager
def _open_article(path: Path, limit: int | None) -> Iterator[BinaryIO]:
    info = os.stat(path)  # follows a link: a link to an article is read like the article
    if not stat.S_ISREG(info.st_mode):
        raise _Unreadable(f"not a regular file ({_kind(info.st_mode)}); qa reads only regular files")
    if limit is not None and info.st_size > limit:
        raise _Unreadable(_too_large(info.st_size, limit))
    # O_NONBLOCK: a FIFO swapped in after the stat must not hang the build; fstat checks what was opened.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _Unreadable("not a regular file; qa reads only regular files")
    with os.fdopen(fd, "rb") as f:
        yield f


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a file"


def _too_large(size: int, limit: int) -> str:
    return (f"{size:,} bytes, more than the {limit:,} an article may have; split it, or raise the limit "
            "(build_index(max_article_bytes=...))")


def _shown(rel: str) -> str:
    """A path as text: bytes that are not UTF-8 (kept by os.walk as lone surrogates) become U+FFFD."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def parse_article(raw: RawArticle, notes: list[str] | None = None) -> Article:
    """Decode one article and strip its boilerplate.

    Args:
        raw: an article from `scan_corpus`.
        notes: where to add what was left out of a file that was read (a PDF's scanned pages).

    Returns:
        The Article: title, clean body text (without the title), and what metadata the file gives.

    Raises:
        UnsupportedFormatError: the file type is not one qa reads.
        EncodingError: the bytes are not text in any encoding qa knows.
        MalformedRecordError: a JSONL line that is not an article record.
        EmptyDocumentError: no text is left once boilerplate is removed.
    """
    suffix = PurePosixPath(raw.path).suffix.lower()
    where = raw.location
    data = raw.read()
    if suffix in (".txt", ".md"):
        fields = _parse_plain(_decode(data, where), markdown=suffix == ".md")
    elif suffix in (".html", ".htm"):
        fields = _parse_html(data, where)
    elif suffix == ".jsonl":
        fields = _parse_record(data, where)
    elif suffix in FORMAT_SUFFIXES:
        fields = reader_for(suffix).parse(raw, data)
        if notes is not None:
            notes += fields.get("notes", [])
        fields.pop("notes", None)
    else:
        raise UnsupportedFormatError(f"{raw.path}: {_unsupported(suffix)}")
    if not fields["text"]:
        raise EmptyDocumentError(f"{where}: no article text left once page boilerplate is removed")
    if not fields.get("title"):
        fields["title"] = title_from_body(fields["text"])
    return Article(doc_id=raw.doc_id, path=raw.path, **fields)


def load_article(path: str | Path, corpus_dir: str | Path | None = None) -> Article:
    """Read one .txt, .md, .html, .pdf, .docx or .eml file as an Article (an e-mail without its attachments).

    Args:
        path: the file.
        corpus_dir: the corpus folder it belongs to, which names the article (doc_id and path relative to it);
            without it the doc_id is the file's stem.

    Returns:
        The parsed Article.

    Raises:
        ValueError: for a .jsonl, .mbox or .csv file, which holds many articles: use `scan_corpus` on its folder.
        DocumentError: as `parse_article`; OSError if the file cannot be read.
    """
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".mbox", ".csv"):
        raise ValueError(f"{path} holds many articles; scan its folder with scan_corpus() instead")
    rel = path.relative_to(corpus_dir).as_posix() if corpus_dir is not None else path.name
    return parse_article(RawArticle.of_file(rel, path.read_bytes()))


def _walk(root: Path, skipped: list[SkippedFile]) -> list[Path]:
    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename).relative_to(root).as_posix() if exc.filename else str(root)
        skipped.append(SkippedFile(path=_shown(where), reason=f"cannot read the folder: {exc.strerror or exc}"))

    files: list[Path] = []
    for folder, dirs, names in os.walk(root, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(Path(folder) / name for name in sorted(names) if not name.startswith("."))
    return files


def _unsupported(suffix: str) -> str:
    kind = f"file type {suffix}" if suffix else "file with no extension"
    return f"unsupported {kind} (qa reads {', '.join(SUPPORTED_SUFFIXES)})"


def _scan_jsonl(rel: str, file: str, f: BinaryIO, limit: int, skipped: list[SkippedFile]) -> list[RawArticle]:
    found = []
    number = offset = 0
    while line := f.readline(limit + 2):
        number += 1
        start, offset = offset, offset + len(line)
        if len(line) > limit + 1 or (len(line) == limit + 1 and not line.endswith(b"\n")):
            size = len(line)
            while line and not line.endswith(b"\n"):  # the rest of the line, without keeping it
                line = f.readline(1 << 20)
                size += len(line)
                offset += len(line)
            skipped.append(SkippedFile(path=rel, line=number, reason=_too_large(size, limit)))
            continue
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            record = _check_record(_load_record(line))
        except MalformedRecordError as exc:
            skipped.append(SkippedFile(path=rel, line=number, reason=str(exc)))
            continue
        doc_id = str(record["id"]).strip()
        found.append(RawArticle(doc_id, rel, number, hashlib.sha256(line).hexdigest(), b"", (file, start, len(line))))
    return found


def _load_record(line: bytes) -> Any:
    try:
        return json.loads(line.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise MalformedRecordError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise MalformedRecordError(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc


def _check_record(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise MalformedRecordError(f"a JSON {type(record).__name__}, not an object with id and text")
    if not isinstance(record.get("id"), (str, int)) or not str(record["id"]).strip():
        raise MalformedRecordError('missing "id" (a non-empty string)')
    if not isinstance(record.get("text"), str):
        raise MalformedRecordError('missing "text" (a string)')
    for key in ("id", "title", "text", "source", "date", "url", "authors", "author"):
        values = record.get(key)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise MalformedRecordError(
                        f'"{key}" holds a lone surrogate ({value[exc.start:exc.end]!r} at character {exc.start}), '
                        "half of a character such as an emoji; fix the record"
                    ) from None
    return record


def _parse_record(data: bytes, where: str) -> dict[str, Any]:
    try:
        record = _check_record(_load_record(data))
    except MalformedRecordError as exc:
        raise MalformedRecordError(f"{where}: {exc}") from exc
    authors = record.get("authors") or record.get("author") or []
    if isinstance(authors, str):
        authors = split_authors(authors)
    return {
        "title": clean_title(_text_field(record, "title") or ""),
        "text": clean_body(strip_boilerplate(_unwrap(_lines(record["text"]), titled=False))),
        "source": _text_field(record, "source"),
        "date": _text_field(record, "date"),
        "url": _text_field(record, "url"),
        "authors": [str(a).strip() for a in authors if str(a).strip()] if isinstance(authors, list) else [],
    }


def _text_field(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    return str(value).strip() or None if isinstance(value, (str, int, float)) else None


def _decode(data: bytes, where: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1252/latin-1 if the bytes look like text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise EncodingError(f"{where}: starts as UTF-16 but is not valid UTF-16 text") from exc
    if b"\x00" in data:
        raise EncodingError(f"{where}: holds NUL bytes, so it is a binary file, not text; remove it or convert it")
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if controls > len(data) * 0.05:
        raise EncodingError(f"{where}: is full of control bytes, so it is a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Western text in a legacy encoding has a few accented letters and symbols, not a third of its bytes.
    if len(data) - len(data.translate(None, _HIGH_BYTES)) > len(data) * 0.3:
        raise EncodingError(f"{where}: is neither UTF-8 nor Latin-1 text (binary?); save it as UTF-8 text")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _lines(text: str) -> list[str]:
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return [line.rstrip() for line in text.split("\n")]


def _unwrap(lines: list[str], titled: bool) -> list[str]:
    """Join lines of a hard-wrapped text (Reuters wraps at ~70 columns) back into paragraphs.

    Only when every line is short and some sentence runs on to a lowercase word or a number on the next
    line: scraped pages have short lines too, but each is a whole paragraph, headline or link.
    """
    lengths = [len(line) for line in lines if line.strip()]
    if not lengths or max(lengths) > 100:
        return lines
    if not any(_runs_on(line, following) for line, following in zip(lines, lines[1:])):
        return lines
    width = max(lengths)
    out: list[str] = []
    first_line = None
    for line in lines:
        previous = out[-1] if out else ""
        if _continues(previous, line, width, len(out) - 1 == first_line and not titled):
            out[-1] = previous + line if previous.endswith("-") else f"{previous} {line}"
        else:
            out.append(line)
            if first_line is None and line.strip():
                first_line = len(out) - 1
    return out


def _runs_on(line: str, following: str) -> bool:
    return (
        bool(line.strip()) and not TERMINAL.search(line) and bool(_LOWER_OR_DIGIT.match(following))
        and not META_LINE.match(following)
    )


def _continues(previous: str, line: str, width: int, first: bool) -> bool:
    """Whether `line` carries on the paragraph of `previous` in a hard-wrapped text.

    Not before a blank, indented, bulleted, timestamped or "key: value" line; not from a sentence end to a capital unless
    the end is an abbreviation ("U.S."); across a short line only mid-sentence, or after a dateline cut
    the first line of a wire story short.
    """
    if not previous.strip() or not line.strip() or line[:1].isspace():
        return False
    if BULLET.match(line) or TIMESTAMPED.match(line) or META_LINE.match(line):
        return False
    if TERMINAL.search(previous) and line[:1].isupper():
        return bool(_ABBREVIATION_END.search(previous))
    if len(previous) >= 0.6 * width:
        return True
    return not TERMINAL.search(previous) and not previous.endswith(":") and (_runs_on(previous, line) or first)


def _parse_plain(text: str, markdown: bool) -> dict[str, Any]:
    lines = _unwrap(_lines(text), titled=True)
    meta: dict[str, Any] = {"title": None, "date": None, "source": None, "url": None, "authors": []}
    if markdown:
        lines = front_matter(lines, meta)
        lines = [_MD_LINK.sub(lambda m: m.group(1) or "", line) for line in lines]
    lines = metadata_lines(lines, meta)
    lines = strip_boilerplate(lines)
    if meta["title"] is None:
        meta["title"] = title_line(lines)
    meta["text"] = clean_body(lines)
    return meta


def _parse_html(data: bytes, where: str) -> dict[str, Any]:
    import trafilatura  # lxml and its extractors take ~0.5 s to import; only HTML needs them

    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EncodingError(f"{where}: holds NUL bytes, so it is a binary file, not a web page")
    document = None
    for precision in (True, False):  # favour precision first, then recall
        found = trafilatura.bare_extraction(
            data, with_metadata=True, include_comments=False, include_tables=True, include_images=False,
            deduplicate=True, favor_precision=precision, favor_recall=not precision,
        )
        document = None if isinstance(found, dict) else found  # a dict only with as_dict=True
        if document is not None and (document.text or "").strip():
            break
    if document is None or not (document.text or "").strip():
        raise EmptyDocumentError(f"{where}: no article text found in the page")
    source = (document.sitename or document.hostname or "").strip() or None
    title = clean_title(document.title or "")
    if source:
        title = re.sub(rf"\s+[|–—:-]\s+{re.escape(source)}$", "", title, flags=re.IGNORECASE)
    lines = metadata_lines(_lines(document.text or ""), {"title": title, "date": None, "source": None, "url": None,
                                                    "authors": []})
    lines = strip_boilerplate(lines)
    while lines and (not lines[0].strip() or same_title(lines[0], title)):
        lines.pop(0)
    if not title:
        title = title_line(lines) or ""
    return {
        "title": title,
        "text": clean_body(lines),
        "source": source,
        "date": (document.date or "").strip() or None,
        "url": (document.url or "").strip() or None,
        "authors": split_authors(document.author) if document.author else [],
    }
