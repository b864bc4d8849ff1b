"""The index on Milvus, read through pymilvus' MilvusClient: the same calls reach Milvus Lite and a cluster.

One generation is three collections, `PREFIX_gNNNNNN_articles`, `_sentences` and `_passages`; the alias
`PREFIX` names the passages collection of the current one, and a full rebuild fills new collections and
moves the alias last (qa.stores.milvus_build). A passage row holds its text, its terms as qa's tokenizer
gives them (so Milvus' BM25 function ranks the same terms on Lite and on a cluster, whatever analyzers
each ships) and the normalised mean of its sentences' vectors; `ranked` fuses the BM25 and the dense
ranking with `hybrid_search` and `RRFRanker(60)`: by rank only, as Lite's BM25 scores differ from a
cluster's.

Every sentence and passage row carries its article's content hash, and a reader keeps only rows whose
hash is the one of the article row: an incremental build writes an article's new rows first, its article
row (the switch) next, and deletes the old rows last, so a reader sees either version of an article
whole, never half of one, wherever a build is killed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.errors import CorruptIndexError, IndexLockedError, IndexNotFoundError, IndexStoreError, IndexVersionError
from qa.filters import Filter, article_date
from qa.fusion import DENSE_DEPTH, LEXICAL_DEPTH, RRF_K, Ranked
from qa.lexical import tokenize
from qa.models import Article, ArticleInfo, Passage, Sentence
from qa.question import without_wh_phrase

if TYPE_CHECKING:
    from pymilvus import MilvusClient

SCHEMA_VERSION = "1"
DEFAULT_PREFIX = "qa"
STATS_TTL = 1.0  # seconds between two checks that no build has written the store since its idf was counted
TEXT_CHUNK = 16_000  # characters of article text per row: at most 64,000 bytes of UTF-8, under VARCHAR's 65,535
_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")
_GENERATION = re.compile(r"_(g\d{6})_passages$")
ARTICLE_FIELDS = ["doc_id", "part", "parts", "chars", "content_hash", "title", "source", "date", "url", "authors", "path"]
PASSAGE_FIELDS = ["doc_id", "content_hash", "idx", "first", "last", "start", "end", "title", "text"]
SENTENCE_FIELDS = ["doc_id", "content_hash", "idx", "start", "end", "text"]


class _NoLiteTimestampWarning(logging.Filter):
    """pymilvus' query iterator warns on every read of Milvus Lite, which has no server timestamp to give,
    and then reads as of the client's clock, which is what qa wants: the line only cluttered each
    `qa ask` and build. Every other pymilvus warning still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "failed to get mvccTs" not in record.getMessage()


logging.getLogger("pymilvus.client.iterator.query_iterator").addFilter(_NoLiteTimestampWarning())


@dataclass(frozen=True)
class Location:
    """Where a Milvus store lives, parsed from `milvus-lite:PATH.db` or `milvus://HOST:PORT[/PREFIX]`."""

    uri: str  # what MilvusClient connects to
    prefix: str
    model_cache: Path  # where this machine keeps the ONNX export of the embedding model
    text: str

    @classmethod
    def parse(cls, location: str) -> Location:
        if location.startswith("milvus-lite:"):
            path = Path(location.removeprefix("milvus-lite:")).expanduser()
            if path.suffix != ".db":
                raise IndexStoreError(f"{location}: a Milvus Lite store is a file ending in .db, e.g. milvus-lite:index.db")
            return cls(str(path.resolve()), DEFAULT_PREFIX, _model_cache(), location)
        rest = location.removeprefix("milvus://")
        address, _, prefix = rest.partition("/")
        prefix = prefix.strip("/") or DEFAULT_PREFIX
        if not address or not _PREFIX.match(prefix):
            raise IndexStoreError(
                f"{location}: expected milvus://HOST:PORT[/PREFIX], PREFIX of letters, digits and underscores"
            )
        return cls(f"http://{address}", prefix, _model_cache(), location)

    def collections(self, generation: str) -> dict[str, str]:
        return {kind: f"{self.prefix}_{generation}_{kind}" for kind in ("articles", "sentences", "passages")}


def _model_cache() -> Path:
    """Where this machine keeps ONNX exports of the embedding model for Milvus stores, one folder per model."""
    return Path(os.environ.get("QA_MODEL_CACHE") or Path.home() / ".cache" / "qa").expanduser()


