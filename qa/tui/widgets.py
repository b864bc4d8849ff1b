"""What the chat shows: the question box, answer cards with their sources, the article reader and the screens.

Display only: these widgets render `qa` models and post `SourceLink.Selected` when the user asks to read an
article; the app in app.py does the asking, the loading and the index building. Styles live in chat.tcss.
Every string from the corpus passes through `qa.display.printable` before it is drawn.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Static

import qa
from qa.display import printable
from qa.tui.filters import HELP as FILTERS_HELP

HIGHLIGHT = "bold #1d1f21 on #f0c674"
"""Rich style of the short answer inside a quote, and of the cited sentence in the reader."""
FOUND = "bold #1d1f21 on #81a2be"
"""Rich style of a match of the reader's find."""

KEYS = [
    ("typing", "always goes into the question box"),
    ("enter", "ask; on a focused answer or source: open it"),
    ("up / down", "earlier questions, also of past sessions; sources"),
    ("tab / shift+tab", "move between the box, answers and their sources"),
    ("page up / down", "scroll the conversation, or the focused reader"),
    ("ctrl+o", "open the latest answer's article in the reader"),
    ("ctrl+y", "copy the focused (or latest) quote, with its citation"),
    ("ctrl+s", "save the conversation as Markdown and JSON"),
    ("ctrl+f, /", "find in the article; escape closes the find, the reader"),
    ("ctrl+l", "open the article's web page, when it has one"),
    ("ctrl+n, /new", "a new thread: forget the earlier questions"),
    ("ctrl+r", "update the index from the corpus folder"),
    ("ctrl+p", "commands: rebuild from scratch, save, quit…"),
    ("since: until:", FILTERS_HELP),
    ("f1, ? alone", "this help"),
    ("ctrl+q", "quit"),
]


class QuestionInput(Input):
    """The question box, which recalls earlier questions with up and down."""

    BINDINGS = [
        Binding("up", "recall(-1)", "Previous question", show=False),
        Binding("down", "recall(1)", "Next question", show=False),
    ]

    def __init__(self, history: Iterable[str] = (), **kwargs: object) -> None:
        # select_on_focus would select a character typed elsewhere, and the next one would replace it
        super().__init__(select_on_focus=False, **kwargs)  # type: ignore[arg-type]
        self.history: list[str] = list(history)
        self._position = len(self.history)
        self._draft = ""

    def key_enter(self, event: events.Key) -> None:
        # Submit and empty the box as the key is read. Left to Input's binding, enter would act only once it
        # had bubbled up to the app, after the keys typed next were in the box: a fast typist, a paste or
        # tmux send-keys merged two questions into one, asked twice.
        event.stop()
        event.prevent_default()
        value, self.value = self.value, ""
        self.post_message(self.Submitted(self, value))

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
    """An answer or a listed source: enter or a click opens its article at the given offsets."""

    BINDINGS = [
        Binding("enter", "open", "Open source"),
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

    def __init__(self, content: Text, article: qa.Article | None, start: int, end: int,
                 answer: qa.Answer | None = None, **kwargs: object) -> None:
        super().__init__(content, **kwargs)  # type: ignore[arg-type]
        self.article = article
        self.start = start
        self.end = end
        self.answer = answer

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
        self.articles: dict[str, qa.Article] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("› ", "bold"), printable(self.question)), classes="question")
        yield Static("Searching the archive…", classes="pending")

    def show_answer(self, answer: qa.Answer, articles: dict[str, qa.Article]) -> None:
        self.answer = answer
        self.articles = articles
        self.query(".pending").remove()
        self.mount_all(_answer_widgets(answer, articles))

    def show_error(self, message: str) -> None:
        self.query(".pending").remove()
        self.mount(Static(Text(printable(message)), classes="error"))


def marked(text: str, start: int, end: int, style: str) -> Text:
    """`text[start:end]` in `style`, every part made printable (so escapes cannot shift the highlight)."""
    return Text.assemble(printable(text[:start]), (printable(text[start:end]), style), printable(text[end:]))


