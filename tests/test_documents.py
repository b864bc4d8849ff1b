"""Reading a corpus folder: metadata, clean text without page boilerplate, and the files that are skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.documents import load_article, parse_article, scan_corpus
from qa.errors import CorpusError, EmptyDocumentError, EncodingError, MalformedRecordError, UnsupportedFormatError
from qa.sentences import split_sentences

DATA = Path(__file__).parent / "data"

BOILERPLATE = [
    "Share", "Comments", "Please enable JavaScript", "Disqus", "Leave a Reply", "Your email address",
    "Required fields are marked", "Trending Posts", "Popular Articles", "All Post", "Blogs", "Fascinating Facts",
    "Showbiz", "Newsletter", "Subscribe", "Ops! Something went wrong", "Categories", "Edit Template", "©",
    "Apex IT Solutions", "Contact Us", "For more: Elrisala", "follow us on Facebook", "Follow us on Facebook",
    "Source of information", "Related Articles", "Back to top", "Discover more from", "full archive",
    "Continue reading", "14:30", "Recognizing unpaid domestic work", "Netanyahu", "GITEX", "Comments (0)",
    "You may also like", "Barcelona", "Marcus Rashford", "Ozzy Osbourne", "Modi", "Lula", "Sarnaik",
    "Club World Cup", "Fluminense",
]


@pytest.fixture(scope="module")
def articles(corpus_dir: Path) -> dict:
    scan = scan_corpus(corpus_dir)
    assert scan.skipped == []
    return {raw.doc_id: parse_article(raw) for raw in scan.articles}


def test_scan_lists_the_default_articles_with_hashes(corpus_dir: Path) -> None:
    scan = scan_corpus(corpus_dir)
    assert [raw.doc_id for raw in scan.articles] == [
        "000_404809e14ec4b5ef", "001_0b0befd10767e2d2", "002_8f53a767d3a9432f",
        "003_a7d3e74dcfafbf5a", "004_fd5b037eee5d7828",
    ]
    first = scan.articles[0]
    assert first.path == "000_404809e14ec4b5ef.txt" and first.line is None
    assert len(first.content_hash) == 64 and first.data == (corpus_dir / first.path).read_bytes()


def test_titles_and_dates_of_the_default_articles(articles: dict) -> None:
    titles = {doc_id[:3]: article.title for doc_id, article in articles.items()}
    assert titles["000"] == "51 Chinese nationals reportedly join Russian forces in Ukraine"
    assert titles["001"] == "Zelensky Claims 155 Chinese fighting for Russia"
    assert titles["002"] == (
        "Ukraine-Russia war latest: Zelensky releases new video of Chinese soldiers and says Beijing turning blind eye"
    )
    assert titles["003"] == "China denies claims of citizens fighting with Russia in Ukraine"
    assert titles["004"].startswith("Vladimir Putin has signed a new law") and len(titles["004"]) <= 101
    assert articles["000_404809e14ec4b5ef"].date == "2025-04-12"
    assert all(article.source is None for article in articles.values())


def test_title_is_not_part_of_the_text(articles: dict) -> None:
    for doc_id in ("000_404809e14ec4b5ef", "001_0b0befd10767e2d2", "002_8f53a767d3a9432f", "003_a7d3e74dcfafbf5a"):
        article = articles[doc_id]
        assert article.title not in article.text
    assert not articles["000_404809e14ec4b5ef"].text.startswith("date")
    assert articles["002_8f53a767d3a9432f"].text.startswith("Ukrainian president Volodymyr Zelensky says")


def test_no_boilerplate_is_left_in_the_default_articles(articles: dict) -> None:
    for article in articles.values():
        for junk in BOILERPLATE:
            assert junk not in article.text, f"{junk!r} left in {article.doc_id}"
        for line in article.text.splitlines():
            assert not line.startswith(("•", "-", ">")), f"marker left in {article.doc_id}: {line!r}"


def test_the_facts_are_kept_verbatim(articles: dict) -> None:
    text = {doc_id[:3]: article.text for doc_id, article in articles.items()}
    assert "38-year-old Rui Zhao, was killed in the Zaporizhia region in December 2023" in text["000"]
    assert "waited 8–10 hours for aid in battle" in text["000"]
    assert "received a St. George's Cross for rescuing comrades near Bakhmut" in text["000"]
    assert text["000"].endswith("Sun later returned to China in March.")
    assert "at least 155 Chinese nationals are currently fighting" in text["001"]
    assert "“China is not the initiator nor a party to the Ukrainian conflict,” said" in text["001"]
    assert "Ukraine believes that such blatant involvement" in text["001"]
    assert "at least 155 Chinese citizens fighting for the Russian military" in text["002"]
    assert text["003"].startswith("On Wednesday, China strongly rejected claims made by Kyiv")
    assert "including a €1 billion aid package" in text["003"]
    assert "Russia has suffered 1,028,610 casulaties in Ukraine" in text["004"]
    assert text["004"].endswith("high personnel loss rates\".")


def test_every_sentence_of_the_default_articles_round_trips(articles: dict) -> None:
    for article in articles.values():
        spans = split_sentences(article.text)
        assert len(spans) >= 5
        for start, end in spans:
            sentence = article.text[start:end]
            assert sentence and sentence == sentence.strip() and "\n" not in sentence


def test_raw_html_page_gives_the_story_without_the_page_around_it() -> None:
    article = load_article(DATA / "raw_page.html", DATA)
    assert article.doc_id == "raw_page" and article.path == "raw_page.html"
    assert article.title == "Harbour city rations water as reservoirs fall to 18%"
    assert article.date == "2024-06-14"
    assert article.source == "The Coastal Ledger"
    assert article.url == "https://www.coastal-ledger.example/news/2024/06/14/port-aldren-water-rationing"
    assert article.authors == ["Maria Okonkwo"]
    assert article.text.startswith("Port Aldren will ration household water from Monday")
    assert "“We have had the driest spring in ninety years, and every litre we save now" in article.text
    assert "loses 2.4 million litres a week." in article.text
    assert article.text.endswith("said Councillor Tom Reyes.")
    for junk in [
        "cookies", "Home", "Subscribe", "Share", "Facebook", "Advertisement", "Read more", "Farmers warn",
        "Related Articles", "Heatwave", "Comments", "harbourwatcher", "Fix the leaks", "Leave a Reply",
        "Your email address", "©", "All rights reserved", "Ferry workers", "Newsletter", "morning briefing",
        "Photo: Ledger staff", "Environment Correspondent",
    ]:
        assert junk not in article.text, junk


def test_jsonl_records_become_articles_and_bad_lines_are_reported(tmp_path: Path) -> None:
    good = {
        "id": "reuters-2", "title": "STANDARD OIL <SRD> TO FORM FINANCIAL UNIT", "date": "26-FEB-1987",
        "source": "Reuters", "url": "https://example.org/2", "authors": ["A. Writer", "B. Writer"],
        "text": "Standard Oil Co and BP North America\nInc said they plan to form a venture to manage the money\n"
        "market borrowing and investment activities of both companies.\n"
        "    BP North America is a subsidiary of British Petroleum Co\nPlc <BP>, which also owns a 55 pct interest"
        " in Standard Oil.\n Reuter\n",
    }
    lines = [
        json.dumps(good),
        "",
        json.dumps({"id": 7, "title": "Short one", "text": "The harbour reopened on Monday.", "authors": "C. Writer"}),
        '{"id": "broken", "text": "no closing brace"',
        json.dumps(["not", "an", "object"]),
        json.dumps({"title": "no id", "text": "Some text."}),
        json.dumps({"id": "no-text", "title": "no text"}),
        json.dumps({"id": "reuters-2", "text": "The same id again."}),
    ]
    (tmp_path / "wire.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    scan = scan_corpus(tmp_path)

    assert [(raw.doc_id, raw.line) for raw in scan.articles] == [("reuters-2", 1), ("7", 3)]
    assert [(s.path, s.line) for s in scan.skipped] == [("wire.jsonl", n) for n in (4, 5, 6, 7, 8)]
    reasons = [s.reason for s in scan.skipped]
    assert "not valid JSON" in reasons[0] and "not an object" in reasons[1]
    assert '"id"' in reasons[2] and '"text"' in reasons[3]
    assert "duplicate doc_id 'reuters-2'" in reasons[4] and "wire.jsonl:1" in reasons[4]

    article = parse_article(scan.articles[0])
    assert article.title == "STANDARD OIL <SRD> TO FORM FINANCIAL UNIT"
    assert (article.date, article.source, article.url) == ("26-FEB-1987", "Reuters", "https://example.org/2")
    assert article.authors == ["A. Writer", "B. Writer"]
    # The hard-wrapped lines are joined back, so no sentence is cut at a line end; "Reuter" is a sign-off.
    assert article.text == (
        "Standard Oil Co and BP North America Inc said they plan to form a venture to manage the money market "
        "borrowing and investment activities of both companies.\n"
        "BP North America is a subsidiary of British Petroleum Co Plc <BP>, which also owns a 55 pct interest in "
        "Standard Oil."
    )
    short = parse_article(scan.articles[1])
    assert (short.doc_id, short.title, short.text, short.authors) == (
        "7", "Short one", "The harbour reopened on Monday.", ["C. Writer"]
    )


def test_a_malformed_jsonl_line_parsed_directly_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "x", "text": "ok."}\n', encoding="utf-8")
    raw = scan_corpus(tmp_path).articles[0]
    broken = type(raw)(raw.doc_id, raw.path, raw.line, raw.content_hash, b'{"id": "x"}')
    with pytest.raises(MalformedRecordError, match=r"a\.jsonl:1"):
        parse_article(broken)


def test_nested_folders_name_articles_by_relative_path_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "business").mkdir()
    (tmp_path / "business" / "001.txt").write_text("Ad sales boost profit\n\nSales rose 10% in the year.\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "notes.txt").write_text("not an article")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    (tmp_path / "slides.pptx").write_bytes(b"PK")
    (tmp_path / "notes").write_text("no extension")

    scan = scan_corpus(tmp_path)

    assert [(raw.doc_id, raw.path) for raw in scan.articles] == [("business/001", "business/001.txt")]
    assert [s.path for s in scan.skipped] == ["notes", "slides.pptx"]
    assert ("unsupported file type .pptx (qa reads .txt, .md, .html, .htm, .jsonl, .pdf, .docx, .eml, .mbox, .csv)"
            in scan.skipped[1].reason)
    article = parse_article(scan.articles[0])
    assert (article.title, article.text) == ("Ad sales boost profit", "Sales rose 10% in the year.")


def test_two_files_with_the_same_doc_id_keep_the_first(tmp_path: Path) -> None:
    (tmp_path / "story.md").write_text("# A headline here\n\nThe first version of the story.\n")
    (tmp_path / "story.txt").write_text("A headline here\n\nThe second version of the story.\n")
    scan = scan_corpus(tmp_path)
    assert [raw.path for raw in scan.articles] == ["story.md"]
    assert scan.skipped[0].path == "story.txt" and "already used by story.md" in scan.skipped[0].reason


def test_markdown_keeps_the_words_and_drops_the_markup(tmp_path: Path) -> None:
    (tmp_path / "brief.md").write_text(
        "---\ntitle: Council approves budget\ndate: 2024-03-01\nsource: Town Herald\n---\n\n"
        "## What the budget does\n\n- The budget of £4.2m passed by [nine votes](https://example.org/vote) to two.\n"
        "- Parking fees rise by 5%.\n\n> “It is a fair budget,” said the mayor.\n",
        encoding="utf-8",
    )
    article = load_article(tmp_path / "brief.md", tmp_path)
    assert (article.title, article.date, article.source) == ("Council approves budget", "2024-03-01", "Town Herald")
    assert article.text == (
        "What the budget does\n\nThe budget of £4.2m passed by nine votes to two.\nParking fees rise by 5%.\n\n"
        "“It is a fair budget,” said the mayor."
    )


def test_a_markdown_section_heading_further_down_is_not_the_title(tmp_path: Path) -> None:
    (tmp_path / "story.md").write_text(
        "Kyiv said on Monday that 155 Chinese nationals fight for Russia. Beijing denied it.\n\n"
        "## Reaction in Beijing\n\nOfficials in Beijing called the claim groundless.\n",
        encoding="utf-8",
    )
    article = load_article(tmp_path / "story.md", tmp_path)
    assert article.title == "Kyiv said on Monday that 155 Chinese nationals fight for Russia."
    assert "Reaction in Beijing" in article.text


def test_published_and_source_lines_are_metadata(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "Published: 2023-11-02\nFerry strike called off\n\nThe ferry strike was called off on Thursday.\n"
        "Source: Harbour Gazette\n"
    )
    article = load_article(tmp_path / "a.txt", tmp_path)
    assert (article.title, article.date, article.source) == ("Ferry strike called off", "2023-11-02", "Harbour Gazette")
    assert article.text == "The ferry strike was called off on Thursday."


def test_missing_corpus_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="nowhere"):
        scan_corpus(tmp_path / "nowhere")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(CorpusError, match="not a folder"):
        scan_corpus(tmp_path / "file.txt")


def test_binary_garbage_named_txt_is_an_encoding_error(tmp_path: Path) -> None:
    (tmp_path / "image.txt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "noise.txt").write_bytes(bytes(range(1, 256)) * 8)
    raws = scan_corpus(tmp_path).articles
    assert len(raws) == 2
    for raw in raws:
        with pytest.raises(EncodingError, match=raw.path):
            parse_article(raw)


def test_latin1_pound_sign_is_decoded(tmp_path: Path) -> None:
    # bbc/sport/199.txt has one such byte: 0xA3 is "£" in Latin-1 and cp1252, and invalid UTF-8.
    (tmp_path / "199.txt").write_bytes(
        b"Chelsea sack Mutu\n\nMutu, a \xa315.8m signing from Parma last season, may face a two-year ban.\n"
    )
    article = load_article(tmp_path / "199.txt", tmp_path)
    assert article.text == "Mutu, a £15.8m signing from Parma last season, may face a two-year ban."


def test_utf8_bom_is_not_part_of_the_title(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes("Storm closes port\n\nThe port closed at noon.\n".encode("utf-8-sig"))
    assert load_article(tmp_path / "bom.txt").title == "Storm closes port"


def test_page_with_only_boilerplate_is_empty(tmp_path: Path) -> None:
    (tmp_path / "junk.txt").write_text(
        "Share\n\nFollow us on Facebook\n\nLeave a Reply\n\nYour email address will not be published.\n"
    )
    with pytest.raises(EmptyDocumentError, match="junk.txt"):
        load_article(tmp_path / "junk.txt")


def test_load_article_refuses_jsonl(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "x", "text": "ok."}\n')
    with pytest.raises(ValueError, match="scan_corpus"):
        load_article(tmp_path / "a.jsonl")


def test_scraped_page_from_another_site_loses_its_furniture(tmp_path: Path) -> None:
    (tmp_path / "ferry.txt").write_text(
        "Skip to content\nHome\nNews\nPolitics\n"
        "Ferry operator fined £2m over Harwich crossing fire\n"
        "By Anna Lindqvist\nPublished: 3 March 2024, 09:15 GMT\n5 min read\n"
        "Share on Facebook\nShare on WhatsApp\n"
        "A ferry operator has been fined £2m after a fire broke out in the engine room of a crossing from Harwich "
        "to Hook of Holland in 2021.\n"
        "Image caption, The Stena Hollandica was carrying 412 passengers\n"
        "The fire was put out by the crew within 40 minutes and nobody was hurt, Ipswich Crown Court heard.\n"
        "Read more\nFerry strike called off after pay deal\nPort of Dover queues ease after Easter\n"
        'Judge Sarah Cole said the company had "fallen far short" of its duty to keep passengers safe. '
        "The firm admitted two breaches of safety rules.\n"
        "(Reporting by Anna Lindqvist; Editing by Mark Hughes)\nTags: ferries, Harwich, courts\n"
        "Comments (2)\nThis is a disgrace, they should lose their licence.\n"
        "Glad nobody was hurt. The crew did a great job.\nMost Read\nMan arrested after harbour chase\n",
        encoding="utf-8",
    )
    article = load_article(tmp_path / "ferry.txt", tmp_path)
    assert article.title == "Ferry operator fined £2m over Harwich crossing fire"
    assert (article.date, article.authors) == ("2024-03-03", ["Anna Lindqvist"])
    assert article.text.splitlines() == [
        "A ferry operator has been fined £2m after a fire broke out in the engine room of a crossing from Harwich "
        "to Hook of Holland in 2021.",
        "The fire was put out by the crew within 40 minutes and nobody was hurt, Ipswich Crown Court heard.",
        'Judge Sarah Cole said the company had "fallen far short" of its duty to keep passengers safe. '
        "The firm admitted two breaches of safety rules.",
    ]


def test_jsonl_text_gets_the_same_boilerplate_filter(tmp_path: Path) -> None:
    text = (
        "Share on Facebook\nThe bridge will close for repairs from 1 May, the council said on Friday, after "
        "inspectors found cracks in two of its supports.\nDrivers face a 12-mile detour.\n"
        "You may also like\nTen best bridges in Europe\n"
    )
    (tmp_path / "feed.jsonl").write_text(json.dumps({"id": "b1", "title": "Bridge to close", "text": text}) + "\n")
    article = parse_article(scan_corpus(tmp_path).articles[0])
    assert article.text == (
        "The bridge will close for repairs from 1 May, the council said on Friday, after inspectors found cracks "
        "in two of its supports.\nDrivers face a 12-mile detour."
    )


def test_breadcrumbs_share_rows_and_photo_credits_go(tmp_path: Path) -> None:
    (tmp_path / "storm.txt").write_text(
        "Home » News » Weather\nStorm closes coastal road\nFacebook Twitter WhatsApp Email\n"
        "The coastal road between Alnmouth and Amble was closed on Sunday after waves threw rocks onto it.\n"
        "Waves break over the sea wall at Alnmouth. AFP via Getty Images\n"
        "Watch: Drone footage of the damage\n"
        "Highways officers said it would reopen once the debris had been cleared, probably by Tuesday.\n"
        "Sign up for breaking news alerts\n",
        encoding="utf-8",
    )
    article = load_article(tmp_path / "storm.txt", tmp_path)
    assert article.title == "Storm closes coastal road"
    assert article.text.splitlines() == [
        "The coastal road between Alnmouth and Amble was closed on Sunday after waves threw rocks onto it.",
        "Highways officers said it would reopen once the debris had been cleared, probably by Tuesday.",
    ]


def test_loading_a_slide_deck_is_an_unsupported_format(tmp_path: Path) -> None:
    (tmp_path / "slides.pptx").write_bytes(b"PK")

    with pytest.raises(UnsupportedFormatError, match="slides.pptx"):
        load_article(tmp_path / "slides.pptx", tmp_path)