_clients: dict[str, tuple[MilvusClient, int]] = {}
_clients_lock = threading.Lock()


def client_for(location: Location) -> MilvusClient:
    """The process's MilvusClient for a store, shared by every QA and build in it; `release` it when done.

    Milvus Lite lets one process open a data file, once: the last release closes it, so that another
    process (a `qa index` beside a `qa serve`) may open it.

    Raises:
        IndexStoreError: Milvus cannot be reached, or pymilvus is not installed.
    """
    with _clients_lock:
        client, users = _clients.get(location.uri, (None, 0))
        if client is None:
            try:
                from pymilvus import MilvusClient
            except ImportError as exc:
                raise IndexStoreError("a Milvus store needs pymilvus: pip install 'qa[milvus]'") from exc
            if not location.uri.startswith("http"):
                client = _open_lite(location, MilvusClient)
            else:
                with translated(location):
                    client = MilvusClient(uri=location.uri, token=os.environ.get("MILVUS_TOKEN", ""))
        _clients[location.uri] = (client, users + 1)
        return client


def _open_lite(location: Location, client_class: type[MilvusClient]) -> MilvusClient:
    from pymilvus.exceptions import MilvusException

    # milvus-lite logs its own traceback when the file is locked; the error below says what to do instead
    quiet = logging.getLogger("milvus_lite.server_manager")
    disabled, quiet.disabled = quiet.disabled, True
    try:
        return client_class(uri=location.uri)
    except MilvusException as exc:
        raise IndexLockedError(
            f"{location.text} could not be opened; another process may have it open (Milvus Lite opens a file "
            "in one process at a time): serve it with `milvus-lite server --data-dir FILE --host 127.0.0.1` and "
            "point every qa at milvus://127.0.0.1:19530"
        ) from exc
    finally:
        quiet.disabled = disabled


def release(location: Location) -> None:
    """Give back a client from `client_for`; the last user closes it."""
    with _clients_lock:
        client, users = _clients.get(location.uri, (None, 0))
        if client is None:
            return
        if users > 1:
            _clients[location.uri] = (client, users - 1)
            return
        del _clients[location.uri]
    client.close()
    if not location.uri.startswith("http"):  # Milvus Lite serves the file from a thread until told to stop
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(location.uri)


@contextmanager
def translated(location: Location) -> Iterator[None]:
    """Milvus' exceptions as qa's: a store that cannot be read is an IndexStoreError naming it."""
    from pymilvus.exceptions import MilvusException

    try:
        yield
    except MilvusException as exc:
        raise IndexStoreError(f"Milvus at {location.text}: {exc.message if hasattr(exc, 'message') else exc}") from exc


def current_generation(client: MilvusClient, location: Location) -> str | None:
    """The generation the alias names, or None before the first build."""
    if location.prefix not in client.list_aliases().get("aliases", []):
        return None
    match = _GENERATION.search(client.describe_alias(location.prefix)["collection_name"])
    return match.group(1) if match else None


def properties(client: MilvusClient, collection: str) -> dict[str, str]:
    """The qa.* properties a build stores on a generation's passages collection."""
    return {k: v for k, v in (client.describe_collection(collection).get("properties") or {}).items()
            if k.startswith("qa.")}


def expr(template: str, *values: str | int | list[str]) -> str:
    """A Milvus filter with values as literals: strings quoted and escaped as JSON, lists as JSON arrays.

    Milvus Lite does not take `filter_params` in every call, so values are written into the expression.
    """
    return template.format(*(json.dumps(v) for v in values))