def _answer_widgets(answer: qa.Answer, articles: dict[str, qa.Article]) -> Iterable[Widget]:
    if answer.corrections:
        yield Static(Text("read as: " + ", ".join(f"{printable(c.word)} → {printable(c.replacement)}"
                                                  for c in answer.corrections)), classes="corrections")
    if answer.resolved:
        yield Static(Text.assemble("read as: ", printable(answer.resolved)), classes="resolved")
    if not answer.found or answer.citation is None or answer.sentence is None:
        yield Static(Text(printable(answer.message or "No answer in the archive.")), classes="no-answer")
        if answer.related:
            yield Static("Closest passages:", classes="heading")
        for passage in answer.related[:5]:
            label = Text.assemble("› ", (_line(passage.title), "bold"), ": ", _line(passage.text))
            yield SourceLink(label, articles.get(passage.doc_id), passage.start, passage.end, classes="link")
        return

    citation = answer.citation
    card = Text()
    if answer.short_answer is not None:
        card.append(printable(answer.short_answer.text), style="bold")
        card.append("   ")
    card.append(f"confidence {answer.confidence:.2f}", style=_confidence_style(answer.confidence))
    card.append("\n“")
    short = answer.short_answer
    card.append_text(marked(answer.sentence, short.start, short.end, HIGHLIGHT) if short
                     else Text(printable(answer.sentence)))
    card.append("”\n")
    card.append(_line(citation.title), style="bold")
    card.append_text(_where(citation, articles.get(citation.doc_id)))
    yield SourceLink(card, articles.get(citation.doc_id), citation.start, citation.end, answer=answer, classes="card")

    if answer.corroborating:
        count = len(answer.corroborating)
        yield Static(f"Also stated in {count} other article{'s' if count > 1 else ''}:", classes="heading")
    for other in answer.corroborating:
        article = articles.get(other.doc_id)
        said = article.text[other.start:other.end] if article else ""
        label = Text.assemble("› ", (_line(other.title), "bold"), _where(other, article))
        if said:
            label = Text.assemble("› “", _line(said), "” ", (_line(other.title), "italic"))
        yield SourceLink(label, article, other.start, other.end, classes="link")

    if answer.accounts:
        yield Static("Other accounts:", classes="heading")
    for account in answer.accounts:
        where = account.citation
        # who and when first: the line is clipped at the terminal's width, the sentence is in the reader
        said = "; ".join(_line(part) for part in (str(account.speaker) if account.speaker else None, where.date) if part)
        label = Text.assemble(
            "› ", (printable(account.value.text), "bold"), (f" ({said})" if said else "", "italic"), ": “",
            _line(account.sentence), "” ", (_line(where.title), "italic"), _where(where, articles.get(where.doc_id)),
        )
        yield SourceLink(label, articles.get(where.doc_id), where.start, where.end, classes="link")

    shown = {(c.doc_id, c.start) for c in [citation, *answer.corroborating, *(a.citation for a in answer.accounts)]}
    candidates = [c for c in answer.candidates if (c.citation.doc_id, c.citation.start) not in shown][:3]
    if candidates:
        yield Static("Other sentences considered:", classes="heading")
    for candidate in candidates:
        label = Text.assemble(
            "› ", (f"{candidate.score:.2f} ", "dim"), "“", _line(candidate.sentence), "” ",
            (_line(candidate.citation.title), "italic"),
        )
        where = candidate.citation
        yield SourceLink(label, articles.get(where.doc_id), where.start, where.end, classes="link")


def _where(citation: qa.Citation, article: qa.Article | None) -> Text:
    authors = ", ".join(article.authors) if article and article.authors else None
    details = " · ".join(part for part in (authors, citation.source, citation.date) if part) or citation.path
    return Text(f" — {_line(details)}", style="dim")


def _line(text: str) -> str:
    return printable(" ".join(text.split()), one_line=True)


def _confidence_style(confidence: float) -> str:
    if confidence >= 0.7:
        return "bold green"
    return "bold yellow" if confidence >= 0.4 else "bold red"


class FindInput(Input):
    """The reader's find bar: every match is highlighted as you type, enter goes to the next one."""

    BINDINGS = [Binding("escape", "close", "Close find")]

    def action_close(self) -> None:
        reader = self.parent
        assert isinstance(reader, Reader)
        reader.close_find()


