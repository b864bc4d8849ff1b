"""The SQLite catalog of an index generation: articles, their sentences and passages.

One file, `catalog.sqlite`, readable with any SQLite tool. Sentence and passage ids are integers that stay
the same across generations, so the FAISS and BM25 indexes can keep the vectors and tokens of unchanged
articles and drop those of removed ones by id.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from qa.errors import CorruptIndexError
from qa.models import Article, ArticleInfo, Passage, Sentence

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    doc_id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT, date TEXT, url TEXT,
    authors TEXT NOT NULL,
    path TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sentences (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES articles(doc_id),
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_doc ON sentences(doc_id, idx);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES articles(doc_id),
    idx INTEGER NOT NULL,
    first_sentence INTEGER NOT NULL,
    last_sentence INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id);
"""


@dataclass(frozen=True)
class NewArticle:
    """An article ready to be written: its spans, passage windows and passage tokens."""

    article: Article
    content_hash: str
    sentence_spans: Sequence[tuple[int, int]]
    passage_windows: Sequence[tuple[int, int]]
    passage_tokens: Sequence[Sequence[str]]


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Report a damaged catalog file as CorruptIndexError naming it, not sqlite3's "malformed" traceback."""

    @functools.wraps(method)
    def call(self: Catalog, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise CorruptIndexError(
                f"the index catalog {self.path} is damaged ({exc}); run `qa index` to repair it"
            ) from exc

    return call


class Catalog:
    """Articles, sentences and passages of one index generation."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if readonly and not path.is_file():
            raise CorruptIndexError(f"{path} is missing; rebuild the index with `qa index`")
        # as_uri escapes "?" and "#" in the path, which SQLite would read as the start of options
        uri = f"{Path(path).absolute().as_uri()}?mode=ro" if readonly else str(path)
        self._db = sqlite3.connect(uri, uri=readonly, check_same_thread=False)
        try:
            if readonly:
                self._db.execute("SELECT count(*) FROM articles").fetchone()
            else:
                self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._db.close()  # the exception's traceback would keep it open until the next garbage collection
            raise CorruptIndexError(f"{path} is not a readable index catalog ({exc}); rebuild with `qa index --rebuild`") from exc

    def close(self) -> None:
        self._db.close()

    # --- writing -------------------------------------------------------------------------------

    @_guarded
    def content_hashes(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT doc_id, content_hash FROM articles"))

    @_guarded
    def delete_articles(self, doc_ids: Iterable[str]) -> tuple[list[int], list[int]]:
        """Remove articles; return the ids of their sentences and passages."""
        sentence_ids: list[int] = []
        passage_ids: list[int] = []
        with self._db:
            for doc_id in doc_ids:
                sentence_ids += [r[0] for r in self._db.execute("SELECT id FROM sentences WHERE doc_id=?", (doc_id,))]
                passage_ids += [r[0] for r in self._db.execute("SELECT id FROM passages WHERE doc_id=?", (doc_id,))]
                for table in ("sentences", "passages", "articles"):
                    self._db.execute(f"DELETE FROM {table} WHERE doc_id=?", (doc_id,))
        return sentence_ids, passage_ids

    @_guarded
    def insert_articles(self, items: Sequence[NewArticle]) -> tuple[list[int], list[int]]:
        """Add articles; return the new sentence ids (in order) and passage ids."""
        next_sentence = self._next_id("sentences")
        next_passage = self._next_id("passages")
        sentence_ids: list[int] = []
        passage_ids: list[int] = []
        with self._db:
            for item in items:
                a = item.article
                self._db.execute(
                    "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?)",
                    (a.doc_id, item.content_hash, a.title, a.text, a.source, a.date, a.url, json.dumps(a.authors), a.path),
                )
                rows: list[tuple[object, ...]] = []
                for idx, (start, end) in enumerate(item.sentence_spans):
                    rows.append((next_sentence, a.doc_id, idx, start, end, a.text[start:end]))
                    sentence_ids.append(next_sentence)
                    next_sentence += 1
                self._db.executemany("INSERT INTO sentences VALUES (?,?,?,?,?,?)", rows)
                rows = []
                for idx, ((first, last), tokens) in enumerate(zip(item.passage_windows, item.passage_tokens)):
                    start, end = item.sentence_spans[first][0], item.sentence_spans[last][1]
                    rows.append((next_passage, a.doc_id, idx, first, last, start, end, " ".join(tokens)))
                    passage_ids.append(next_passage)
                    next_passage += 1
                self._db.executemany("INSERT INTO passages VALUES (?,?,?,?,?,?,?,?)", rows)
        return sentence_ids, passage_ids

    @_guarded
    def passage_tokens(self) -> tuple[list[int], list[list[str]]]:
        """Every passage id with its cached BM25 tokens, so BM25 is rebuilt without re-tokenizing."""
        ids: list[int] = []
        tokens: list[list[str]] = []
        for pid, joined in self._db.execute("SELECT id, tokens FROM passages ORDER BY id"):
            ids.append(pid)
            tokens.append(joined.split())
        return ids, tokens

    @_guarded
    def copy_to(self, target: Path) -> Catalog:
        """Copy this catalog into a new file (the next generation) and open the copy for writing."""
        dest = sqlite3.connect(target)
        try:
            with dest:
                self._db.backup(dest)
        finally:
            dest.close()
        return Catalog(target)

    def _next_id(self, table: str) -> int:
        (top,) = self._db.execute(f"SELECT coalesce(max(id), -1) FROM {table}").fetchone()
        return int(top) + 1

    # --- reading -------------------------------------------------------------------------------

    @_guarded
    def counts(self) -> tuple[int, int, int]:
        """Number of articles, passages and sentences."""
        return tuple(
            self._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "passages", "sentences")
        )

    @_guarded
    def article(self, doc_id: str) -> Article | None:
        row = self._db.execute(
            "SELECT doc_id, title, text, source, date, url, authors, path FROM articles WHERE doc_id=?", (doc_id,)
        ).fetchone()
        if row is None:
            return None
        return Article(
            doc_id=row[0], title=row[1], text=row[2], source=row[3], date=row[4], url=row[5],
            authors=json.loads(row[6]), path=row[7],
        )

    @_guarded
    def article_list(self) -> list[ArticleInfo]:
        """Every article without its text, by date then id (undated last)."""
        rows = self._db.execute(
            "SELECT doc_id, title, source, date, url, authors, path, length(text) FROM articles "
            "ORDER BY date IS NULL, date, doc_id"
        )
        return [ArticleInfo(doc_id=r[0], title=r[1], source=r[2], date=r[3], url=r[4], authors=json.loads(r[5]),
                            path=r[6], chars=r[7]) for r in rows]

    @_guarded
    def sentences(self, doc_id: str) -> list[Sentence]:
        """The sentences of one article, in order."""
        rows = self._db.execute("SELECT idx, start, end, text FROM sentences WHERE doc_id=? ORDER BY idx", (doc_id,))
        return [Sentence(doc_id=doc_id, index=r[0], start=r[1], end=r[2], text=r[3]) for r in rows]

    @_guarded
    def article_meta(self, doc_ids: Iterable[str]) -> dict[str, dict[str, str | None]]:
        """Title, source, date, url and path of each article, without its text."""
        ids = list(set(doc_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            f"SELECT doc_id, title, source, date, url, path FROM articles WHERE doc_id IN ({marks})", ids
        )
        return {r[0]: {"title": r[1], "source": r[2], "date": r[3], "url": r[4], "path": r[5]} for r in rows}

    @_guarded
    def filter_rows(self) -> tuple[list[tuple[str, str | None, str | None, str]], list[tuple[str, int]], list[tuple[str, int]]]:
        """What a filter reads: (doc_id, source, date, path) of every article, and (doc_id, id) of every
        passage and sentence."""
        articles = list(self._db.execute("SELECT doc_id, source, date, path FROM articles"))
        passages = list(self._db.execute("SELECT doc_id, id FROM passages"))
        sentences = list(self._db.execute("SELECT doc_id, id FROM sentences"))
        return articles, passages, sentences

    @_guarded
    def passages(self, ids: Sequence[int]) -> dict[int, Passage]:
        """Passages by id, with their text and title."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            f"""SELECT p.id, p.doc_id, a.title, substr(a.text, p.start + 1, p.end - p.start),
                       p.start, p.end, p.first_sentence, p.last_sentence
                FROM passages p JOIN articles a ON a.doc_id = p.doc_id WHERE p.id IN ({marks})""",
            list(ids),
        )
        return {
            r[0]: Passage(
                passage_id=f"{r[1]}#{r[0]}", doc_id=r[1], title=r[2], text=r[3], start=r[4], end=r[5],
                first_sentence=r[6], last_sentence=r[7],
            )
            for r in rows
        }

    @_guarded
    def passage_sentences(self, passage_ids: Sequence[int]) -> dict[int, list[tuple[int, Sentence]]]:
        """For each passage id, its sentences as (sentence id, Sentence), in article order."""
        if not passage_ids:
            return {}
        marks = ",".join("?" * len(passage_ids))
        rows = self._db.execute(
            f"""SELECT p.id, s.id, s.doc_id, s.idx, s.start, s.end, s.text
                FROM passages p JOIN sentences s
                  ON s.doc_id = p.doc_id AND s.idx BETWEEN p.first_sentence AND p.last_sentence
                WHERE p.id IN ({marks}) ORDER BY p.id, s.idx""",
            list(passage_ids),
        )
        out: dict[int, list[tuple[int, Sentence]]] = {}
        for pid, sid, doc_id, idx, start, end, text in rows:
            out.setdefault(pid, []).append(
                (sid, Sentence(doc_id=doc_id, index=idx, start=start, end=end, text=text))
            )
        return out

    @_guarded
    def title_keys(self, passage_ids: Sequence[int]) -> dict[int, int]:
        """For each passage id, the key of its article's title vector: the id of the article's first sentence."""
        if not passage_ids:
            return {}
        marks = ",".join("?" * len(passage_ids))
        rows = self._db.execute(
            f"""SELECT p.id, s.id FROM passages p JOIN sentences s ON s.doc_id = p.doc_id AND s.idx = 0
                WHERE p.id IN ({marks})""",
            list(passage_ids),
        )
        return dict(rows)

    @_guarded
    def passages_of_sentences(self, sentence_ids: Sequence[int]) -> dict[int, list[int]]:
        """The ids of the passages holding each sentence (one, or two where windows overlap)."""
        if not sentence_ids:
            return {}
        marks = ",".join("?" * len(sentence_ids))
        rows = self._db.execute(
            f"""SELECT s.id, p.id FROM sentences s JOIN passages p
                  ON p.doc_id = s.doc_id AND s.idx BETWEEN p.first_sentence AND p.last_sentence
                WHERE s.id IN ({marks})""",
            list(sentence_ids),
        )
        out: dict[int, list[int]] = {}
        for sid, pid in rows:
            out.setdefault(sid, []).append(pid)
        return out
