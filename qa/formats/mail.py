"""E-mail: .eml files and .mbox archives through the standard library's `email`.

A message is an article: its subject the title, its Date header the date, its sender the source, its
text the plain-text part (quoted replies and the signature left out) or else the HTML part through
trafilatura. An attachment qa can read (.pdf, .docx, .txt, .md, .html) is an article of its own, named
`<message id>/<file name>`. An .mbox is read one message at a time, so memory holds one message, not
the archive; its messages are named `<archive>/<Message-ID>` (by number when a message has none).
"""

from __future__ import annotations

import email
import hashlib
import re
from collections.abc import Iterator, Mapping
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from qa.documents import RawArticle, _lines, _parse_html, _too_large, _unwrap, parse_article
from qa.errors import EmptyDocumentError
from qa.formats._text import article_fields, join_lines, whole_file
from qa.models import SkippedFile

ATTACHMENT_SUFFIXES = (".pdf", ".docx", ".txt", ".md", ".html", ".htm")
_PART = re.compile(rb"part (\d+)\n")
_REPLY_HEADER = re.compile(r"^On .{4,200} wrote:$")


class MailReader:
    """Reads .eml and .mbox files; see the module docstring."""

    def file_limit(self, max_article_bytes: int) -> int | None:
        return None  # an .eml is checked below, an .mbox message by message

    def scan(self, rel: str, file: str, f: BinaryIO, max_article_bytes: int, skipped: list[SkippedFile],
             options: Mapping[str, Any]) -> list[RawArticle]:
        limit = 20 * max_article_bytes  # base64 attachments take 4/3 of their size
        stem = PurePosixPath(rel).with_suffix("").as_posix()
        if rel.lower().endswith(".eml"):
            whole = whole_file(rel, file, f)
            assert whole.origin is not None
            if whole.origin[2] > limit:
                skipped.append(SkippedFile(path=rel, reason=_too_large(whole.origin[2], limit)))
                return []
            f.seek(0)
            return [whole, *_attachments(whole, f.read(), stem)]
        found: list[RawArticle] = []
        for number, line, offset, data in _messages(f, limit):
            if data is None:
                skipped.append(SkippedFile(path=rel, line=line, reason=_too_large(offset, limit)))
                continue
            message = _message(data)
            msgid = _header(message, "Message-ID").strip("<>").strip()
            doc_id = f"{stem}/{msgid or number}"
            raw = RawArticle(doc_id, rel, line, hashlib.sha256(data).hexdigest(), b"", (file, offset, len(data)))
            found += [raw, *_attachments(raw, data, doc_id, message)]
        return found

    def parse(self, raw: RawArticle, data: bytes) -> dict[str, Any]:
        message = _message(data)
        sender = _sender(message)
        date = _date(message)
        part = _PART.match(raw.context)
        if part is None:
            return _message_fields(raw, message, sender, date)
        attachment = list(message.walk())[int(part.group(1))]
        name = _filename(attachment) or f"attachment{raw.kind}"
        inner = RawArticle(raw.doc_id, f"{raw.location}/{name}", None, "", _payload(attachment))
        notes: list[str] = []
        article = parse_article(inner, notes)
        fields = article.model_dump(exclude={"doc_id", "path"})
        fields["source"] = fields["source"] or sender
        fields["date"] = fields["date"] or date
        fields["notes"] = notes
        return fields


def _message(data: bytes) -> Message:
    # compat32, not policy.default: its header objects made an mbox read 7x slower (bench/scale/read_speed.py)
    return email.message_from_bytes(data)


def _header(message: Message, name: str) -> str:
    """A header as text, its encoded words ("=?utf-8?q?...?=") decoded."""
    value = message.get(name)
    if value is None:
        return ""
    try:
        return " ".join(str(make_header(decode_header(str(value)))).split())
    except (LookupError, ValueError, UnicodeError):
        return " ".join(str(value).split())


