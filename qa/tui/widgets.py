"""What the chat shows: the question box, answer cards with their sources, the article reader and the help screen.

Display only: these widgets render `qa` models and post `SourceLink.Selected` when the user asks to read an
article; the app in app.py does the asking, the loading and the index building. Styles live in chat.tcss.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Static

import qa

HIGHLIGHT = "bold #1d1f21 on #f0c674"
"""Rich style of the short answer inside a quote, and of the cited sentence in the reader."""

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
