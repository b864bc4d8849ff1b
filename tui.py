"""The Textual chat over a qa index: ask, read the quoted answer, open the article it comes from.

Run it with `qa tui` or `python tui.py [--corpus DIR] [--index DIR]`. The app only calls the public API
(`qa.open_index`, `QA.ask`, `QA.article`, `qa.build_index`); every one of those runs in a thread worker so
typing never stalls. Styles live in tui.tcss beside this file.
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, Label, ProgressBar, Static

import qa

HIGHLIGHT = "bold #1d1f21 on #f0c674"
"""Rich style of the short answer inside a quote, and of the cited sentence in the reader."""

STAGES = {"load": "Reading articles", "embed": "Embedding sentences", "write": "Writing the index"}

KEYS = [
    ("enter", "ask the question typed in the box"),
    ("up / down", "recall earlier questions (in the box); move between sources (elsewhere)"),
    ("tab / shift+tab", "move between the box, answers and their sources (shift+tab: latest first)"),
    ("page up / down", "scroll the conversation, or the reader when it has the focus"),
    ("enter / o", "open the focused answer or source in the reader"),
    ("ctrl+o", "open the source of the latest answer"),
    ("escape", "close the reader, back to the question box"),
    ("ctrl+r", "rebuild the index from the corpus folder"),
    ("ctrl+p", "command palette: Rebuild index, Rebuild index from scratch, Help, Quit…"),
    ("f1 / ?", "this help"),
    ("ctrl+q", "quit"),
]

WELCOME = (
    "Ask a question about the archive. Every answer is a sentence quoted from an article; "
    "tab to it and press enter to read the article, or press ctrl+o."
)


class QuestionInput(Input):
    """The question box, which recalls earlier questions with up and down."""

    BINDINGS = [
        Binding("up", "recall(-1)", "Previous question", show=False),
        Binding("down", "recall(1)", "Next question", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history: list[str] = []
        self._position = 0
        self._draft = ""

    def remember(self, question: str) -> None:
        if not self.history or self.history[-1] != question:
            self.history.append(question)
        self._position = len(self.history)

    def action_recall(self, step: int) -> None:
        if not self.history:
            return
        if self._position == len(self.history):
            self._draft = self.value
        self._position = max(0, min(len(self.history), self._position + step))
        in_history = self._position < len(self.history)
        self.value = self.history[self._position] if in_history else self._draft
        self.cursor_position = len(self.value)


class SourceLink(Static, can_focus=True):
    """An answer or a listed source: enter, o or a click opens its article at the given offsets."""

    BINDINGS = [
        Binding("enter,o", "open", "Open source"),
        Binding("up", "app.focus_previous", "Previous", show=False),
        Binding("down", "app.focus_next", "Next", show=False),
    ]

    class Selected(Message):
        """Posted when the user asks to read the article behind a link."""

        def __init__(self, article: qa.Article, start: int, end: int) -> None:
            super().__init__()
            self.article = article
            self.start = start
            self.end = end

    def __init__(self, content: Text, article: qa.Article | None, start: int, end: int, **kwargs: object) -> None:
        super().__init__(content, **kwargs)  # type: ignore[arg-type]
        self.article = article
        self.start = start
        self.end = end

    def action_open(self) -> None:
        if self.article is None:
            self.notify("This article could not be loaded from the index.", severity="warning")
            return
        self.post_message(self.Selected(self.article, self.start, self.end))

    def on_click(self) -> None:
        self.focus()
        self.action_open()


class Exchange(Vertical):
    """One question and, once the worker is done, its answer."""

    def __init__(self, question: str) -> None:
        super().__init__(classes="exchange")
        self.question = question
        self.answer: qa.Answer | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("› ", "bold"), self.question), classes="question")
        yield Static("Searching the archive…", classes="pending")

    def show_answer(self, answer: qa.Answer, articles: dict[str, qa.Article]) -> None:
        self.answer = answer
        self.query(".pending").remove()
        self.mount_all(_answer_widgets(answer, articles))

    def show_error(self, message: str) -> None:
        self.query(".pending").remove()
        self.mount(Static(Text(message), classes="error"))


def _answer_widgets(answer: qa.Answer, articles: dict[str, qa.Article]) -> Iterable[Widget]:
    if not answer.found or answer.citation is None or answer.sentence is None:
        yield Static(Text(answer.message or "No answer in the archive."), classes="no-answer")
        if answer.related:
            yield Static("Closest passages:", classes="heading")
        for passage in answer.related[:5]:
            label = Text.assemble("› ", (passage.title, "bold"), ": ", _one_line(passage.text))
            yield SourceLink(label, articles.get(passage.doc_id), passage.start, passage.end, classes="link")
        return

    citation = answer.citation
    card = Text()
    if answer.short_answer is not None:
        card.append(answer.short_answer.text, style="bold")
        card.append("   ")
    card.append(f"confidence {answer.confidence:.2f}", style=_confidence_style(answer.confidence))
    card.append("\n“")
    quote = Text(answer.sentence)
    if answer.short_answer is not None:
        quote.stylize(HIGHLIGHT, answer.short_answer.start, answer.short_answer.end)
    card.append_text(quote)
    card.append("”\n")
    card.append(citation.title, style="bold")
    card.append_text(_where(citation))
    yield SourceLink(card, articles.get(citation.doc_id), citation.start, citation.end, classes="card")

    if answer.corroborating:
        count = len(answer.corroborating)
        yield Static(f"Also stated in {count} other article{'s' if count > 1 else ''}:", classes="heading")
    for other in answer.corroborating:
        label = Text.assemble("› ", (other.title, "bold"), _where(other))
        yield SourceLink(label, articles.get(other.doc_id), other.start, other.end, classes="link")

    shown = {(c.doc_id, c.start) for c in [citation, *answer.corroborating]}
    candidates = [c for c in answer.candidates if (c.citation.doc_id, c.citation.start) not in shown][:3]
    if candidates:
        yield Static("Other sentences considered:", classes="heading")
    for candidate in candidates:
        label = Text.assemble(
            "› ", (f"{candidate.score:.2f} ", "dim"), "“", _one_line(candidate.sentence), "” ",
            (candidate.citation.title, "italic"),
        )
        where = candidate.citation
        yield SourceLink(label, articles.get(where.doc_id), where.start, where.end, classes="link")


def _where(citation: qa.Citation) -> Text:
    details = " · ".join(part for part in (citation.source, citation.date) if part) or citation.path
    return Text(f" — {details}", style="dim")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _confidence_style(confidence: float) -> str:
    if confidence >= 0.7:
        return "bold green"
    return "bold yellow" if confidence >= 0.4 else "bold red"


class Reader(VerticalScroll):
    """The article an answer was quoted from, scrolled to the quoted sentence, which is highlighted."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.article: qa.Article | None = None

    async def show(self, article: qa.Article, start: int, end: int) -> None:
        self.article = article
        await self.remove_children()
        meta = " · ".join(p for p in (article.source, article.date, article.url or article.path) if p)
        widgets: list[Widget] = [
            Static(Text(article.title, style="bold"), classes="reader-title"),
            Static(Text(meta, style="dim"), classes="reader-meta"),
        ]
        first_cited: Widget | None = None
        for match in re.finditer(r"[^\n]+", article.text):
            if not match.group().strip():
                continue
            paragraph = Text(match.group())
            cited = match.start() < end and start < match.end()
            if cited:
                paragraph.stylize(HIGHLIGHT, max(start, match.start()) - match.start(),
                                  min(end, match.end()) - match.start())
            widget = Static(paragraph, classes="para cited" if cited else "para")
            widgets.append(widget)
            if cited and first_cited is None:
                first_cited = widget
        await self.mount_all(widgets)
        self.scroll_home(animate=False)
        if first_cited is not None:
            self.call_after_refresh(self._show_cited, first_cited)

    def _show_cited(self, widget: Widget) -> None:
        # A third of the way down rather than centred, so the lines before the sentence give context.
        above = self.scrollable_content_region.height // 3
        self.scroll_to(y=max(0, widget.virtual_region.y - above), animate=False)

    @property
    def highlighted_text(self) -> str:
        """The text shown highlighted, as the reader renders it (joined across paragraphs)."""
        parts = []
        for widget in self.query(".cited").results(Static):
            content = widget.content
            if isinstance(content, Text):
                parts += [content.plain[s.start:s.end] for s in content.spans if s.style == HIGHLIGHT]
        return "\n".join(parts)


