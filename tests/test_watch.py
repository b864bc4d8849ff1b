"""`qa index --watch`, `qa.watch_index` and the chat's watch option: a folder that indexes itself."""

from __future__ import annotations

import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import qa
from qa.watch import watch_index

STORY = "Lifeboat crew honoured\n\nThe Craster lifeboat crew received a bravery award on Thursday for a January rescue.\n"


@pytest.fixture
def one_article(tmp_path: Path, corpus_dir: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    first = sorted(corpus_dir.iterdir())[0]
    shutil.copy(first, corpus / first.name)
    return corpus


def next_report(reports: queue.Queue, seconds: float) -> qa.IndexReport:
    report = reports.get(timeout=seconds)
    assert not isinstance(report, Exception), report
    return report


def test_watch_picks_up_a_new_file_and_a_deletion_within_seconds(one_article: Path, tmp_path: Path) -> None:
    reports: queue.Queue = queue.Queue()
    stop = threading.Event()
    watcher = threading.Thread(target=watch_index, args=(one_article, tmp_path / "index"),
                               kwargs={"on_build": reports.put, "on_error": reports.put, "stop": stop})
    watcher.start()
    try:
        assert next_report(reports, 60).added == 1, "the first build brings the index up to date"

        started = time.monotonic()
        (one_article / "lifeboat.txt").write_text(STORY, encoding="utf-8")
        added = next_report(reports, 15)
        picked_up = time.monotonic() - started
        with qa.open_index(tmp_path / "index") as bot:
            assert "bravery award" in bot.ask("What did the Craster lifeboat crew receive?").sentence

        (one_article / "lifeboat.txt").unlink()
        removed = next_report(reports, 15)
    finally:
        stop.set()
        watcher.join(timeout=10)

    assert (added.added, added.articles) == (1, 2)
    assert picked_up < 10
    assert (removed.removed, removed.articles) == (1, 1)
    assert not watcher.is_alive(), "setting stop ends the watch"


def test_a_corpus_emptied_while_watched_is_reported_and_the_watch_goes_on(one_article: Path, tmp_path: Path) -> None:
    reports: queue.Queue = queue.Queue()
    stop = threading.Event()
    watcher = threading.Thread(target=watch_index, args=(one_article, tmp_path / "index"),
                               kwargs={"on_build": reports.put, "on_error": reports.put, "stop": stop})
    watcher.start()
    try:
        next_report(reports, 60)
        for path in one_article.iterdir():
            path.unlink()
        error = reports.get(timeout=15)
        (one_article / "lifeboat.txt").write_text(STORY, encoding="utf-8")
        back = next_report(reports, 15)
    finally:
        stop.set()
        watcher.join(timeout=10)

    assert isinstance(error, qa.CorpusError) and "no article" in str(error)
    assert back.articles >= 1


def test_qa_index_watch_stops_cleanly_on_ctrl_c(one_article: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "qa.cli", "index", str(one_article), "--index", str(tmp_path / "index"), "--watch"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()  # the first build's summary
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()

    assert "1 added" in first
    assert process.returncode == 0
    assert "watching" in err and "stopped watching" in err
    assert "Traceback" not in err


@pytest.mark.anyio
async def test_the_chat_with_watch_on_says_so_and_answers_from_a_file_added_while_open(
    one_article: Path, tmp_path: Path
) -> None:
    from qa.tui import QAApp

    qa.build_index(one_article, tmp_path / "index")
    app = QAApp(one_article, tmp_path / "index", watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 20
        while (app.bot is None or "watching" not in app.sub_title) and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert f"watching {one_article}/" in app.sub_title, "the header says so once the watch is live"
        opened = app.bot
        (one_article / "lifeboat.txt").write_text(STORY, encoding="utf-8")
        while app.bot is opened and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert app.bot is not opened, "a build published, and the chat opened the new generation"
        assert app.bot.article("lifeboat").title == "Lifeboat crew honoured"

        app.action_toggle_watch()
        assert "watching" not in app.sub_title
    assert not any(w.group == "watch" and w.is_running for w in app.workers)
