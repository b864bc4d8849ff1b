"""PDF, Word, e-mail and CSV archives: real files made here with the libraries themselves, indexed and asked."""

from __future__ import annotations

import csv
import mailbox
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

import docx
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

import qa
from qa.documents import load_article, scan_corpus

HEADER = "Seahouses Harbour Trust - Annual Report 2025"


def make_pdf(path: Path, pages: list[list[str]], *, header: str | None = None, **options: object) -> Path:
    """A PDF with one text line per string, a running header and "Page N of M" at the foot of each page."""
    c = canvas.Canvas(str(path), pagesize=A4, **options)
    width, height = A4
    for number, lines in enumerate(pages, 1):
        if header:
            c.setFont("Helvetica", 9)
            c.drawString(72, height - 40, header)
            c.drawCentredString(width / 2, 30, f"Page {number} of {len(pages)}")
        c.setFont("Helvetica", 11)
        y = height - 100
        for line in lines:
            if line:
                c.drawString(72, y, line)
            y -= 14 if line else 28
        c.showPage()
    c.save()
    return path


def make_mail(subject: str, sender: str, date: str, *, text: str | None = None, html: str | None = None,
              message_id: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"], message["From"], message["Date"] = subject, sender, date
    if message_id:
        message["Message-ID"] = message_id
    if text:
        message.set_content(text)
    else:
        message.set_content(html or "", subtype="html")
    return message


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus of one file of each new format, and one of each that must be skipped."""
    root = tmp_path_factory.mktemp("archive")
    make_pdf(root / "trust-report.pdf", [
        ["The Seahouses Harbour Trust spent 2.4 million pounds repairing the", "north pier during 2025, its chair said.",
         "", "The harbour master said the re-", "opening of the fish market was delayed by the winter storms."],
        ["The trust expects the lifeboat station on the quay to reopen in September,",
         "once the new slipway has been tested."],
    ], header=HEADER)
    document = docx.Document()
    document.core_properties.title = "Holy Island ferry timetable"
    document.core_properties.created = datetime(2025, 2, 14, 11, 30)
    document.add_heading("Holy Island ferry timetable", 0)
    document.add_paragraph("The ferry to Holy Island will sail four times a day from March, the operator said.")
    document.save(str(root / "ferry.docx"))

    tip = make_mail("Amble harbour wall", "Jane Reader <jane@example.org>", "Tue, 04 Mar 2025 09:15:00 +0000",
                    html="<html><body><p>The harbour wall in Amble cracked on Friday night after the spring tide, "
                         "a reader wrote to the newsdesk.</p><p>Photos are attached.</p></body></html>")
    survey = make_pdf(root / "survey.tmp", [["The engineers found that 40 metres of the Amble wall must be rebuilt."]])
    tip.add_attachment(survey.read_bytes(), maintype="application", subtype="pdf", filename="survey.pdf")
    survey.unlink()
    (root / "tip.eml").write_bytes(bytes(tip))

    box = mailbox.mbox(str(root / "council.mbox"))
    for n, text in enumerate([
        "The Alnwick bus station will close for refurbishment in May.",
        "Berwick council approved 120 new homes on the Tweedmouth site on Wednesday.",
        "The Craster kipper festival drew 5,000 visitors on Saturday.",
    ], 1):
        box.add(make_mail(f"Council note {n}", "Press Office <press@council.example>",
                          f"Mon, 0{n} Sep 2025 10:00:00 +0100", text=text + "\n\n-- \nPress Office", message_id=f"<note-{n}@council.example>"))
    box.flush()
    box.close()

    with open(root / "desk.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "title", "text", "date", "source"])
        writer.writerow(["desk-1", "Castle parking", "The Bamburgh Castle car park will charge 8 pounds a day from April.",
                         "2025-01-20", "Data desk"])
        writer.writerow(["desk-2", "Beach huts", "Forty beach huts will be built at Druridge Bay.", "2025-01-21", "Data desk"])

    scanned = canvas.Canvas(str(root / "scanned.pdf"))
    scanned.drawImage(ImageReader(Image.new("L", (200, 100), 200)), 72, 500, 400, 200)
    scanned.showPage()
    scanned.save()
    make_pdf(root / "locked.pdf", [["A secret sentence about the harbour."]], encrypt="secret")
    (root / "truncated.docx").write_bytes((root / "ferry.docx").read_bytes()[:3000])
    (root / "people.csv").write_text("name,age\nbob,3\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def archive_report(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[qa.IndexReport, Path]:
    index = tmp_path_factory.mktemp("archive-index") / "index"
    return qa.build_index(archive, index), index


@pytest.fixture(scope="module")
def archive_bot(archive_report: tuple[qa.IndexReport, Path]):
    with qa.open_index(archive_report[1]) as bot:
        yield bot


def asked(bot: qa.QA, question: str) -> qa.Answer:
    """The answer, after checking that its citation's offsets give back the quoted sentence."""
    answer = bot.ask(question)
    assert answer.found and answer.citation is not None, answer.reason
    article = bot.article(answer.citation.doc_id)
    assert article.text[answer.citation.start:answer.citation.end] == answer.sentence
    return answer


def test_a_pdf_is_read_without_its_running_header_and_page_numbers(archive_bot: qa.QA) -> None:
    answer = asked(archive_bot, "How much did the Seahouses Harbour Trust spend repairing the north pier?")

    assert answer.citation.doc_id == "trust-report"
    assert answer.citation.date == date.today().isoformat(), "the PDF's creation date, as reportlab wrote it"
    assert "2.4 million pounds" in answer.sentence
    text = archive_bot.article("trust-report").text
    assert "Annual Report" not in text and "Page 1" not in text and "Page 2" not in text
    assert "the reopening of the fish market" in text, "a word hyphenated at a line end is joined"
    assert "lifeboat station on the quay to reopen in September, once the new slipway" in text


def test_a_docx_is_read_with_its_title(archive_bot: qa.QA) -> None:
    answer = asked(archive_bot, "How often will the ferry to Holy Island sail?")

    assert answer.citation.doc_id == "ferry"
    assert (answer.citation.title, answer.citation.date) == ("Holy Island ferry timetable", "2025-02-14")
    assert "four times a day" in answer.sentence


def test_an_eml_with_an_html_part_and_a_pdf_attachment_gives_two_articles(archive_bot: qa.QA) -> None:
    message = asked(archive_bot, "When did the harbour wall in Amble crack?")
    attachment = asked(archive_bot, "How many metres of the Amble wall must be rebuilt?")

    assert message.citation.doc_id == "tip"
    assert (message.citation.title, message.citation.source, message.citation.date) == (
        "Amble harbour wall", "Jane Reader", "2025-03-04")
    assert "Friday night" in message.sentence
    assert attachment.citation.doc_id == "tip/survey.pdf"
    assert "40 metres" in attachment.sentence
    assert attachment.citation.source == "Jane Reader", "an attachment without its own source is the sender's"


def test_an_mbox_gives_one_article_a_message_named_by_its_message_id(archive_bot: qa.QA) -> None:
    answer = asked(archive_bot, "How many new homes did Berwick council approve?")

    assert answer.citation.doc_id == "council/note-2@council.example"
    assert (answer.citation.title, answer.citation.date) == ("Council note 2", "2025-09-02")
    assert "120 new homes" in answer.sentence
    ids = {a.doc_id for a in archive_bot.articles()}
    assert {f"council/note-{n}@council.example" for n in (1, 2, 3)} <= ids
    assert "Press Office" not in archive_bot.article("council/note-1@council.example").text, "the signature is left out"


def test_a_csv_gives_one_article_a_row(archive_bot: qa.QA) -> None:
    answer = asked(archive_bot, "How much will the Bamburgh Castle car park charge?")

    assert answer.citation.doc_id == "desk-1"
    assert (answer.citation.title, answer.citation.source) == ("Castle parking", "Data desk")


def test_unreadable_files_are_skipped_with_the_reason(archive_report: tuple[qa.IndexReport, Path]) -> None:
    report = archive_report[0]
    reasons = {s.path: s.reason for s in report.skipped}

    assert "no text layer" in reasons["scanned.pdf"] and "OCR" in reasons["scanned.pdf"]
    assert "encrypted" in reasons["locked.pdf"] and "password" in reasons["locked.pdf"]
    assert "not a readable .docx" in reasons["truncated.docx"] and "truncated" in reasons["truncated.docx"]
    assert "no text column: the header has name, age" in reasons["people.csv"]
    assert report.added == 1 + 1 + 2 + 3 + 2, "the PDF, the DOCX, the e-mail and its attachment, 3 messages, 2 rows"


def test_an_unchanged_archive_is_not_read_again(archive: Path, archive_report: tuple[qa.IndexReport, Path]) -> None:
    again = qa.build_index(archive, archive_report[1])

    assert (again.added, again.updated, again.removed, again.embedded) == (0, 0, 0, 0)
    assert again.unchanged == archive_report[0].added


def test_a_pdf_with_a_scanned_page_keeps_its_text_pages_and_says_which_page_it_left_out(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "mixed.pdf", [["A page of text about the harbour."], []])
    notes: list[str] = []

    article = qa.documents.parse_article(scan_corpus(tmp_path).articles[0], notes)

    assert article.text == "A page of text about the harbour."
    assert notes == ["page 2 of 2 has no text layer (scanned?) and is left out; qa does no OCR"]
    assert load_article(path).doc_id == "mixed"


def test_csv_columns_map_another_header(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(corpus / "export.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(["story_id", "headline", "body", "published"])
        writer.writerow(["s1", "Lifeboat crew honoured",
                         "The Craster lifeboat crew received a bravery award on Thursday for a January rescue.",
                         "2025-02-06"])

    unmapped = scan_corpus(corpus)
    report = qa.build_index(corpus, tmp_path / "index",
                            csv_columns={"id": "story_id", "title": "headline", "text": "body", "date": "published"})

    assert "no text column: the header has story_id, headline, body, published" in unmapped.skipped[0].reason
    assert report.added == 1
    with qa.open_index(tmp_path / "index") as bot:
        answer = asked(bot, "What did the Craster lifeboat crew receive?")
        assert (answer.citation.doc_id, answer.citation.title, answer.citation.date) == (
            "s1", "Lifeboat crew honoured", "2025-02-06")


def test_an_eml_in_a_legacy_charset_with_an_encoded_subject_reads_as_text(tmp_path: Path) -> None:
    message = EmailMessage()
    message["Subject"] = "Re: Café reopens in Alnmouth"
    message["From"] = "Zoë Ward <zoe@example.org>"
    message["Date"] = "Fri, 07 Mar 2025 16:00:00 +0000"
    message.set_content("The café on the green reopens on Saturday, Zoë said.\n\n> an older message\n",
                        charset="iso-8859-1")
    (tmp_path / "cafe.eml").write_bytes(bytes(message))

    article = load_article(tmp_path / "cafe.eml")

    assert b"=?utf-8?" in (tmp_path / "cafe.eml").read_bytes()
    assert (article.title, article.source, article.date) == ("Café reopens in Alnmouth", "Zoë Ward", "2025-03-07")
    assert article.text == "The café on the green reopens on Saturday, Zoë said.", "the quoted reply is left out"
