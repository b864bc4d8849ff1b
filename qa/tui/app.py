"""The Textual chat over a qa index: ask, read the quoted answer, open the article it comes from.

Run it with `qa tui`, `python -m qa.tui` or `python tui.py` (options: `--corpus DIR`, `--index DIR`). The app
only calls the public API (`qa.open_index`, `QA.ask`, `QA.article`, `qa.build_index`); every one of those runs
in a thread worker so typing never stalls. The widgets it shows live in widgets.py, the styles in chat.tcss.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, ProgressBar, Static

import qa
from qa.tui.widgets import Exchange, HelpScreen, QuestionInput, Reader, SourceLink

__all__ = ["QAApp", "default_corpus", "run"]


WELCOME = (
    "Ask a question about the archive. Every answer is a sentence quoted from an article; "
    "tab to it and press enter to read the article, or press ctrl+o."
)


class QAApp(App[int]):
    """A chat with the archive: questions in, quoted sentences with their sources out."""

    CSS_PATH = "chat.tcss"
    TITLE = "qa"
    SUB_TITLE = "ask the news archive"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+o", "open_latest", "Open latest"),
        Binding("ctrl+r", "rebuild", "Rebuild index"),
        Binding("escape", "close_reader", "Close reader"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("pageup", "page_chat(-1)", "Scroll up", show=False),
        Binding("pagedown", "page_chat(1)", "Scroll down", show=False),
    ]

    def __init__(self, corpus_dir: str | Path, index_dir: str | Path) -> None:
        super().__init__()
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir)
        self.bot: qa.QA | None = None
        self._bot_lock = threading.Lock()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with VerticalScroll(id="chat"):
                yield Static(WELCOME, classes="welcome")
            yield Reader(id="reader")
        with Horizontal(id="status"):
            yield Label("", id="status-label")
            yield ProgressBar(id="progress", show_eta=False)
        yield QuestionInput(placeholder="Ask the archive a question (↑/↓ recall earlier ones)", id="question")
        yield Footer()

    def on_mount(self) -> None:
        # Tab then goes straight from the box to the answers, not via the scrolling pane around them.
        self.query_one("#chat").can_focus = False
        self.query_one(QuestionInput).focus()
        self._index_worker(build=False)

    def on_unmount(self) -> None:
        if self.bot is not None and self._bot_lock.acquire(blocking=False):
            try:
                self.bot.close()
            finally:
                self._bot_lock.release()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Rebuild index", f"Update {self.index_dir} with what changed in {self.corpus_dir}",
                            self.action_rebuild)
        yield SystemCommand("Rebuild index from scratch", f"Index every article of {self.corpus_dir} again",
                            lambda: self.action_rebuild(from_scratch=True))
        yield SystemCommand("Open source", "Open the article of the latest answer", self.action_open_latest)
        yield SystemCommand("Help", "List the keys of qa", self.action_help)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_reader":
            return self.query_one(Reader).display
        return True

    @on(Input.Submitted, "#question")
    def ask(self, event: Input.Submitted) -> None:
        question = event.value.strip()
        if not question:
            self.notify("Type a question first.", severity="warning")
            return
        box = self.query_one(QuestionInput)
        box.remember(question)
        box.value = ""
        exchange = Exchange(question)
        chat = self.query_one("#chat", VerticalScroll)
        chat.mount(exchange)
        chat.scroll_end(animate=False)
        self._ask_worker(question, exchange)

    @work(thread=True, group="ask")
    def _ask_worker(self, question: str, exchange: Exchange) -> None:
        # Questions wait on the lock for the index to load or rebuild, then run one at a time; each one
        # fills its own Exchange, so answers stay in the order they were asked.
        with self._bot_lock:
            if self.bot is None:
                self._ui(exchange.show_error, "No index is open: press ctrl+r to build one.")
                return
            try:
                answer = self.bot.ask(question)
                articles = self._articles(answer)
            except qa.QAError as exc:
                self._ui(exchange.show_error, str(exc))
                return
        self._ui(self._show_answer, exchange, answer, articles)

    def _articles(self, answer: qa.Answer) -> dict[str, qa.Article]:
        # Fetched with the answer, under the lock: the reader then shows the text these offsets were
        # computed on, even after a rebuild replaces the index.
        assert self.bot is not None
        doc_ids = [c.doc_id for c in [answer.citation, *answer.corroborating] if c is not None]
        doc_ids += [c.citation.doc_id for c in answer.candidates] + [p.doc_id for p in answer.related]
        articles = {}
        for doc_id in dict.fromkeys(doc_ids):
            try:
                articles[doc_id] = self.bot.article(doc_id)
            except (qa.QAError, KeyError):
                continue
        return articles

    def _show_answer(self, exchange: Exchange, answer: qa.Answer, articles: dict[str, qa.Article]) -> None:
        exchange.show_answer(answer, articles)
        chat = self.query_one("#chat", VerticalScroll)
        if chat.children and chat.children[-1] is exchange:
            self.call_after_refresh(chat.scroll_end, animate=False)

    @on(SourceLink.Selected)
    async def open_source(self, event: SourceLink.Selected) -> None:
        reader = self.query_one(Reader)
        reader.display = True
        await reader.show(event.article, event.start, event.end)
        self.refresh_bindings()

    def action_open_latest(self) -> None:
        try:
            latest = self.query(".card").last(SourceLink)
        except NoMatches:
            self.notify("No answer to open yet.", severity="warning")
            return
        latest.focus()
        latest.action_open()

    def action_page_chat(self, direction: int) -> None:
        chat = self.query_one("#chat", VerticalScroll)
        if direction > 0:
            chat.scroll_page_down()
        else:
            chat.scroll_page_up()

    def action_close_reader(self) -> None:
        self.query_one(Reader).display = False
        self.query_one(QuestionInput).focus()
        self.refresh_bindings()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.corpus_dir, self.index_dir))

    def action_rebuild(self, from_scratch: bool = False) -> None:
        if self._building:
            self.notify("The index is already being built.", severity="warning")
            return
        self._index_worker(build=True, from_scratch=from_scratch)

    @property
    def _building(self) -> bool:
        return any(w.group == "index" and not w.is_finished for w in self.workers)

    @work(thread=True, group="index")
    def _index_worker(self, build: bool, from_scratch: bool = False) -> None:
        try:
            with self._bot_lock:
                if build or not self._open():
                    self._build(from_scratch)
        except (qa.QAError, OSError) as exc:  # OSError: an index folder that cannot be written, a full disk
            # build_index repairs a damaged index, so ctrl+r is the way out of every store error but a lock
            fixable = isinstance(exc, qa.IndexStoreError) and not isinstance(exc, qa.IndexLockedError)
            hint = "\nPress ctrl+r to rebuild the index." if fixable else ""
            self._ui(self._say, f"⚠ {exc}{hint}", "error")
            self.notify(f"{exc}{hint}", title="Index", severity="error", markup=False)
        finally:
            self._ui(self._hide_status)

    def _open(self) -> bool:
        """Open the index; False when there is none yet, or one another version of qa wrote, to build instead."""
        self._ui(self._show_status, "Loading the index…")
        try:
            self._replace_bot(qa.open_index(self.index_dir))
            return True
        except qa.IndexNotFoundError:
            self._ui(self._say, f"No index in {self.index_dir}/ yet: building one from {self.corpus_dir}/.")
        except qa.IndexVersionError:
            # derived data in an older format: the corpus is at hand, so rebuild rather than ask
            self._ui(self._say, f"The index in {self.index_dir}/ was written by another version of qa: "
                                f"rebuilding it from {self.corpus_dir}/.")
        return False

    def _build(self, from_scratch: bool) -> None:
        self._ui(self._show_status, f"Indexing {self.corpus_dir}/…")
        report = qa.build_index(self.corpus_dir, self.index_dir, rebuild=from_scratch, progress=self._progress())
        self._ui(self._say, f"Index built: {report.summary()}")
        self.notify(report.summary(), title="Index built", markup=False)
        self._ui(self._show_status, "Loading the index…")
        self._replace_bot(qa.open_index(self.index_dir))

    def _replace_bot(self, bot: qa.QA) -> None:
        old, self.bot = self.bot, bot
        if old is not None:
            old.close()

    def _progress(self) -> Callable[[str, int, int], None]:
        last = {"stage": "", "time": 0.0}

        def report(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if stage != last["stage"] or done >= total or now - float(last["time"]) > 0.1:
                last.update(stage=stage, time=now)
                self._ui(self._show_status, f"{qa.BUILD_STAGES.get(stage, stage)} {done}/{total}", done, max(total, 1))

        return report

    def _ui(self, callback: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Run `callback` on the UI thread, unless the app has already shut down."""
        if self.is_running:
            try:
                self.call_from_thread(callback, *args, **kwargs)
            except RuntimeError:
                pass

    def _say(self, message: str, kind: str = "system") -> None:
        chat = self.query_one("#chat", VerticalScroll)
        chat.mount(Static(Text(message), classes=kind))
        chat.scroll_end(animate=False)

    def _show_status(self, message: str, done: int = 0, total: int | None = None) -> None:
        """Show the status line: a message and a bar, which bounces until it is given a total."""
        self.query_one("#status-label", Label).update(message)
        self.query_one(ProgressBar).update(total=total, progress=done)
        self.query_one("#status").display = True

    def _hide_status(self) -> None:
        self.query_one("#status").display = False


def default_corpus() -> Path:
    """./corpus when there is one, else the five articles shipped with qa (in the checkout)."""
    here = Path("corpus")
    return here if here.is_dir() else Path(__file__).resolve().parents[2] / "corpus"


def run(corpus_dir: str | Path | None = None, index_dir: str | Path = "index") -> int:
    """Run the chat until the user quits.

    Args:
        corpus_dir: folder of articles; `None` picks `default_corpus()`.
        index_dir: index folder, built there from the corpus if missing.

    Returns:
        The exit status: 0.
    """
    app = QAApp(corpus_dir or default_corpus(), index_dir)
    app.run()
    return app.return_code or 0