class HelpScreen(ModalScreen[None]):
    """The keys of the app."""

    BINDINGS = [Binding("escape,f1,q,question_mark", "dismiss", "Close help")]

    def __init__(self, corpus_dir: Path, index_dir: Path) -> None:
        super().__init__()
        self.corpus_dir = corpus_dir
        self.index_dir = index_dir

    def compose(self) -> ComposeResult:
        table = Text()
        for key, what in KEYS:
            table.append(f"{key:>16}  ", style="bold")
            table.append(f"{what}\n")
        table.append(f"\ncorpus: {self.corpus_dir.resolve()}\nindex:  {self.index_dir.resolve()}", style="dim")
        with Vertical(id="help"):
            yield Static("Keys", classes="title")
            yield Static(table)
            yield Static("escape closes this help", classes="hint")


class QAApp(App[int]):
    """A chat with the archive: questions in, quoted sentences with their sources out."""

    CSS_PATH = "tui.tcss"
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
        self._building = False
        self._unreadable = False

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
        self._building = True
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
        self._building = True
        self._index_worker(build=True, from_scratch=from_scratch or self._unreadable)

    @work(thread=True, group="index")
    def _index_worker(self, build: bool, from_scratch: bool = False) -> None:
        try:
            with self._bot_lock:
                if not build:
                    self._ui(self._show_status, "Loading the index…")
                    try:
                        self._replace_bot(qa.open_index(self.index_dir))
                        return
                    except qa.IndexNotFoundError:
                        missing = f"No index in {self.index_dir}/ yet: building one from {self.corpus_dir}/."
                        self._ui(self._say, missing)
                self._ui(self._show_status, f"Indexing {self.corpus_dir}/…")
                report = qa.build_index(self.corpus_dir, self.index_dir, rebuild=from_scratch,
                                        progress=self._progress())
                self._ui(self._say, f"Index built: {report.summary()}")
                self.notify(report.summary(), title="Index built", markup=False)
                self._ui(self._show_status, "Loading the index…")
                self._replace_bot(qa.open_index(self.index_dir))
        except qa.QAError as exc:
            # An index that exists but cannot be opened is not worth updating: the next ctrl+r starts afresh.
            self._unreadable = isinstance(exc, qa.IndexStoreError) and not isinstance(exc, qa.IndexLockedError)
            hint = "\nPress ctrl+r to rebuild the index." if self._unreadable else ""
            self._ui(self._say, f"⚠ {exc}{hint}", "error")
            self.notify(f"{exc}{hint}", title="Index", severity="error", markup=False)
        finally:
            self._building = False
            self._ui(self._hide_status)

    def _replace_bot(self, bot: qa.QA) -> None:
        self._unreadable = False
        old, self.bot = self.bot, bot
        if old is not None:
            old.close()

    def _progress(self) -> Callable[[str, int, int], None]:
        last = {"stage": "", "time": 0.0}

        def report(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if stage != last["stage"] or done >= total or now - float(last["time"]) > 0.1:
                last.update(stage=stage, time=now)
                self._ui(self._show_progress, stage, done, total)

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

    def _show_status(self, message: str) -> None:
        self.query_one("#status-label", Label).update(message)
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one("#status").display = True

    def _show_progress(self, stage: str, done: int, total: int) -> None:
        self.query_one("#status-label", Label).update(f"{STAGES.get(stage, stage)} {done}/{total}")
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#status").display = True

    def _hide_status(self) -> None:
        self.query_one("#status").display = False


def _default_corpus() -> Path:
    here = Path("corpus")
    return here if here.is_dir() else Path(__file__).resolve().parent / "corpus"


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the chat until the user quits.

    Args:
        argv: command-line arguments after the program name; `None` reads `sys.argv`.

    Returns:
        The exit status: 0.
    """
    parser = argparse.ArgumentParser(
        prog="qa tui",
        description="Chat with a news archive: every answer is a sentence quoted from an article, with its "
        "source. Builds the index first if there is none.",
    )
    parser.add_argument("--corpus", type=Path, default=None, metavar="DIR",
                        help="folder of articles (default: ./corpus, else the corpus/ shipped with qa)")
    parser.add_argument("--index", type=Path, default=Path("index"), metavar="DIR",
                        help="index folder, built there if missing (default: ./index)")
    args = parser.parse_args(argv)
    app = QAApp(args.corpus or _default_corpus(), args.index)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())
