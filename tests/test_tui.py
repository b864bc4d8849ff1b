"""The chat UI, driven with the pilot over real indexes of real articles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static
from textual.widgets._toast import Toast

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


async def ask(pilot: Pilot, question: str) -> Exchange:
    await settle(pilot)
    await pilot.press(*question, "enter")
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
        await pilot.press("o")
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


async def test_an_empty_question_is_refused_with_a_message(corpus_dir: Path, default_index: Path) -> None:
    async with QAApp(corpus_dir, default_index).run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("space", "enter")
        await pilot.pause()

        assert not pilot.app.query(Exchange)
        assert ["Type a question first."] == [str(toast.render()) for toast in pilot.app.screen.query(Toast)]


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


def test_the_answered_screen(corpus_dir: Path, default_index: Path, snap_compare) -> None:
    async def ask_zelensky(pilot: Pilot) -> None:
        pilot.app.query_one(QuestionInput).cursor_blink = False
        await ask(pilot, ZELENSKY)

    assert snap_compare(QAApp(corpus_dir, default_index), terminal_size=SIZE, run_before=ask_zelensky)


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
