"""The chat UI, driven with the pilot over real indexes of real articles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Static

import qa
from qa.cli import main
from qa.tui import QAApp
from qa.tui.widgets import HIGHLIGHT, Exchange, HelpScreen, QuestionInput, Reader, SourceLink

ZELENSKY = "how many Chinese nationals did Zelensky claim?"
SIZE = (120, 40)

pytestmark = pytest.mark.anyio


async def settle(pilot: Pilot) -> None:
    """Wait until the workers are done and their results are on screen."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def paste(pilot: Pilot, text: str) -> None:
    """Paste text as a terminal's bracketed paste does: one event, where the focus is. Typing it key by key
    costs the pilot ~60 ms a key; `test_typing_after_focus_moves_lands_in_the_question_box` types."""
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


async def ask(pilot: Pilot, question: str) -> Exchange:
    await settle(pilot)
    box = pilot.app.query_one(QuestionInput)
    before = box.value
    await paste(pilot, question)
    assert box.value == before + question, "the paste did not land in the question box"
    await pilot.press("enter")
    await settle(pilot)
    return pilot.app.query(Exchange).last()


def shown(widget: Static) -> str:
    return str(widget.content)


async def test_an_answer_quotes_the_sentence_and_its_article(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        exchange = await ask(pilot, ZELENSKY)

        card = exchange.query_one(".card", SourceLink)
        answer = exchange.answer
        assert answer is not None and answer.found and answer.citation is not None
        assert "155" in shown(card)
        assert answer.citation.title in shown(card)
        assert f"confidence {answer.confidence:.2f}" in shown(card)
        highlighted = [card.content.plain[s.start:s.end] for s in card.content.spans if s.style == HIGHLIGHT]
        assert highlighted == [answer.short_answer.text]


async def test_selecting_an_answer_opens_its_article_at_the_quoted_sentence(
    corpus_dir: Path, default_index: Path
) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        exchange = await ask(pilot, ZELENSKY)
        answer = exchange.answer

        await pilot.click(".card")
        await pilot.pause()

        reader = pilot.app.query_one(Reader)
        assert reader.display
        assert reader.article.doc_id == answer.citation.doc_id
        assert reader.highlighted_text == answer.sentence
        cited = reader.query_one(".cited")
        assert reader.region.contains_region(cited.region)

        await pilot.press("escape")
        assert not reader.display
        assert isinstance(pilot.app.focused, QuestionInput)


async def test_corroborating_articles_open_from_the_keyboard(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        exchange = await ask(pilot, ZELENSKY)
        answer = exchange.answer
        assert answer.corroborating

        exchange.query(".link").first().focus()
        await pilot.press("enter")
        await pilot.pause()

        reader = pilot.app.query_one(Reader)
        first = answer.corroborating[0]
        assert reader.article.doc_id == first.doc_id
        assert reader.highlighted_text == reader.article.text[first.start:first.end]


async def test_a_question_the_archive_cannot_answer_says_so(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        exchange = await ask(pilot, "Who is the prime minister of Japan?")

        answer = exchange.answer
        assert not answer.found
        assert shown(exchange.query_one(".no-answer")) == answer.message
        assert len(exchange.query(".link")) == min(len(answer.related), 5)
        assert not exchange.query(".card")


async def test_up_and_down_recall_earlier_questions(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        await ask(pilot, "who captured two Chinese soldiers?")
        await ask(pilot, ZELENSKY)
        box = pilot.app.query_one(QuestionInput)
        await pilot.press("d", "r", "a", "f", "t")

        await pilot.press("up")
        assert box.value == ZELENSKY
        await pilot.press("up", "up")
        assert box.value == "who captured two Chinese soldiers?"
        await pilot.press("down", "down")
        assert box.value == "draft"


@pytest.mark.parametrize("typed", [" ", "!!", " ?! "])
async def test_a_question_without_words_is_refused_with_a_message(corpus_dir: Path, default_index: Path,
                                                                  typed: str) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press(*typed, "enter")
        await pilot.pause()

        assert not pilot.app.query(Exchange)
        assert [str(toast.render()) for toast in pilot.app.screen.query("Toast")] == [
            "Type a question first (f1 lists the keys)."]


async def test_a_question_mark_alone_opens_the_help_and_is_not_asked(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("?")
        assert not isinstance(pilot.app.screen, HelpScreen)  # typed into the box, like any character
        assert pilot.app.query_one(QuestionInput).value == "?"

        await pilot.press("enter")
        assert isinstance(pilot.app.screen, HelpScreen)
        assert not pilot.app.query(Exchange)


async def test_first_start_builds_the_index_and_a_rebuild_reports_what_changed(
    corpus_dir: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    articles = sorted(corpus_dir.glob("*.txt"))
    for article in articles[:3]:
        shutil.copy(article, corpus)

    async with QAApp(corpus, tmp_path / "index").run_test(size=SIZE) as pilot:
        await settle(pilot)
        said = [shown(w) for w in pilot.app.query(".system")]
        assert said[-1].startswith("Index built: 3 added")

        shutil.copy(articles[3], corpus)
        await pilot.press("ctrl+r")
        await settle(pilot)

        said = [shown(w) for w in pilot.app.query(".system")]
        assert said[-1].startswith("Index built: 1 added, 0 updated, 0 removed, 3 unchanged")
        assert not pilot.app.query_one("#status").display
        exchange = await ask(pilot, ZELENSKY)
        assert exchange.answer.found


async def test_an_empty_corpus_is_reported_and_the_app_keeps_running(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    async with QAApp(tmp_path / "corpus", tmp_path / "index").run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert pilot.app.query(".error")

        exchange = await ask(pilot, ZELENSKY)
        assert shown(exchange.query_one(".error")) == "No index is open: press ctrl+r to build one."


async def test_an_index_folder_that_cannot_be_made_is_reported_not_a_crash(corpus_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    async with QAApp(corpus_dir, tmp_path / "a-file" / "index").run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Not a directory" in shown(pilot.app.query_one(".error"))
        assert pilot.app.is_running


async def test_a_corrupt_index_is_reported_and_can_be_rebuilt(
    corpus_dir: Path, default_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    shutil.copytree(default_index, index)
    for vectors in index.glob("gen-*/sentences.faiss"):
        vectors.write_bytes(vectors.read_bytes()[:100])

    async with QAApp(corpus_dir, index).run_test(size=SIZE) as pilot:
        await settle(pilot)
        error = shown(pilot.app.query_one(".error"))
        assert "sentences.faiss" in error and "ctrl+r" in error

        await pilot.press("ctrl+r")
        await settle(pilot)
        exchange = await ask(pilot, ZELENSKY)
        assert exchange.answer.found


async def test_an_index_from_another_version_of_qa_is_rebuilt_at_start(
    corpus_dir: Path, default_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    shutil.copytree(default_index, index)
    manifest = json.loads((index / "manifest.json").read_text())
    manifest["pipeline_version"] = "0"
    (index / "manifest.json").write_text(json.dumps(manifest))

    async with QAApp(corpus_dir, index).run_test(size=SIZE) as pilot:
        await settle(pilot)
        said = [shown(w) for w in pilot.app.query(".system")]
        assert any("another version of qa: rebuilding" in line for line in said)
        assert any(line.startswith("Index built: 5 added") for line in said)
        exchange = await ask(pilot, ZELENSKY)
        assert exchange.answer.found


async def test_f1_lists_the_keys(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, HelpScreen)


def test_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["tui", "--help"])
    assert exit.value.code == 0
    assert "--corpus DIR" in capsys.readouterr().out


@pytest.mark.parametrize("size", [(80, 24), (150, 45)], ids=["80x24", "150x45"])
def test_the_answered_screen(corpus_dir: Path, default_index: Path, snap_compare, size: tuple[int, int]) -> None:
    async def ask_zelensky(pilot: Pilot) -> None:
        pilot.app.query_one(QuestionInput).cursor_blink = False
        await ask(pilot, ZELENSKY)

    assert snap_compare(QAApp(corpus_dir, default_index), terminal_size=size, run_before=ask_zelensky)


@pytest.mark.parametrize("size", [(80, 24), (150, 45)], ids=["80x24", "150x45"])
def test_the_reader_screen(corpus_dir: Path, default_index: Path, snap_compare, size: tuple[int, int]) -> None:
    async def open_the_answer(pilot: Pilot) -> None:
        pilot.app.query_one(QuestionInput).cursor_blink = False
        await ask(pilot, ZELENSKY)
        await pilot.press("ctrl+o")
        await pilot.pause()

    assert snap_compare(QAApp(corpus_dir, default_index), terminal_size=size, run_before=open_the_answer)


def test_the_chat_starts_from_what_a_wheel_carries(tmp_path: Path, corpus_dir: Path, default_index: Path) -> None:
    # Textual refuses to start without its CSS_PATH file: the wheel must carry qa/tui/chat.tcss.
    import subprocess
    import sys
    import zipfile

    repo = Path(__file__).resolve().parent.parent
    source = tmp_path / "source"  # a copy, so the build leaves no build/ folder in the checkout
    shutil.copytree(repo / "qa", source / "qa", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(repo / name, source)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("qa-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    assert "qa/tui/chat.tcss" in names and not any(n.startswith("tui") for n in names)
    script = (
        "import asyncio, qa.tui\n"
        f"assert qa.tui.__file__.startswith({str(site)!r}), qa.tui.__file__\n"
        "async def run():\n"
        f"    async with qa.tui.QAApp({str(corpus_dir)!r}, {str(default_index)!r}).run_test() as pilot:\n"
        "        await pilot.app.workers.wait_for_complete()\n"
        "        print('reader shown:', pilot.app.query_one('#reader').display)\n"
        "asyncio.run(run())\n"
    )
    done = subprocess.run([sys.executable, "-s", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reader shown: False" in done.stdout  # the stylesheet hides the reader until an article is opened


# --- a heavy user's day: typing, small terminals, a stale index, copy and save ---------------------


def screen_lines(pilot: Pilot) -> list[str]:
    """The text on the terminal, line by line, as the user sees it."""
    return [strip.text for strip in pilot.app.screen._compositor.render_strips()]


async def test_typing_after_focus_moves_lands_in_the_question_box(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        await ask(pilot, ZELENSKY)
        box = pilot.app.query_one(QuestionInput)

        await pilot.press("shift+tab")  # onto the latest answer's last source
        assert isinstance(pilot.app.focused, SourceLink)
        await pilot.press(*"who opened?")
        assert isinstance(pilot.app.focused, QuestionInput)
        assert box.value == "who opened?"
        assert not pilot.app.query_one(Reader).display and not isinstance(pilot.app.screen, HelpScreen)

        box.value = ""
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert pilot.app.query_one(Reader).display
        await pilot.press(*"so ")
        assert box.value == "so "

        pilot.app.query_one(Reader).focus()
        await pilot.press("x")
        assert box.value == "so x" and isinstance(pilot.app.focused, QuestionInput)


async def test_enter_on_a_focused_answer_opens_it_and_the_footer_says_so(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        exchange = await ask(pilot, ZELENSKY)
        exchange.query_one(".card").focus()
        await pilot.pause()
        assert "Open source" in screen_lines(pilot)[-1]

        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.query_one(Reader).article.doc_id == exchange.answer.citation.doc_id


async def test_the_help_fits_a_small_terminal(corpus_dir: Path, default_index: Path) -> None:
    from qa.tui.widgets import KEYS

    async with QAApp(corpus_dir, default_index).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()

        # the words the help shows, wrapped lines joined: the box's borders are not words
        shown_words = [w for w in " ".join(screen_lines(pilot)).split() if w.strip("│▎▊▏╭╮╰╯─")]
        for _key, what in KEYS:
            assert " ".join(what.split()) in " ".join(shown_words), what
        help_box = pilot.app.screen.query_one("#help")
        assert help_box.region.right <= 80 and help_box.region.bottom <= 24


async def test_the_chat_stays_on_the_latest_exchange_when_the_reader_opens_or_the_terminal_resizes(
    corpus_dir: Path, default_index: Path
) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=(80, 24)) as pilot:
        for question in ("who captured two Chinese soldiers?", ZELENSKY):  # taller than the chat at 80x24
            await ask(pilot, question)
        chat = pilot.app.query_one("#chat")
        latest = pilot.app.query(Exchange).last()

        def at_the_end() -> bool:
            return chat.scroll_y == chat.max_scroll_y and latest.region.overlaps(chat.region)

        await pilot.pause()
        assert at_the_end()
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert at_the_end()
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert at_the_end()
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert at_the_end()


async def test_a_corpus_changed_since_the_build_is_noticed_at_start(
    small_corpus: Path, default_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    shutil.copytree(default_index, index)
    (small_corpus / "harbour.txt").write_text("Harbour news\n\nThe harbour of Varnet reopened on Monday.\n")

    async with QAApp(small_corpus, index).run_test(size=SIZE) as pilot:
        await settle(pilot)
        said = [shown(w) for w in pilot.app.query(".system")]
        assert any("changed since the index was built (1 new, 0 changed, 0 removed articles)" in line
                   and "ctrl+r" in line for line in said), said

        await pilot.press("ctrl+r")
        await settle(pilot)
        exchange = await ask(pilot, "when did the harbour of Varnet reopen?")
        assert exchange.answer.citation.doc_id == "harbour"


async def test_a_build_by_another_process_is_picked_up_and_a_refocus_notices_corpus_edits(
    small_corpus: Path, default_index: Path, tmp_path: Path
) -> None:
    from textual import events

    index = tmp_path / "index"
    shutil.copytree(default_index, index)
    async with QAApp(small_corpus, index).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not any("changed since" in shown(w) for w in pilot.app.query(".system"))

        (small_corpus / "harbour.txt").write_text("Harbour news\n\nThe harbour of Varnet reopened on Monday.\n")
        pilot.app.post_message(events.AppFocus())  # the user comes back to the terminal
        await settle(pilot)
        assert any("1 new, 0 changed, 0 removed" in shown(w) for w in pilot.app.query(".system"))

        qa.build_index(small_corpus, index)  # `qa index` in another terminal
        exchange = await ask(pilot, "when did the harbour of Varnet reopen?")
        said = [shown(w) for w in pilot.app.query(".system")]
        assert any("updated by another build; reopened it (6 articles" in line for line in said), said
        chat = list(pilot.app.query_one("#chat").children)
        assert "reopened it" in shown(chat[chat.index(exchange) - 1])  # said before the answer it affects
        assert exchange.answer.found and exchange.answer.citation.doc_id == "harbour"


async def test_ctrl_y_copies_the_quote_with_its_citation(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        exchange = await ask(pilot, ZELENSKY)
        answer = exchange.answer
        await pilot.press("ctrl+y")

        c = answer.citation
        assert pilot.app.clipboard == f"“{answer.sentence}”\n— {c.title} ({c.doc_id}, characters {c.start}-{c.end})"


async def test_ctrl_s_saves_the_conversation_as_markdown_and_json(
    corpus_dir: Path, default_index: Path, tmp_path: Path
) -> None:
    from qa.tui.widgets import SaveScreen

    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        first = (await ask(pilot, ZELENSKY)).answer
        second = (await ask(pilot, "Who is the prime minister of Japan?")).answer
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(pilot.app.screen, SaveScreen)
        path_box = pilot.app.screen.query_one("#save-path")
        path_box.value = str(tmp_path / "notes.md")
        await pilot.press("enter")
        await pilot.pause()

    markdown = (tmp_path / "notes.md").read_text()
    assert f"## {ZELENSKY}" in markdown and f"> “{first.sentence}”" in markdown
    assert "Answer: **at least 155**" in markdown
    assert "## Who is the prime minister of Japan?" in markdown and second.message in markdown
    for other in first.corroborating:
        assert f"also in {other.title} (`{other.doc_id}`" in markdown
    saved = [qa.Answer.model_validate(a) for a in json.loads((tmp_path / "notes.json").read_text())]
    assert saved == [first, second]


async def test_questions_are_recalled_in_the_next_session(corpus_dir: Path, default_index: Path, tmp_path: Path) -> None:
    history = tmp_path / "data" / "qa" / "history"
    async with QAApp(corpus_dir, default_index, history).run_test(size=SIZE) as pilot:
        await ask(pilot, ZELENSKY)
    assert history.read_text() == ZELENSKY + "\n"

    async with QAApp(corpus_dir, default_index, history).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("up")
        assert pilot.app.query_one(QuestionInput).value == ZELENSKY


async def test_find_in_the_article_highlights_and_walks_the_matches(corpus_dir: Path, default_index: Path) -> None:
    from qa.tui.widgets import FOUND

    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        await ask(pilot, ZELENSKY)
        await pilot.press("ctrl+o")
        await pilot.pause()
        reader = pilot.app.query_one(Reader)
        reader.focus()
        await pilot.press("slash", *"chinese")
        await pilot.pause()

        expected = reader.article.text.lower().count("chinese")
        assert expected > 2 and len(reader.matches) == expected
        marked_words = [w.content.plain[s.start:s.end] for w in reader.query(".para").results(Static)
                        for s in w.content.spans if s.style == FOUND]
        assert {w.lower() for w in marked_words} == {"chinese"} and len(marked_words) == expected
        first = reader.matches[0][0]
        await pilot.press("enter")
        await pilot.pause()
        assert reader._match == 1
        await pilot.press("escape")
        assert not reader.query_one("#find").display and first is not None


async def test_authors_urls_and_escapes_from_the_corpus(small_corpus: Path, default_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(default_index, index)
    record = {"id": "wire-1", "title": "Harbour \x1b[31mreopens\x1b[0m", "authors": ["Ana Ruiz", "Li Wei"],
              "url": "https://example.org/harbour", "source": "Wire",
              "text": "The harbour of Varnet reopened on Monday after the storm. Ships queued at dawn."}
    (small_corpus / "wire.jsonl").write_text(json.dumps(record) + "\n")
    qa.build_index(small_corpus, index)

    async with QAApp(small_corpus, index).run_test(size=SIZE) as pilot:
        exchange = await ask(pilot, "when did the harbour of Varnet reopen?")
        card = shown(exchange.query_one(".card"))
        assert "Ana Ruiz, Li Wei · Wire" in card
        assert "\x1b" not in card and "\\x1b[31mreopens" in card

        opened = []
        pilot.app.open_url = lambda url, **kwargs: opened.append(url)  # Textual's driver call, not ours
        await pilot.press("ctrl+l")
        assert opened == ["https://example.org/harbour"]
        await pilot.press("ctrl+o")
        await pilot.pause()
        meta = shown(pilot.app.query_one(".reader-meta"))
        assert meta.startswith("Ana Ruiz, Li Wei · Wire") and "https://example.org/harbour" in meta
        assert all("\x1b" not in strip for strip in screen_lines(pilot))


async def test_an_index_without_its_corpus_folder_still_answers_and_says_why_it_cannot_check(
    default_index: Path, tmp_path: Path
) -> None:
    async with QAApp(tmp_path / "no-corpus", default_index).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not pilot.app.query(".error")
        assert any("no corpus folder at" in shown(w) for w in pilot.app.query(".system"))
        exchange = await ask(pilot, ZELENSKY)
        assert exchange.answer.found


@pytest.mark.parametrize("launcher", [["tui.py"], ["-m", "qa.tui"]], ids=["tui.py", "python -m qa.tui"])
def test_the_launchers_are_qa_tui(launcher: list[str]) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, *launcher, "--help"], cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: qa tui") and "--no-history" in done.stdout


async def test_questions_typed_in_one_burst_stay_apart(corpus_dir: Path, default_index: Path) -> None:
    # what a fast typist, a paste without bracketed paste, or tmux send-keys delivers: keys faster than
    # the app handles them; each enter must ask what was typed before it, and only that
    from textual import events

    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in [*"who is Lin Jian", "enter", *"who captured two Chinese soldiers", "enter"]:
            pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))
        await settle(pilot)

        assert [e.question for e in pilot.app.query(Exchange)] == ["who is Lin Jian",
                                                                   "who captured two Chinese soldiers"]
        assert pilot.app.query_one(QuestionInput).value == ""


async def test_other_accounts_show_under_the_answer_and_open_their_article(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        exchange = await ask(pilot, "How many Chinese nationals are fighting for Russia?")

        texts = [shown(w) for w in exchange.query(Static)]
        assert "Other accounts:" in texts
        [link] = [w for w in exchange.query(SourceLink) if shown(w).startswith("› 51 (Russian media identified; 2025-04-12)")]
        assert link.article is not None and link.article.doc_id.startswith("000")


async def test_a_follow_up_is_read_against_the_thread_until_a_new_one(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE) as pilot:
        await ask(pilot, "How many Chinese nationals are fighting for Russia?")
        follow_up = await ask(pilot, "and how many were killed?")
        assert follow_up.answer.resolved == "how many Chinese nationals were killed?"
        assert "read as: how many Chinese nationals were killed?" in [shown(w) for w in follow_up.query(Static)]
        assert "Rui Zhao" in follow_up.answer.sentence

        await pilot.press("ctrl+n")
        alone = await ask(pilot, "and how many were killed?")
        assert alone.answer.resolved is None

        await ask(pilot, "How many Chinese nationals are fighting for Russia?")
        await paste(pilot, "/new")
        await pilot.press("enter")
        await settle(pilot)
        assert (await ask(pilot, "and how many were killed?")).answer.resolved is None
