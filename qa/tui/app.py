"""The Textual chat over a qa index: ask, read the quoted answer, open the article it comes from.

Run it with `qa tui`, `python -m qa.tui` or `python tui.py` (options: `--corpus DIR`, `--index DIR`). The app
only calls the public API (`qa.open_index`, `QA.ask`, `QA.article`, `qa.build_index`, ...); every one of those
runs in a thread worker so typing never stalls. The widgets it shows live in widgets.py, the styles in
chat.tcss, what it copies and saves in export.py.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, Label, ProgressBar, Static

import qa
from qa.display import printable
from qa.tui.filters import ChatFilters
from qa.tui.export import quote_with_citation, session_json, session_markdown
from qa.tui.widgets import Exchange, HelpScreen, QuestionInput, Reader, SaveScreen, SourceLink

__all__ = ["QAApp", "default_corpus", "default_history", "run"]


WELCOME = (
    "Ask a question about the archive. Every answer is a sentence quoted from an article; "
    "ctrl+o opens the latest one's article, tab then enter any other. f1 lists the keys."
)
HISTORY_LINES = 1000


class QAApp(App[int]):
    """A chat with the archive: questions in, quoted sentences with their sources out."""

    CSS_PATH = "chat.tcss"
    TITLE = "qa"
    SUB_TITLE = "ask the news archive"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+o", "open_latest", "Open latest"),
        Binding("ctrl+y", "copy", "Copy quote"),
        Binding("ctrl+f", "find", "Find", show=False),
        Binding("ctrl+l", "open_url", "Web page", show=False),
        Binding("ctrl+s", "save", "Save", show=False),
        Binding("ctrl+r", "rebuild", "Rebuild index"),
        Binding("ctrl+n", "new_thread", "New thread", show=False),
        Binding("escape", "close_reader", "Close reader"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("pageup", "page_chat(-1)", "Scroll up", show=False),
        Binding("pagedown", "page_chat(1)", "Scroll down", show=False),
    ]

    def __init__(self, corpus_dir: str | Path, index_dir: str | Path, history_file: str | Path | None = None,
                 watch: bool = False) -> None:
        """A chat over `index_dir`, built from `corpus_dir` when missing; questions are kept in `history_file`
        across sessions when it is given (none is written otherwise). With `watch`, the index is updated
        each time the corpus changes, and the header says so."""
        super().__init__()
        self.watching = watch
        self._watch_stop = threading.Event()
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir)
        self.history_file = Path(history_file) if history_file else None
        self.bot: qa.QA | None = None
        self.thread: qa.Conversation | None = None  # follow-ups are read against it; ctrl+n or /new starts another
        self._bot_lock = threading.Lock()
        self._changes_said = ""
        self.filters = ChatFilters()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with VerticalScroll(id="chat"):
                yield Static(WELCOME, classes="welcome")
            yield Reader(id="reader")
        with Horizontal(id="status"):
            yield Label("", id="status-label")
            yield ProgressBar(id="progress", show_eta=False)
        yield Label("", id="filters")
        yield QuestionInput(history=self._read_history(), id="question",
                            placeholder="Ask the archive a question (↑/↓ recall earlier ones)")
        yield Footer()

    def on_mount(self) -> None:
        # Tab then goes straight from the box to the answers, not via the scrolling pane around them.
        chat = self.query_one("#chat", VerticalScroll)
        chat.can_focus = False
        chat.anchor()  # stays on the latest exchange when the reader opens or the terminal resizes
        self.query_one(QuestionInput).focus()
        self._index_worker(build=False)
        if self.watching:
            self._start_watching()

    def on_unmount(self) -> None:
        self._watch_stop.set()
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
        yield SystemCommand("Stop watching the corpus" if self.watching else "Watch the corpus",
                            f"Update the index each time {self.corpus_dir} changes", self.action_toggle_watch)
        yield SystemCommand("Open source", "Open the article of the latest answer", self.action_open_latest)
        yield SystemCommand("Copy quote", "Copy the latest answer's quote with its citation", self.action_copy)
        yield SystemCommand("Save conversation", "Save the questions and answers as Markdown and JSON",
                            self.action_save)
        yield SystemCommand("Help", "List the keys of qa", self.action_help)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("close_reader", "find"):
            return self.query_one(Reader).display
        return True

    # --- typing always reaches the question box -----------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        focused = self.focused
        if not event.is_printable or isinstance(focused, Input) or self.screen is not self.screen_stack[0]:
            return
        if event.key in self.screen.active_bindings:
            return  # a key the focused widget acts on, shown in the footer ("/" in the reader)
        box = self.query_one(QuestionInput)
        box.focus()
        box.insert_text_at_cursor(event.character or "")
        event.prevent_default()
        event.stop()

    # --- asking --------------------------------------------------------------------------------------

    @on(Input.Submitted, "#question")
    def ask(self, event: Input.Submitted) -> None:
        question = event.value.strip()  # the box is already empty: QuestionInput clears it on enter
        box = self.query_one(QuestionInput)
        if question == "?":
            self.action_help()
            return
        if question.lower() in ("/new", "/new thread"):
            self.action_new_thread()
            return
        try:
            asked, filters = self.filters.read(question)
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
            return
        if filters != self.filters:
            self.filters = filters
            label = self.query_one("#filters", Label)
            label.update(filters.describe())
            label.display = bool(filters)
        if not any(ch.isalnum() for ch in asked):
            if asked == question:
                self.notify("Type a question first (f1 lists the keys).", severity="warning")
            return
        box.remember(question)
        self._append_history(question)
        exchange = Exchange(asked)
        chat = self.query_one("#chat", VerticalScroll)
        chat.mount(exchange)
        chat.anchor()
        self._ask_worker(asked, exchange, filters)

    @work(thread=True, group="ask")
    def _ask_worker(self, question: str, exchange: Exchange, filters: ChatFilters | None = None) -> None:
        # Questions wait on the lock for the index to load or rebuild, then run one at a time; each one
        # fills its own Exchange, so answers stay in the order they were asked.
        with self._bot_lock:
            if self.bot is None:
                self._ui(exchange.show_error, "No index is open: press ctrl+r to build one.")
                return
            try:
                if self.bot.is_stale():  # another process (`qa index`) published a new generation
                    self._replace_bot(qa.open_index(self.index_dir))
                    self._ui(self._say, f"The index was updated by another build; reopened it "
                                        f"({self._counts()}).", before=exchange)
                if self.thread is None:
                    self.thread = self.bot.conversation()
                answer = self.thread.ask(question, **(filters or ChatFilters()).arguments())
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
        doc_ids += [a.citation.doc_id for a in answer.accounts]
        doc_ids += [c.citation.doc_id for c in answer.candidates] + [p.doc_id for p in answer.related]
        articles = {}
        for doc_id in dict.fromkeys(doc_ids):
            try:
                articles[doc_id] = self.bot.article(doc_id)
            except qa.QAError:
                continue
        return articles

    def _show_answer(self, exchange: Exchange, answer: qa.Answer, articles: dict[str, qa.Article]) -> None:
        exchange.show_answer(answer, articles)

    def action_new_thread(self) -> None:
        """Start a new thread: the next question is read on its own, not as a follow-up."""
        if self.thread is not None:
            self.thread.new()
        self._say("New thread: the next question is read on its own (ctrl+n or /new start another).")

    # --- the reader, copy, save, web page -----------------------------------------------------------

    @on(SourceLink.Selected)
    async def open_source(self, event: SourceLink.Selected) -> None:
        reader = self.query_one(Reader)
        reader.display = True
        await reader.show(event.article, event.start, event.end)
        self.refresh_bindings()

    def action_open_latest(self) -> None:
        latest = self._latest_card()
        if latest is None:
            self.notify("No answer to open yet.", severity="warning")
            return
        latest.action_open()  # the focus stays where it is: typing still goes into the question box

    def _latest_card(self) -> SourceLink | None:
        cards = list(self.screen_stack[0].query(".card").results(SourceLink))
        return cards[-1] if cards else None

    def action_copy(self) -> None:
        focused = self.focused
        card = focused if isinstance(focused, SourceLink) and focused.answer else self._latest_card()
        if card is None or card.answer is None:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(quote_with_citation(card.answer, card.article))
        self.notify("Quote and citation copied to the clipboard.", markup=False)

    def action_find(self) -> None:
        self.query_one(Reader).action_find()

    def action_open_url(self) -> None:
        reader = self.query_one(Reader)
        card = self._latest_card()
        article = reader.article if reader.display else (card.article if card else None)
        if article is None:
            self.notify("Open an answer first.", severity="warning")
        elif not article.url:
            self.notify(f"{printable(article.title, one_line=True)} has no web address in the corpus.",
                        severity="warning", markup=False)
        else:
            self.open_url(article.url)
            self.notify(f"Opening {printable(article.url, one_line=True)}", markup=False)

    def action_save(self) -> None:
        if not self.query(Exchange):
            self.notify("Nothing to save yet: ask a question first.", severity="warning")
            return
        self.push_screen(SaveScreen(Path(f"qa-session-{datetime.now():%Y%m%d-%H%M%S}.md")), self.save_session)

    def save_session(self, path: Path | None) -> None:
        """Write the conversation to `path` (Markdown) and the same name with .json (every Answer)."""
        if path is None:
            return
        exchanges = [e for e in self.query(Exchange).results(Exchange) if e.answer is not None]
        answers = [e.answer for e in exchanges if e.answer is not None]
        articles = {k: v for e in exchanges for k, v in e.articles.items()}
        markdown = path if path.suffix else path.with_suffix(".md")
        try:
            markdown.write_text(session_markdown(answers, articles, corpus=str(self.corpus_dir.resolve()),
                                                 index=str(self.index_dir.resolve())) + "\n", encoding="utf-8")
            markdown.with_suffix(".json").write_text(session_json(answers) + "\n", encoding="utf-8")
        except OSError as exc:
            self.notify(f"Could not save: {exc}", severity="error", markup=False)
            return
        self.notify(f"Saved {len(answers)} answers to {markdown} and {markdown.with_suffix('.json').name}",
                    title="Saved", markup=False)

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

    # --- history across sessions --------------------------------------------------------------------

    def _read_history(self) -> list[str]:
        if self.history_file is None:
            return []
        try:
            lines = self.history_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []
        return [line for line in lines if line.strip()][-HISTORY_LINES:]

    def _append_history(self, question: str) -> None:
        if self.history_file is None:
            return
        try:
            self.history_file.parent.mkdir(parents=True, exist_ok=True)
            with self.history_file.open("a", encoding="utf-8") as history:
                history.write(" ".join(question.split()) + "\n")
        except OSError as exc:
            self.notify(f"Could not keep the question in {self.history_file}: {exc}", severity="warning",
                        markup=False)

    # --- the index: open, build, notice when it is out of date --------------------------------------

    def action_rebuild(self, from_scratch: bool = False) -> None:
        if self._building:
            self.notify("The index is already being built.", severity="warning")
            return
        self._index_worker(build=True, from_scratch=from_scratch)

    def action_toggle_watch(self) -> None:
        if self.watching:
            self._watch_stop.set()
            self.watching = False
            self.sub_title = type(self).SUB_TITLE
            self._say(f"Stopped watching {self.corpus_dir}.")
        else:
            self.watching = True
            self._start_watching()

    def _start_watching(self) -> None:
        self._watch_stop = threading.Event()
        self._watch_worker(self._watch_stop)

    def _watching(self) -> None:
        self.sub_title = f"{type(self).SUB_TITLE} · watching {self.corpus_dir}/"

    @work(thread=True, group="watch", exclusive=True)
    def _watch_worker(self, stop: threading.Event) -> None:
        # A build waits for the bot lock, so it never overlaps ctrl+r's or a question; changes made meanwhile
        # come in the next burst.
        from qa.watch import corpus_changes

        try:
            for paths in corpus_changes(self.corpus_dir, stop=stop, ignore=self.index_dir, announce=True):
                if not paths:  # the watch is live
                    self._ui(self._watching)
                    continue
                with self._bot_lock:
                    if stop.is_set():
                        break
                    try:
                        self._build(from_scratch=False)
                    except (qa.QAError, OSError) as exc:
                        self._ui(self._say, f"⚠ {exc}", "error")
                    finally:
                        self._ui(self._hide_status)
        except qa.QAError as exc:
            self._ui(self._say, f"⚠ Cannot watch {self.corpus_dir}: {exc}", "error")
            self._ui(self._stopped_watching)

    def _stopped_watching(self) -> None:
        self.watching = False
        self.sub_title = type(self).SUB_TITLE

    @property
    def _building(self) -> bool:
        return any(w.group == "index" and not w.is_finished for w in self.workers)

    def on_app_focus(self, event: events.AppFocus) -> None:
        # back from another terminal where `qa index` ran, or from the editor that added an article
        if not self._building:
            self._freshness_worker()

    @work(thread=True, group="freshness", exclusive=True)
    def _freshness_worker(self) -> None:
        if not self._bot_lock.acquire(timeout=5):
            return
        try:
            self._check_freshness()
        except (qa.QAError, OSError):
            pass  # the next ask or ctrl+r reports what is wrong
        finally:
            self._bot_lock.release()

    def _check_freshness(self) -> None:
        """Say so when the index no longer matches: reopen after another build, offer ctrl+r for corpus edits."""
        if self.bot is None:
            return
        if not self.corpus_dir.is_dir():
            if self._changes_said != "no corpus":
                self._ui(self._say, f"There is no corpus folder at {self.corpus_dir.resolve()}: the chat answers "
                                    "from the index but cannot tell whether it is up to date, nor rebuild it "
                                    "(qa tui --corpus DIR).")
            self._changes_said = "no corpus"
            return
        if self.bot.is_stale():
            self._replace_bot(qa.open_index(self.index_dir))
            self._ui(self._say, f"The index was updated by another build; reopened it ({self._counts()}).")
        changes = self.bot.corpus_changes(self.corpus_dir)
        said = changes.summary() if changes else ""
        if said and said != self._changes_said:
            message = (f"{self.corpus_dir.resolve()} changed since the index was built ({said} articles); "
                       "answers come from the index as it was. Press ctrl+r to update it.")
            self._ui(self._say, message)
            self.notify(f"{said} articles since the build: ctrl+r updates the index.", title="Index out of date",
                        severity="warning", markup=False, timeout=10)
        self._changes_said = said

    def _counts(self) -> str:
        counts = self.bot.counts if self.bot else {}
        return ", ".join(f"{v} {k}" for k, v in counts.items())

    @work(thread=True, group="index")
    def _index_worker(self, build: bool, from_scratch: bool = False) -> None:
        try:
            with self._bot_lock:
                if build or not self._open():
                    self._build(from_scratch)
                else:
                    self._check_freshness()
        except (qa.QAError, OSError) as exc:  # OSError: an index folder that cannot be written, a full disk
            # build_index repairs a damaged index, so ctrl+r is the way out of every store error but a lock
            fixable = isinstance(exc, qa.IndexStoreError) and not isinstance(exc, qa.IndexLockedError)
            hint = "\nPress ctrl+r to rebuild the index." if fixable else ""
            self._ui(self._say, f"⚠ {exc}{hint}", "error")
            self.notify(printable(f"{exc}{hint}"), title="Index", severity="error", markup=False)
        finally:
            self._ui(self._hide_status)

    def _open(self) -> bool:
        """Open the index; False when there is none yet, or one another version of qa wrote, to build instead."""
        self._ui(self._show_status, "Loading the index…")
        index, corpus = self.index_dir.resolve(), self.corpus_dir.resolve()
        try:
            self._replace_bot(qa.open_index(self.index_dir))
            return True
        except qa.IndexNotFoundError:
            self._ui(self._say, f"No index in {index} yet: building one from {corpus} "
                                "(qa tui --index DIR or $QA_INDEX put it elsewhere).")
        except qa.IndexVersionError:
            # derived data in an older format: the corpus is at hand, so rebuild rather than ask
            self._ui(self._say, f"The index in {index} was written by another version of qa: "
                                f"rebuilding it from {corpus}.")
        return False

    def _build(self, from_scratch: bool) -> None:
        self._ui(self._show_status, f"Indexing {self.corpus_dir}/…")
        report = qa.build_index(self.corpus_dir, self.index_dir, rebuild=from_scratch, progress=self._progress())
        self._ui(self._say, f"Index built: {report.summary()}")
        self.notify(report.summary(), title="Index built", markup=False)
        self._ui(self._show_status, "Loading the index…")
        self._replace_bot(qa.open_index(self.index_dir))
        self._changes_said = ""

    def _replace_bot(self, bot: qa.QA) -> None:
        old, self.bot = self.bot, bot
        turns = self.thread.turns if self.thread is not None else []
        self.thread = bot.conversation()
        self.thread.turns.extend(turns)  # a reopened index keeps the thread the user is in
        if old is not None:
            old.close()

    def _progress(self) -> Callable[[str, int, int], None]:
        last: dict[str, str | float] = {"stage": "", "time": 0.0}

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

    def _say(self, message: str, kind: str = "system", before: Widget | None = None) -> None:
        chat = self.screen_stack[0].query_one("#chat", VerticalScroll)
        chat.mount(Static(Text(printable(message)), classes=kind), before=before)

    def _show_status(self, message: str, done: int = 0, total: int | None = None) -> None:
        """Show the status line: a message and a bar, which bounces until it is given a total."""
        screen = self.screen_stack[0]
        screen.query_one("#status-label", Label).update(Text(printable(message)))
        screen.query_one(ProgressBar).update(total=total, progress=done)
        screen.query_one("#status").display = True

    def _hide_status(self) -> None:
        self.screen_stack[0].query_one("#status").display = False


def default_corpus() -> Path:
    """./corpus when there is one, else the five articles shipped with qa (in the checkout)."""
    here = Path("corpus")
    return here if here.is_dir() else Path(__file__).resolve().parents[2] / "corpus"


def default_history() -> Path:
    """Where the chat keeps questions across sessions: $QA_HISTORY, else qa/history in the user's data folder."""
    if os.environ.get("QA_HISTORY"):
        return Path(os.environ["QA_HISTORY"])
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "qa" / "history"


def run(corpus_dir: str | Path | None = None, index_dir: str | Path = "index",
        history_file: str | Path | None = None, watch: bool = False) -> int:
    """Run the chat until the user quits.

    Args:
        corpus_dir: folder of articles; `None` picks `default_corpus()`.
        index_dir: index folder, built there from the corpus if missing.
        history_file: where questions are kept across sessions; `None` keeps none.
        watch: update the index each time the corpus changes, while the chat is open.

    Returns:
        The exit status: 0.
    """
    app = QAApp(corpus_dir or default_corpus(), index_dir, history_file, watch=watch)
    app.run()
    return app.return_code or 0