class Reader(VerticalScroll):
    """The article an answer was quoted from, scrolled to the quoted sentence, which is highlighted."""

    BINDINGS = [Binding("slash", "find", "Find in article")]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.article: qa.Article | None = None
        self.matches: list[tuple[Static, int]] = []
        self._match = -1
        self._texts: dict[Static, Text] = {}

    def compose(self) -> ComposeResult:
        yield FindInput(placeholder="Find in the article (enter: next, escape: close)", id="find")

    async def show(self, article: qa.Article, start: int, end: int) -> None:
        self.article = article
        await self.query(".reader-part").remove()
        meta = " · ".join(p for p in (", ".join(article.authors), article.source, article.date,
                                      article.url or article.path) if p)
        widgets: list[Widget] = [
            Static(Text(_line(article.title), style="bold"), classes="reader-part reader-title"),
            Static(Text(_line(meta), style="dim"), classes="reader-part reader-meta"),
        ]
        first_cited: Widget | None = None
        self._texts = {}
        for match in re.finditer(r"[^\n]+", article.text):
            if not match.group().strip():
                continue
            cited = match.start() < end and start < match.end()
            if cited:
                paragraph = marked(match.group(), max(start, match.start()) - match.start(),
                                   min(end, match.end()) - match.start(), HIGHLIGHT)
            else:
                paragraph = Text(printable(match.group()))
            widget = Static(paragraph, classes="reader-part para cited" if cited else "reader-part para")
            self._texts[widget] = paragraph
            widgets.append(widget)
            if cited and first_cited is None:
                first_cited = widget
        await self.mount_all(widgets)
        self.matches, self._match = [], -1
        find = self.query_one(FindInput)
        if find.display and find.value:
            self._find(find.value)
        self.scroll_home(animate=False)
        if first_cited is not None:
            self.call_after_refresh(self._show_cited, first_cited)

    def _show_cited(self, widget: Widget) -> None:
        # A third of the way down rather than centred, so the lines before the sentence give context.
        above = self.scrollable_content_region.height // 3
        self.scroll_to(y=max(0, widget.virtual_region.y - above), animate=False)

    def action_find(self) -> None:
        find = self.query_one(FindInput)
        find.display = True
        find.focus()

    def close_find(self) -> None:
        find = self.query_one(FindInput)
        find.value = ""
        find.display = False
        self.focus()

    @on(Input.Changed, "#find")
    def _find_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._find(event.value)
        self.next_match()

    @on(Input.Submitted, "#find")
    def _find_next(self, event: Input.Submitted) -> None:
        event.stop()
        self.next_match()

    def _find(self, term: str) -> None:
        self.matches = []
        self._match = -1
        pattern = re.compile(re.escape(term.strip()), re.IGNORECASE) if term.strip() else None
        for widget, base in self._texts.items():
            text = base.copy()
            if pattern is not None:
                for found in pattern.finditer(text.plain):
                    text.stylize(FOUND, found.start(), found.end())
                    self.matches.append((widget, found.start()))
            widget.update(text)
        count = len(self.matches)
        find = self.query_one(FindInput)
        find.border_subtitle = f"{count} match{'es' if count != 1 else ''}" if pattern else ""

    def next_match(self) -> None:
        if not self.matches:
            return
        self._match = (self._match + 1) % len(self.matches)
        widget, _ = self.matches[self._match]
        self.scroll_to_widget(widget, animate=False, center=True)
        find = self.query_one(FindInput)
        find.border_subtitle = f"{self._match + 1} of {len(self.matches)}"

    @property
    def highlighted_text(self) -> str:
        """The text shown highlighted, as the reader renders it (joined across paragraphs)."""
        parts = []
        for widget in self.query(".cited").results(Static):
            content = self._texts.get(widget, widget.content)
            if isinstance(content, Text):
                parts += [content.plain[s.start:s.end] for s in content.spans if s.style == HIGHLIGHT]
        return "\n".join(parts)


class HelpScreen(ModalScreen[None]):
    """The keys of the app; its lines wrap to the terminal's width."""

    BINDINGS = [Binding("escape,f1,q,question_mark", "dismiss", "Close help")]

    def __init__(self, corpus_dir: Path, index_dir: Path) -> None:
        super().__init__()
        self.corpus_dir = corpus_dir
        self.index_dir = index_dir

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", justify="right", no_wrap=True)
        table.add_column(ratio=1)
        for key, what in KEYS:
            table.add_row(key, what)
        table.add_row("corpus", Text(printable(str(self.corpus_dir.resolve())), style="dim"))
        table.add_row("index", Text(printable(str(self.index_dir.resolve())), style="dim"))
        with VerticalScroll(id="help") as box:
            box.border_title = "Keys"
            box.border_subtitle = "escape closes this help"
            yield Static(table, classes="keys")


class SaveScreen(ModalScreen[Path | None]):
    """Asks where to save the conversation; the Markdown file gets a .json twin beside it."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, default: Path) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="save"):
            yield Label("Save the conversation as Markdown (and JSON beside it):")
            yield Input(value=str(self.default), id="save-path")
            yield Label("enter saves, escape cancels", classes="hint")

    @on(Input.Submitted, "#save-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(Path(event.value).expanduser() if event.value.strip() else None)
