"""`qa index --watch`, `qa.watch_index` and the chat's watch option: a folder that indexes itself."""

from __future__ import annotations

import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import qa
from qa.watch import watch_index

STORY = "Lifeboat crew honoured\n\nThe Craster lifeboat crew received a bravery award on Thursday for a January rescue.\n"


@pytest.fixture
def watched(small_corpus: Path, default_index: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A corpus (the five default articles) and a copy of its index, as after a first `qa index`."""
    shutil.copytree(default_index, tmp_path / "index")
    return small_corpus, tmp_path / "index"


@contextmanager
def watching(corpus: Path, index: Path) -> Iterator[tuple[queue.Queue, threading.Thread]]:
    """`watch_index` in a thread, its reports and errors put on a queue; stopped and joined on leaving."""
    reports: queue.Queue = queue.Queue()
    stop = threading.Event()
    # a daemon: a test that fails while a build runs must not keep the test run alive
    watcher = threading.Thread(target=watch_index, args=(corpus, index), daemon=True,
                               kwargs={"on_build": reports.put, "on_error": reports.put, "stop": stop})
    watcher.start()
    try:
        yield reports, watcher
    finally:
        stop.set()
        watcher.join(timeout=30)


def next_report(reports: queue.Queue, seconds: float) -> qa.IndexReport:
    report = reports.get(timeout=seconds)
    assert not isinstance(report, Exception), report
    return report


def test_watch_picks_up_a_new_file_and_a_deletion_within_seconds(watched: tuple[Path, Path]) -> None:
    corpus, index = watched
    with watching(corpus, index) as (reports, watcher):
        first = next_report(reports, 60)

        started = time.monotonic()
        (corpus / "lifeboat.txt").write_text(STORY, encoding="utf-8")
        added = next_report(reports, 30)
        picked_up = time.monotonic() - started
        with qa.open_index(index) as bot:
            assert "bravery award" in bot.ask("What did the Craster lifeboat crew receive?").sentence

        (corpus / "lifeboat.txt").unlink()
        removed = next_report(reports, 30)

    assert (first.added, first.unchanged) == (0, 5), "the first build finds the index up to date"
    assert (added.added, added.articles) == (1, 6)
    assert picked_up < 10
    assert (removed.removed, removed.articles) == (1, 5)
    assert not watcher.is_alive(), "setting stop ends the watch"


def test_a_corpus_emptied_while_watched_is_reported_and_the_watch_goes_on(watched: tuple[Path, Path]) -> None:
    corpus, index = watched
    with watching(corpus, index) as (reports, _):
        next_report(reports, 60)
        for path in corpus.iterdir():
            path.unlink()
        error = reports.get(timeout=30)
        (corpus / "lifeboat.txt").write_text(STORY, encoding="utf-8")
        back = next_report(reports, 30)

    assert isinstance(error, qa.CorpusError) and "no article" in str(error)
    assert (back.articles, back.removed) == (1, 5)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_qa_index_watch_stops_cleanly_on_ctrl_c_or_sigterm(watched: tuple[Path, Path], stop: signal.Signals) -> None:
    """Ctrl-C in a terminal, SIGTERM from a service manager (systemd, docker stop)."""
    corpus, index = watched
    command = [sys.executable, "-m", "qa.cli", "index", str(corpus), "--index", str(index), "--watch"]
    # Ctrl-C as a terminal sends it. A run started in the background by a shell without job control (as a CI
    # runner may start it) inherits SIGINT ignored, and so would qa: give the child the default disposition.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = threading.Timer(120, process.kill)  # readline below must not wait for ever
    deadline.start()
    try:
        first = process.stdout.readline()  # the first build's summary
        process.send_signal(stop)
        out, err = process.communicate(timeout=60)
    finally:
        deadline.cancel()
        process.kill()

    assert "5 unchanged" in first
    assert process.returncode == 0
    assert "watching" in err and "stopped watching" in err
    assert "Traceback" not in err


@pytest.mark.anyio
async def test_the_chat_with_watch_on_says_so_and_answers_from_a_file_added_while_open(
    watched: tuple[Path, Path]
) -> None:
    from qa.tui import QAApp

    corpus, index = watched
    app = QAApp(corpus, index, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 60
        while (app.bot is None or "watching" not in app.sub_title) and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert f"watching {corpus}/" in app.sub_title, "the header says so once the watch is live"
        opened = app.bot
        (corpus / "lifeboat.txt").write_text(STORY, encoding="utf-8")
        while app.bot is opened and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert app.bot is not opened, "a build published, and the chat opened the new generation"
        assert app.bot.article("lifeboat").title == "Lifeboat crew honoured"

        app.action_toggle_watch()
        assert "watching" not in app.sub_title
    assert not any(w.group == "watch" and w.is_running for w in app.workers)