def row_id(doc_id: str, content_hash: str, kind: str, idx: int) -> int:
    """A stable positive int64 id for the idx-th sentence or passage of one version of an article."""
    digest = hashlib.blake2b(f"{doc_id}\0{content_hash}\0{kind}\0{idx}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


def article_key(doc_id: str, content_hash: str, part: int) -> str:
    """The primary key of an article row: part 0 has one per article (each version replaces it: the switch),
    later parts of its text one per version."""
    return f"{doc_id}#" + (f"{content_hash}#{part}" if part else "")


def all_rows(client: MilvusClient, collection: str, filter: str, fields: list[str]) -> list[dict[str, Any]]:
    """Every row a filter matches, read in batches (a plain query stops at 16,384)."""
    rows: list[dict[str, Any]] = []
    iterator = client.query_iterator(collection, batch_size=1000, filter=filter, output_fields=fields)
    try:
        while batch := iterator.next():
            rows += batch
    finally:
        iterator.close()
    return rows


def lucene_idf(df: int, n: int) -> float:
    """The idf bm25s computes for its default (Lucene) variant, which the embedded index uses."""
    from bm25s.scoring import _select_idf_scorer

    return float(_select_idf_scorer("lucene")(max(df, 1), N=n))


class MilvusStore:
    """The current generation of a Milvus store, opened for reading; safe to share between threads."""

    def __init__(self, location: Location, client: MilvusClient, generation: str, props: dict[str, str]) -> None:
        self._where = location
        self._client = client
        self.location = location.text
        self.generation = generation
        self.model_name = props["qa.model_name"]
        self.model_fingerprint = props["qa.model_fingerprint"]
        self.model_dir = location.model_cache / f"model-{self.model_fingerprint}"
        self.built_at = int(props.get("qa.written", "0")) / 1e9
        self._names = location.collections(generation)
        self.vocabulary = None  # not kept on Milvus yet: questions are asked as typed
        self._closed = False
        self._df: dict[str, int] = {}
        self._stats_written: str | None = None
        self._stats_checked = -STATS_TTL
        self._stats_lock = threading.Lock()
        self._rows: list[dict[str, Any]] | None = None
        self._rows_written: str | None = None
        self._newest: tuple[list[dict[str, Any]], str | None] | None = None

    @classmethod
    def open(cls, text: str) -> MilvusStore:
        """Open the store's current generation, exporting the embedding model to this machine if needed.

        Raises:
            IndexNotFoundError: nothing has been built at this location yet.
            IndexVersionError: it was built by another qa, or with a model other than the installed one.
            IndexStoreError: Milvus cannot be reached.
        """
        location = Location.parse(text)
        client = client_for(location)
        try:
            return cls._opened(location, client)
        except BaseException:
            release(location)
            raise

    @classmethod
    def _opened(cls, location: Location, client: MilvusClient) -> MilvusStore:
        from qa import store
        from qa.embedding import export_model, exported_fingerprint, model_fingerprint

        text = location.text
        with translated(location):
            generation = current_generation(client, location)
            if generation is None:
                raise IndexNotFoundError(f"nothing indexed in {text} yet: build it with `qa index CORPUS --store {text}`")
            names = location.collections(generation)
            missing = [n for n in names.values() if not client.has_collection(n)]
            if missing:
                raise CorruptIndexError(f"{text} names generation {generation} but lacks {missing}; "
                                        f"run `qa index --rebuild --store {text}`")
            props = properties(client, names["passages"])
            for name in names.values():
                client.load_collection(name)
        if props.get("qa.schema") != SCHEMA_VERSION or props.get("qa.pipeline_version") != store.PIPELINE_VERSION:
            raise IndexVersionError(f"{text} was built by another version of qa; run `qa index --rebuild --store {text}`")
        self = cls(location, client, generation, props)
        if self.model_fingerprint != model_fingerprint():
            raise IndexVersionError(f"{text} was embedded with another model than the installed one; "
                                    f"run `qa index --rebuild --store {text}`")
        if exported_fingerprint(self.model_dir) != self.model_fingerprint:
            export_model(self.model_dir)
        return self

    # --- what the answer path reads -------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with translated(self._where):
            return {
                "articles": self._count("articles", "part == 0"),
                "passages": self._count("passages"),
                "sentences": self._count("sentences"),
            }

    def latest_generation(self) -> str | None:
        try:
            with translated(self._where):
                return current_generation(self._client, self._where)
        except IndexStoreError:
            return None

    def ranked(self, question: str, vector: np.ndarray, k: int, within: Filter | None = None) -> list[Ranked]:
        from pymilvus import AnnSearchRequest, RRFRanker

        # A filter is a filter expression on both searches: Milvus ranks only the admitted articles' passages.
        only = None
        if within is not None:
            admitted = [r["doc_id"] for r in self._article_rows() if within.admits(r["source"], r["date"], r["path"])]
            if not admitted:
                return []
            only = expr("doc_id in {}", admitted)
        terms = tokenize([without_wh_phrase(question)])[0]
        requests = [AnnSearchRequest(data=[np.asarray(vector, dtype=np.float32).tolist()], anns_field="dense",
                                     param={"metric_type": "IP"}, limit=DENSE_DEPTH, expr=only)]
        if terms:
            requests.insert(0, AnnSearchRequest(data=[" ".join(terms)], anns_field="sparse",
                                                param={"metric_type": "BM25"}, limit=LEXICAL_DEPTH, expr=only))
        with translated(self._where):
            hits = self._client.hybrid_search(
                self._names["passages"], requests, RRFRanker(RRF_K), limit=min(k + 20, DENSE_DEPTH),
                output_fields=["doc_id", "content_hash"],
            )[0]
            current = self._hashes({h["entity"]["doc_id"] for h in hits})
        visible = [h for h in hits if current.get(h["entity"]["doc_id"]) == h["entity"]["content_hash"]]
        return [Ranked(passage_id=int(h["id"]), score=float(h["distance"])) for h in visible[:k]]

    def cooccurrence(self, candidates: Sequence[str], context: Sequence[str]) -> list[int]:
        return [0] * len(candidates)  # no vocabulary is kept on Milvus, so nothing asks

    def newest_date(self) -> str | None:
        rows = self._article_rows()  # every ask reads it: counted again only when the rows are read again
        with self._stats_lock:
            if self._newest is not None and self._newest[0] is rows:
                return self._newest[1]
        dates = [d for r in rows if (d := article_date(r["date"])) is not None]
        newest = max(dates).isoformat() if dates else None
        with self._stats_lock:
            self._newest = (rows, newest)
        return newest

    def _article_rows(self) -> list[dict[str, Any]]:
        """doc_id, source, date and path of every article, what a filter reads; kept until a build next
        writes the store, as the idf counts are."""
        with translated(self._where):
            written = properties(self._client, self._names["passages"]).get("qa.written")
            with self._stats_lock:
                if self._rows_written == written and self._rows is not None:
                    return self._rows
            rows = all_rows(self._client, self._names["articles"], "part == 0", ["doc_id", "source", "date", "path"])
        with self._stats_lock:
            self._rows, self._rows_written = rows, written
        return rows

    def passages(self, ids: Sequence[int]) -> dict[int, Passage]:
        rows = self._visible(self._get("passages", ids, PASSAGE_FIELDS))
        return {
            int(r["id"]): Passage(
                passage_id=f"{r['doc_id']}#{r['id']}", doc_id=r["doc_id"], title=r["title"], text=r["text"],
                start=r["start"], end=r["end"], first_sentence=r["first"], last_sentence=r["last"],
            )
            for r in rows
        }

    def passage_sentences(self, passage_ids: Sequence[int]) -> dict[int, list[tuple[int, Sentence]]]:
        passages = self._visible(self._get("passages", passage_ids, ["doc_id", "content_hash", "first", "last"]))
        if not passages:
            return {}
        wanted = {int(p["id"]): [row_id(p["doc_id"], p["content_hash"], "s", i) for i in range(p["first"], p["last"] + 1)]
                  for p in passages}
        rows = {int(r["id"]): r for r in self._get("sentences", sorted({i for ids in wanted.values() for i in ids}),
                                                   ["id", *SENTENCE_FIELDS])}
        return {
            pid: [(sid, Sentence(doc_id=r["doc_id"], index=r["idx"], start=r["start"], end=r["end"], text=r["text"]))
                  for sid in ids if (r := rows.get(sid)) is not None]
            for pid, ids in wanted.items()
        }

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        wanted = [int(i) for i in np.asarray(ids).reshape(-1)]
        rows = {int(r["id"]): r["dense"] for r in self._get("sentences", wanted, ["dense"])}
        missing = [i for i in wanted if i not in rows]
        if missing:
            raise KeyError(missing[0])
        return np.asarray([rows[i] for i in wanted], dtype=np.float32).reshape(len(wanted), -1)

    def idf(self, terms: Sequence[str]) -> list[float]:
        # Document frequencies are TEXT_MATCH counts, kept until a build next writes the store (it stamps the
        # passages collection's qa.written): Milvus Lite scans every row per count, 70 ms at 14k passages.
        with translated(self._where):
            now = time.monotonic()
            if now - self._stats_checked > STATS_TTL:
                written = properties(self._client, self._names["passages"]).get("qa.written")
                with self._stats_lock:
                    if written != self._stats_written:
                        self._stats_written, self._df = written, {}
                    self._stats_checked = now
            missing = [t for t in dict.fromkeys(["\0passages", *terms]) if t not in self._df]
            counted = {t: self._count("passages", "" if t == "\0passages" else f'TEXT_MATCH(tokens, "{t}")')
                       for t in missing}
            with self._stats_lock:
                self._df.update(counted)
                df = dict(self._df)
        return [lucene_idf(df[t], df["\0passages"]) for t in terms]

    def article_meta(self, doc_ids: Iterable[str]) -> dict[str, dict[str, str | None]]:
        rows = self._heads(set(doc_ids))
        return {d: {"title": r["title"], "source": r["source"] or None, "date": r["date"] or None,
                    "url": r["url"] or None, "path": r["path"]} for d, r in rows.items()}

    def article(self, doc_id: str) -> Article | None:
        head = self._heads({doc_id}, with_text=True).get(doc_id)
        if head is None:
            return None
        keys = [article_key(doc_id, head["content_hash"], part) for part in range(1, head["parts"])]
        with translated(self._where):
            rest = self._client.get(self._names["articles"], ids=keys, output_fields=["part", "text"]) if keys else []
        if len(rest) != len(keys):
            return None  # cannot happen while the parts of a version are written before its part 0
        parts = [head["text"]] + [r["text"] for r in sorted(rest, key=lambda r: r["part"])]
        return Article(
            doc_id=doc_id, title=head["title"], text="".join(parts), source=head["source"] or None,
            date=head["date"] or None, url=head["url"] or None, authors=json.loads(head["authors"]), path=head["path"],
        )

    def article_list(self) -> list[ArticleInfo]:
        with translated(self._where):
            rows = all_rows(self._client, self._names["articles"], "part == 0", ARTICLE_FIELDS)
        infos = [ArticleInfo(doc_id=r["doc_id"], title=r["title"], source=r["source"] or None, date=r["date"] or None,
                             url=r["url"] or None, authors=json.loads(r["authors"]), path=r["path"], chars=r["chars"])
                 for r in rows]
        return sorted(infos, key=lambda a: (a.date is None, a.date or "", a.doc_id))

    def sentences(self, doc_id: str) -> list[Sentence]:
        head = self._heads({doc_id}).get(doc_id)
        if head is None:
            return []
        with translated(self._where):
            rows = self._client.query(self._names["sentences"],
                                      filter=expr("doc_id == {} and content_hash == {}", doc_id, head["content_hash"]),
                                      output_fields=SENTENCE_FIELDS)
        return [Sentence(doc_id=doc_id, index=r["idx"], start=r["start"], end=r["end"], text=r["text"])
                for r in sorted(rows, key=lambda r: r["idx"])]

    def content_hashes(self) -> dict[str, str]:
        with translated(self._where):
            rows = all_rows(self._client, self._names["articles"], "part == 0", ["doc_id", "content_hash"])
        return {r["doc_id"]: r["content_hash"] for r in rows}

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release(self._where)

    # --- helpers --------------------------------------------------------------------------------

    def _count(self, kind: str, filter: str = "") -> int:
        rows = self._client.query(self._names[kind], filter=filter, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def _get(self, kind: str, ids: Sequence[int], fields: list[str]) -> list[dict[str, Any]]:
        if not len(ids):
            return []
        with translated(self._where):
            return self._client.get(self._names[kind], ids=[int(i) for i in ids], output_fields=fields)

    def _hashes(self, doc_ids: set[str]) -> dict[str, str]:
        return {d: r["content_hash"] for d, r in self._heads(doc_ids).items()}

    def _visible(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        current = self._hashes({r["doc_id"] for r in rows})
        return [r for r in rows if current.get(r["doc_id"]) == r["content_hash"]]

    def _heads(self, doc_ids: set[str], with_text: bool = False) -> dict[str, dict[str, Any]]:
        """The part-0 row of each article (metadata, content hash, first part of the text), by primary key."""
        if not doc_ids:
            return {}
        with translated(self._where):
            rows = self._client.get(self._names["articles"], ids=[article_key(d, "", 0) for d in sorted(doc_ids)],
                                    output_fields=ARTICLE_FIELDS + (["text"] if with_text else []))
        return {r["doc_id"]: r for r in rows}