def _messages(f: BinaryIO, limit: int) -> Iterator[tuple[int, int, int, bytes | None]]:
    """(number, line of its "From " line, offset, bytes) of each message of an mbox, one at a time; for a
    message larger than `limit`, bytes None and its size in place of the offset (its bytes are not kept)."""
    number = offset = line_number = size = start = start_line = 0
    chunks: list[bytes] | None = None
    for line in iter(f.readline, b""):
        line_number += 1
        if line.startswith(b"From ") and size:  # mbox escapes a body line that starts so as ">From "
            number += 1
            yield number, start_line, *((start, b"".join(chunks)) if chunks is not None else (size, None))
            size = 0
        if not size:
            if not line.strip():
                offset += len(line)
                continue
            start, start_line, chunks = offset, line_number, []
        size += len(line)
        offset += len(line)
        if chunks is not None:
            chunks.append(line)
            if size > limit:
                chunks = None
    if size:
        yield number + 1, start_line, *((start, b"".join(chunks)) if chunks is not None else (size, None))


def _attachments(raw: RawArticle, data: bytes, doc_id: str, message: Message | None = None) -> list[RawArticle]:
    message = message if message is not None else _message(data)
    found, names = [], set()
    for k, part in enumerate(message.walk()):
        name = _filename(part)
        suffix = PurePosixPath(name or "").suffix.lower()
        if not name or suffix not in ATTACHMENT_SUFFIXES or part.is_multipart():
            continue
        name = PurePosixPath(name.replace("\\", "/")).name
        shown = name if name not in names else f"{k}-{name}"
        names.add(name)
        context = b"part %d\n" % k
        found.append(RawArticle(f"{doc_id}/{shown}", raw.path, raw.line, hashlib.sha256(context + data).hexdigest(),
                                b"", raw.origin, context, suffix))
    return found


def _filename(part: Message) -> str | None:
    name = part.get_filename()
    if not name:
        return None
    try:
        return str(make_header(decode_header(name)))
    except (LookupError, ValueError, UnicodeError):
        return name


def _sender(message: Message) -> str | None:
    name, address = parseaddr(_header(message, "From"))
    return name.strip() or address.strip() or None


def _date(message: Message) -> str | None:
    try:
        when = parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return None
    return when.date().isoformat()


def _message_fields(raw: RawArticle, message: Message, sender: str | None, date: str | None) -> dict[str, Any]:
    subject = re.sub(r"^(?:(?:re|fwd?|aw|tr)\s*:\s*)+", "", _header(message, "Subject"), flags=re.IGNORECASE)
    body = _body(message, "plain") or _body(message, "html")
    if body is None:
        raise EmptyDocumentError(f"{raw.location}: the message has no text part")
    payload = _payload(body)
    charset = body.get_content_charset() or "utf-8"
    try:
        content = payload.decode(charset, errors="replace")
    except LookupError:
        content = payload.decode("utf-8", errors="replace")
    if body.get_content_subtype() == "html":
        html = _parse_html(content.encode("utf-8"), raw.location)
        paragraphs = [p for p in html["text"].split("\n") if p.strip()]
    else:
        paragraphs = _paragraphs(content)
    return article_fields(paragraphs, title=subject or None, source=sender, date=date)


def _body(message: Message, subtype: str) -> Message | None:
    """The first text/<subtype> part that is not an attachment."""
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}" and part.get_content_disposition() != "attachment":
            return part
    return None


def _paragraphs(text: str) -> list[str]:
    """The paragraphs of a plain-text message, without the quoted reply below it and the signature."""
    kept: list[str] = []
    for line in _lines(text):
        if line == "-- " or line.rstrip() == "--":
            break
        if line.lstrip().startswith(">") or _REPLY_HEADER.match(line.strip()):
            continue
        kept.append(line)
    paragraphs, block = [], []
    for line in _unwrap(kept, titled=False) + [""]:
        if line.strip():
            block.append(line)
        elif block:
            paragraphs.append(join_lines(block))
            block = []
    return paragraphs


READER = MailReader()


def _payload(part: Message) -> bytes:
    """A part's content, transfer-decoded; empty for a multipart container or no content."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""
