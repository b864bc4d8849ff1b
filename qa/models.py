"""Typed results of qa: every public call returns one of these frozen pydantic models.

Offsets are character offsets into an article's cleaned text (`Article.text`), half-open:
`article.text[start:end]` gives back the quoted text exactly.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


def _short(text: str | None, width: int = 60) -> str | None:
    if text is None or len(text) <= width:
        return text
    return text[: width - 1] + "…"


class Article(_Frozen):
    """One news article, with boilerplate removed from its text."""

    doc_id: str
    title: str
    text: str
    source: str | None = None
    date: str | None = None
    url: str | None = None
    authors: list[str] = Field(default_factory=list)
    path: str = Field(description="file the article was read from, relative to the corpus folder")

    def __repr__(self) -> str:
        return f"Article(doc_id={self.doc_id!r}, title={_short(self.title)!r}, chars={len(self.text)})"

    __str__ = __repr__


class ArticleInfo(_Frozen):
    """What `QA.articles` lists about an article: everything but its text."""

    doc_id: str
    title: str
    source: str | None = None
    date: str | None = None
    url: str | None = None
    authors: list[str] = Field(default_factory=list)
    path: str = Field(description="file the article was read from, relative to the corpus folder")
    chars: int = Field(description="length of the article's cleaned text, in characters")


class Sentence(_Frozen):
    """A sentence of an article, located by its offsets in `Article.text`."""

    doc_id: str
    index: int = Field(description="position of the sentence in its article, from 0")
    start: int
    end: int
    text: str


class Passage(_Frozen):
    """A window of consecutive sentences of one article; the unit that retrieval ranks."""

    passage_id: str
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    first_sentence: int = Field(description="index of the passage's first sentence in its article")
    last_sentence: int = Field(description="index of its last sentence (inclusive)")
    score: float | None = Field(default=None, description="fused retrieval score, when returned by search")
    lexical_rank: int | None = Field(default=None, description="rank in the BM25 list (1 = best), if ranked")
    dense_rank: int | None = Field(default=None, description="rank in the embedding list (1 = best), if ranked")

    def __repr__(self) -> str:
        return f"Passage(passage_id={self.passage_id!r}, text={_short(self.text)!r}, score={self.score})"

    __str__ = __repr__


class Citation(_Frozen):
    """Where a quoted sentence comes from: `QA.article(doc_id).text[start:end]` is the sentence."""

    doc_id: str
    title: str
    source: str | None = None
    date: str | None = None
    url: str | None = None
    path: str
    start: int
    end: int


class ShortAnswer(_Frozen):
    """The span inside the quoted sentence that answers: `sentence[start:end] == text`."""

    text: str
    start: int
    end: int


class Candidate(_Frozen):
    """A sentence considered as the answer, with the score the answerer gave it."""

    sentence: str
    score: float
    citation: Citation


class Speaker(_Frozen):
    """Who a sentence says its statement comes from: `sentence[start:end] == name`, with the reporting verb."""

    name: str = Field(description="the name or organisation, verbatim: 'Russian media', 'Lin Jian'")
    verb: str = Field(description="the reporting verb, verbatim: 'identified', 'said', 'according to'")
    start: int
    end: int

    def __str__(self) -> str:
        return f"according to {self.name}" if self.verb.lower() == "according to" else f"{self.name} {self.verb}"


class Account(_Frozen):
    """Another article's account of what was asked, with a value that differs from the answer's."""

    value: ShortAnswer = Field(description="the differing value, marked inside `sentence`")
    sentence: str
    citation: Citation
    speaker: Speaker | None = Field(default=None, description="who the sentence attributes it to, when it names one")
    score: float = Field(description="the answerer's probability that this sentence answers the question")
    corroborating: list[Citation] = Field(
        default_factory=list, description="further articles whose sentences give this same value"
    )

class Correction(_Frozen):
    """A word of the question that the archive does not know, and the known word it was read as."""

    word: str = Field(description="the word as typed")
    replacement: str = Field(description="the word of the archive's vocabulary it was corrected to")
    start: int = Field(description="offset of the word in the question as asked (whitespace normalised)")
    end: int


class Answer(_Frozen):
    """The reply to a question: a quoted sentence with its citation, or a plain "no answer"."""

    question: str
    found: bool
    message: str = Field(description="one plain line saying what was found, or that nothing was")
    sentence: str | None = None
    short_answer: ShortAnswer | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    citation: Citation | None = None
    corroborating: list[Citation] = Field(
        default_factory=list, description="other articles whose sentences state the same fact"
    )
    accounts: list[Account] = Field(
        default_factory=list, description="other articles giving a different value for what was asked, one per value"
    )
    resolved: str | None = Field(
        default=None, description="the question as a conversation read it against earlier turns, when that changed it"
    )
    candidates: list[Candidate] = Field(default_factory=list, description="other sentences considered")
    related: list[Passage] = Field(default_factory=list, description="the closest passages retrieved")
    corrections: list[Correction] = Field(
        default_factory=list, description="typos corrected against the archive's vocabulary before answering"
    )

    def __repr__(self) -> str:
        # the full model is model_dump(); a repr is for a REPL or a log line
        where = f"{self.citation.doc_id}:{self.citation.start}-{self.citation.end}" if self.citation else None
        short = self.short_answer.text if self.short_answer else None
        return (f"Answer(found={self.found}, confidence={self.confidence:.2f}, short_answer={short!r}, "
                f"sentence={_short(self.sentence)!r}, citation={where!r}, corroborating={len(self.corroborating)}"
                + (f", accounts={len(self.accounts)}" if self.accounts else "") + ")")

    __str__ = __repr__


class CorpusChanges(_Frozen):
    """What `QA.corpus_changes` found: articles of the corpus folder the open index does not reflect."""

    added: list[str] = Field(default_factory=list, description="doc ids of articles the index does not hold")
    changed: list[str] = Field(default_factory=list, description="doc ids whose file changed since the build")
    removed: list[str] = Field(default_factory=list, description="doc ids in the index whose file is gone")

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        """"2 new, 1 changed, 0 removed articles"."""
        return f"{len(self.added)} new, {len(self.changed)} changed, {len(self.removed)} removed"


class SkippedFile(_Frozen):
    """A corpus file (or JSONL line) that could not be read, and why."""

    path: str
    line: int | None = None
    reason: str

    @property
    def location(self) -> str:
        """"path" or "path:line" for a JSONL record: where a person finds it."""
        return location(self.path, self.line)


def location(path: str, line: int | None) -> str:
    """"path" or "path:line" for a JSONL record: where a person finds a file or a record."""
    return f"{path}:{line}" if line else path


class IndexReport(_Frozen):
    """What `build_index` did."""

    index_dir: str
    added: int
    updated: int
    removed: int
    unchanged: int
    skipped: list[SkippedFile] = Field(default_factory=list)
    articles: int
    passages: int
    sentences: int
    embedded: int = Field(description="number of texts the model encoded in this build")
    full_rebuild: bool
    reason: str | None = Field(default=None, description="why the build started from scratch, if it did")
    repaired: list[str] = Field(
        default_factory=list, description="index files found damaged when the build started, and written again"
    )
    seconds: float
    stage_seconds: dict[str, float] = Field(default_factory=dict, description="time spent per stage")

    def summary(self) -> str:
        """One line for a terminal: what changed and what the index holds now."""
        line = (
            f"{self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged; {self.articles} articles, {self.passages} passages, "
            f"{self.sentences} sentences; {self.embedded} texts embedded in {self.seconds:.1f} s"
        )
        if self.skipped:
            line += f"; {len(self.skipped)} skipped"
        if self.repaired:
            line += f"; repaired {len(self.repaired)} damaged index file(s): {', '.join(self.repaired)}"
        return line


class IndexCheck(_Frozen):
    """What `verify_index` found: every file of the index read and compared with its recorded checksum."""

    index_dir: str
    generation: str | None
    files: int = Field(description="files the manifest records")
    bytes: int = Field(description="bytes read")
    damaged: list[str] = Field(default_factory=list, description="'file: problem' for each damaged file")

    @property
    def ok(self) -> bool:
        """Whether every file is what the build wrote."""
        return not self.damaged
