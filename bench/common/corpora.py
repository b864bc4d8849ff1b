"""Reuters-21578 and BBC News as JSONL corpora (one article per line), for the scale bench.

The collections are read where they lie in /work/shared/evaldev/corpora and written under bench/out/, never
into the repository.

    Reuters: one record per <REUTERS> story with a <BODY> (19,043): id "reuters-<NEWID>", TITLE, DATE as an
             ISO date, source "Reuters"; the body unwrapped into paragraphs, the closing "Reuter" sign-off cut.
    BBC:     one record per bbc/<category>/NNN.txt (2,225): id "bbc-<category>-NNN", the first line as title.

    .venv/bin/python -m bench.common.corpora [--out bench/out/corpora]    # write both and print their sizes
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
from datetime import datetime
from pathlib import Path

import bench

CORPORA = Path("/work/shared/evaldev/corpora")
REUTERS = CORPORA / "reuters-21578"
BBC = CORPORA / "bbc-news" / "bbc"
OUT = bench.OUT / "corpora"

_STORY = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.S)
_NEWID = re.compile(r'NEWID="(\d+)"')
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SIGN_OFF = re.compile(r"\s*\bReuters?\s*$")
_PARAGRAPH = re.compile(r"\n[ \t]+")


def _field(tag: str, story: str) -> str | None:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", story, re.S)
    return match.group(1) if match else None


def _reuters_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return datetime.strptime(value.split()[0], "%d-%b-%Y").strftime("%Y-%m-%d")
    except ValueError:
        return None


def reuters_records(folder: Path = REUTERS) -> list[dict]:
    """Every Reuters-21578 story that has a body, in NEWID order.

    Args:
        folder: the folder of reut2-000.sgm ... reut2-021.sgm.

    Returns:
        Records with id, title, text, date and source.
    """
    records = []
    for path in sorted(folder.glob("reut2-*.sgm")):
        for attributes, story in _STORY.findall(path.read_text(encoding="latin-1")):
            body = _field("BODY", story)
            newid = _NEWID.search(attributes)
            if body is None or newid is None:
                continue
            body = _SIGN_OFF.sub("", _CONTROL.sub("", html.unescape(body)))
            paragraphs = [" ".join(p.split()) for p in _PARAGRAPH.split(body.strip())]
            title = " ".join(_CONTROL.sub("", html.unescape(_field("TITLE", story) or "")).split())
            records.append({
                "id": f"reuters-{newid.group(1)}", "title": title, "text": "\n\n".join(p for p in paragraphs if p),
                "date": _reuters_date(_field("DATE", story)), "source": "Reuters",
            })
    return records


def bbc_records(folder: Path = BBC) -> list[dict]:
    """Every BBC News article, by category then file name.

    Args:
        folder: the `bbc` folder holding one sub-folder per category.

    Returns:
        Records with id, title, text and source (the collection has no dates).
    """
    records = []
    for path in sorted(folder.glob("*/*.txt")):
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # sport/199.txt holds one latin-1 pound sign
            text = data.decode("latin-1")
        title, _, body = text.partition("\n")
        records.append({"id": f"bbc-{path.parent.name}-{path.stem}", "title": title.strip(), "text": body.strip(),
                        "source": "BBC News"})
    return records


def write_jsonl(records: list[dict], path: Path) -> Path:
    """Write records one per line, replacing the file in one step; an identical file is left untouched.

    Args:
        records: JSON-serialisable dicts.
        path: the .jsonl file to write; its folder is created.

    Returns:
        The path.
    """
    content = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.read_text(encoding="utf-8") == content:
        return path
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT,
                        help="folder to write reuters/reuters.jsonl and bbc/bbc.jsonl in (default: bench/out/corpora)")
    args = parser.parse_args()
    for name, records in (("reuters", reuters_records()), ("bbc", bbc_records())):
        path = write_jsonl(records, args.out / name / f"{name}.jsonl")
        chars = sum(len(r["text"]) for r in records)
        print(f"{name:<8}{len(records):>7,} articles {chars:>12,} chars  {path}")


if __name__ == "__main__":
    main()
