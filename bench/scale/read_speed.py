"""Reading speed of the format readers: pages/s on a large generated PDF, messages/s on a large mbox.

Each measurement runs in a fresh child process, so its peak resident memory (ru_maxrss) is that of the
reading alone; the table also gives the child's memory after the imports, to subtract. The files are
generated here (reportlab for the PDF, the stdlib for the mbox and CSV) into a temporary folder, read
as a build reads them (`scan_corpus`, then `parse_article` for every article), and removed. pypdf, when
installed, is timed on the same PDF for comparison (plain text extraction, no layout analysis).

    .venv/bin/python -m bench.scale.read_speed [--pages 300] [--messages 20000] [--rows 20000]
"""

from __future__ import annotations

import argparse
import csv
import mailbox
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import TypeAlias

WORDS = ("the council said on monday that the harbour would reopen after repairs to the sea wall cost more "
         "than expected while fishermen asked for compensation and the trust promised a decision by june").split()


def _sentences(rnd: random.Random, count: int) -> list[str]:
    return [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 20))).capitalize() + "." for _ in range(count)]


def make_pdf(path: Path, pages: int) -> None:
    """A report of `pages` pages: a running header, a page number, ~45 lines of text a page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    rnd = random.Random(7)
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for number in range(1, pages + 1):
        c.setFont("Helvetica", 9)
        c.drawString(72, height - 40, "Harbour Trust - Annual Report")
        c.drawCentredString(width / 2, 30, f"Page {number} of {pages}")
        c.setFont("Helvetica", 11)
        y = height - 90
        text = " ".join(_sentences(rnd, 30))
        while text and y > 60:
            cut = text.rfind(" ", 0, 85) if len(text) > 85 else len(text)
            c.drawString(72, y, text[:cut])
            text, y = text[cut + 1:], y - 15
        c.showPage()
    c.save()


def make_mbox(path: Path, messages: int) -> None:
    """`messages` messages of 3-8 sentences each, every fifth one with an HTML alternative."""
    rnd = random.Random(11)
    box = mailbox.mbox(str(path))
    for n in range(messages):
        message = EmailMessage()
        message["Subject"] = f"Note {n}"
        message["From"] = "Press Office <press@council.example>"
        message["Date"] = "Mon, 01 Sep 2025 10:00:00 +0100"
        message["Message-ID"] = f"<note-{n}@council.example>"
        body = "\n\n".join(_sentences(rnd, rnd.randint(3, 8)))
        message.set_content(body)
        if n % 5 == 0:
            message.add_alternative(f"<html><body><p>{body}</p></body></html>", subtype="html")
        box.add(message)
    box.flush()
    box.close()


def make_csv(path: Path, rows: int) -> None:
    rnd = random.Random(13)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "title", "text", "date", "source"])
        for n in range(rows):
            writer.writerow([f"r{n}", f"Row {n}", " ".join(_sentences(rnd, 5)), "2025-01-01", "Data desk"])


def _read_with_qa(folder: str, queue: multiprocessing.Queue) -> None:
    from qa.documents import parse_article, scan_corpus
    from qa.formats import FORMAT_SUFFIXES, reader_for

    for suffix in FORMAT_SUFFIXES:  # the libraries are imported before the clock starts
        reader_for(suffix)
    import docx  # noqa: F401
    import pdfminer.high_level  # noqa: F401
    import trafilatura  # noqa: F401

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tick = time.perf_counter()
    scan = scan_corpus(folder)
    scanned = time.perf_counter() - tick
    chars = 0
    for raw in scan.articles:
        chars += len(parse_article(raw).text)
    queue.put({"articles": len(scan.articles), "skipped": len(scan.skipped), "scan_s": scanned,
               "total_s": time.perf_counter() - tick, "chars": chars, "baseline_kb": baseline,
               "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})


def _read_with_pypdf(path: str, queue: multiprocessing.Queue) -> None:
    from pypdf import PdfReader

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tick = time.perf_counter()
    chars = sum(len(page.extract_text() or "") for page in PdfReader(path).pages)
    queue.put({"articles": 1, "skipped": 0, "scan_s": 0.0, "total_s": time.perf_counter() - tick, "chars": chars,
               "baseline_kb": baseline, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})


Reading: TypeAlias = "Callable[[str, multiprocessing.Queue], None]"  # reads a file or folder, puts its figures


def _in_child(target: Reading, arg: str) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=target, args=(arg, queue))
    child.start()
    result = queue.get(timeout=3600)
    child.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300, help="pages of the generated PDF (default: 300)")
    parser.add_argument("--messages", type=int, default=20000, help="messages of the generated mbox (default: 20000)")
    parser.add_argument("--rows", type=int, default=20000, help="rows of the generated CSV (default: 20000)")
    args = parser.parse_args(argv)
    command = "python -m bench.scale.read_speed " + " ".join(sys.argv[1:] if argv is None else argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cases: list[tuple[str, Reading, str, Path, int, str]] = []
        for name, make, size, unit in (("pdf", make_pdf, args.pages, "pages"),
                                       ("mbox", make_mbox, args.messages, "messages"),
                                       ("csv", make_csv, args.rows, "rows")):
            folder = Path(tmp) / name
            folder.mkdir()
            make(folder / f"big.{name}", size)
            cases.append((f"qa {name} reader", _read_with_qa, str(folder), folder / f"big.{name}", size, unit))
        try:
            import pypdf  # noqa: F401
            cases.insert(1, ("pypdf (comparison)", _read_with_pypdf, str(cases[0][3]), cases[0][3], args.pages, "pages"))
        except ImportError:
            print("pypdf is not installed: no comparison line (pip install pypdf)", file=sys.stderr)
        for label, target, arg, file, size, unit in cases:
            result = _in_child(target, arg)
            rows.append((label, f"{size:,} {unit}, {file.stat().st_size / 2**20:.1f} MB",
                         f"{size / result['total_s']:,.0f} {unit}/s", f"{result['total_s']:.1f} s",
                         f"{result['scan_s']:.2f} s", f"{(result['peak_kb'] - result['baseline_kb']) / 1024:.0f} MB",
                         f"{result['peak_kb'] / 1024:.0f} MB", f"{result['articles']:,}"))
    header = ("reader", "data", "speed", "wall", "of it scan", "peak RSS - imports", "peak RSS", "articles")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
    print(f"\nreproduce: {command.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
