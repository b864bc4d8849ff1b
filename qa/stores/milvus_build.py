"""Build or update an index on Milvus: only new and changed articles are embedded and upserted.

An update writes into the current generation, article by article in an order that keeps every article
whole for readers (qa.stores.milvus): its new sentence and passage rows first (upserts with ids derived
from the article's content hash, so a build that was killed and runs again rewrites the same rows), then
its article rows, the row of part 0 last (the switch), then the deletion of its old rows. A removed
article loses its part-0 row first. A full rebuild (asked for, or another model or qa pipeline) fills
the collections of a new generation, moves the alias to them last, then drops all but the previous
generation, which readers that opened it before the switch may still be reading.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa import store
from qa.catalog import NewArticle
from qa.documents import CorpusScan, scan_corpus
from qa.indexer import prepare_articles
from qa.embedding import DIM, MODEL_NAME, Embedder, export_model, exported_fingerprint, model_fingerprint
from qa.errors import CorpusError
from qa.fusion import title_weight
from qa.models import IndexReport
from qa.stores.milvus import (
    SCHEMA_VERSION, TEXT_CHUNK, Location, all_rows, article_key, client_for, current_generation, expr, properties, release, row_id, translated,
)

if TYPE_CHECKING:
    from pymilvus import MilvusClient

    from qa.indexer import Progress

BATCH = 500  # rows per upsert
KEEP_GENERATIONS = 2  # the current one and the one before, for readers still on it


def build_milvus(
    corpus_dir: str | Path, text: str, *, rebuild: bool = False, progress: Progress | None = None,
    max_article_bytes: int | None = None, csv_columns: dict[str, str] | None = None,
) -> IndexReport:
    """Index a corpus folder into a Milvus store; see `qa.build_index`.

    Raises:
        CorpusError: the folder is missing or holds no readable article.
        IndexStoreError: Milvus cannot be reached or refuses a write.
    """
    started = time.perf_counter()
    corpus_dir = Path(corpus_dir)
    location = Location.parse(text)
    limit = {} if max_article_bytes is None else {"max_article_bytes": max_article_bytes}
    scan = scan_corpus(corpus_dir, csv_columns=csv_columns, **limit)
    if not scan.articles:
        raise CorpusError(f"{corpus_dir} holds no article qa can read")
    fingerprint = model_fingerprint()
    model_dir = location.model_cache / f"model-{fingerprint}"
    if exported_fingerprint(model_dir) != fingerprint:
        export_model(model_dir)
    embedder = Embedder(model_dir, threads=0)
    client = client_for(location)
    try:
        return _build(client, location, scan, embedder, fingerprint, corpus_dir, rebuild, progress, started)
    finally:
        release(location)


def _build(client: MilvusClient, location: Location, scan: CorpusScan, embedder: Embedder, fingerprint: str,
           corpus_dir: Path, rebuild: bool, progress: Progress | None, started: float) -> IndexReport:
    text = location.text
    stages: dict[str, float] = {}
    with translated(location):
        generation = current_generation(client, location)
        reason = "rebuild requested" if rebuild and generation else None
        if generation and not rebuild:
            props = properties(client, location.collections(generation)["passages"])
            if props.get("qa.model_fingerprint") != fingerprint:
                reason = "the embedding model changed since the last build; re-embedding every article"
            elif props.get("qa.schema") != SCHEMA_VERSION or props.get("qa.pipeline_version") != store.PIPELINE_VERSION:
                reason = "the store was built by another version of qa: rebuilding it from scratch"
        fresh = generation is None or reason is not None
        if fresh:
            target = _next_generation(client, location)
            _create(client, location.collections(target), fingerprint)
            old_hashes: dict[str, str] = {}
        else:
            assert generation is not None  # not fresh: there is a current generation
            target = generation
            for name in location.collections(target).values():
                client.load_collection(name)  # a reopened Milvus Lite file starts with its collections released
            old_hashes = {r["doc_id"]: r["content_hash"] for r in all_rows(
                client, location.collections(target)["articles"], "part == 0", ["doc_id", "content_hash"])}
        names = location.collections(target)

        current = {raw.doc_id: raw for raw in scan.articles}
        added = [raw for doc_id, raw in current.items() if doc_id not in old_hashes]
        updated = [raw for doc_id, raw in current.items() if doc_id in old_hashes and old_hashes[doc_id] != raw.content_hash]
        removed = [doc_id for doc_id in old_hashes if doc_id not in current]

        tick = time.perf_counter()
        skipped = list(scan.skipped)
        items = prepare_articles(added + updated, skipped, None)
        if not items and not old_hashes:
            raise CorpusError(f"{corpus_dir} holds no article qa can read ({len(skipped)} skipped)")
        stages["parse_split"] = time.perf_counter() - tick

        tick = time.perf_counter()
        texts = [item.article.text[s:e] for item in items for s, e in item.sentence_spans]
        vectors = embedder.encode(texts, progress=(lambda d, t: progress("embed", d, t)) if progress else None)
        title_vectors = embedder.encode([item.article.title for item in items]) if items else np.empty((0, DIM))
        stages["embed"] = time.perf_counter() - tick

        tick = time.perf_counter()
        written = {item.article.doc_id for item in items}
        failed = {raw.doc_id for raw in updated} - written
        gone = removed + sorted(failed)  # a changed article that no longer reads leaves the index
        for doc_id in gone:  # its article row first: readers stop seeing it at once
            client.delete(names["articles"], filter=expr("doc_id == {}", doc_id))
        _write(client, names, items, vectors, title_vectors, progress, old_rows=not fresh)
        for doc_id in gone:
            for kind in ("sentences", "passages"):
                client.delete(names[kind], filter=expr("doc_id == {}", doc_id))
        for kind in names.values():
            client.flush(kind)
        _stamp(client, names["passages"])
        stages["write"] = time.perf_counter() - tick

        if fresh:
            tick = time.perf_counter()
            _switch(client, location, target)
            stages["publish"] = time.perf_counter() - tick
        counts = {kind: int(client.query(name, filter="part == 0" if kind == "articles" else "",
                                         output_fields=["count(*)"])[0]["count(*)"]) for kind, name in names.items()}

    return IndexReport(
        index_dir=text,
        added=sum(raw.doc_id in written for raw in added),
        updated=sum(raw.doc_id in written for raw in updated),
        removed=len(gone),
        unchanged=len(current) - len(added) - len(updated),
        skipped=skipped,
        articles=counts["articles"], passages=counts["passages"], sentences=counts["sentences"],
        embedded=len(texts),
        full_rebuild=fresh,
        reason=reason,
        seconds=time.perf_counter() - started,
        stage_seconds=stages,
    )


def _write(client: MilvusClient, names: dict[str, str], items: Sequence[NewArticle], vectors: np.ndarray,
           title_vectors: np.ndarray, progress: Progress | None, old_rows: bool) -> None:
    """Write the articles' rows; old_rows: the collections may hold other versions of them, to delete after.

    A passage's vector is the mean of its sentences' plus `title_weight` times its article's title vector,
    renormalised: the embedded index adds the same title similarity to a passage's dense score (qa.fusion).

    A new generation has none, and skipping the deletes matters: each is a filter over the collection,
    which Milvus Lite scans, so a first build of BBC News (2,225 articles) spent its time in them."""
    row = 0
    sentences: list[dict[str, Any]] = []
    passages: list[dict[str, Any]] = []
    pending: list[NewArticle] = []
    switched = [0]  # articles whose new version readers see

    def flush_batch() -> None:
        # rows of a version first, its article rows next (part 0 last: the switch), the old rows' deletion last
        _upsert(client, names["sentences"], sentences)
        _upsert(client, names["passages"], passages)
        for item in pending:
            rows = _article_rows(item)
            if progress:
                progress("write", switched[0], len(items))
            _upsert(client, names["articles"], rows[1:])
            _upsert(client, names["articles"], rows[:1])
            if old_rows:
                for kind in ("sentences", "passages"):
                    client.delete(names[kind], filter=expr("doc_id == {} and content_hash != {}",
                                                           item.article.doc_id, item.content_hash))
                client.delete(names["articles"], filter=expr("doc_id == {} and part > 0 and content_hash != {}",
                                                             item.article.doc_id, item.content_hash))
            switched[0] += 1
        sentences.clear()
        passages.clear()
        pending.clear()

    weight = title_weight()
    for done, item in enumerate(items, 1):
        a, h = item.article, item.content_hash
        title = title_vectors[done - 1]
        first_row = row
        for idx, (start, end) in enumerate(item.sentence_spans):
            sentences.append({"id": row_id(a.doc_id, h, "s", idx), "doc_id": a.doc_id, "content_hash": h, "idx": idx,
                              "start": start, "end": end, "text": a.text[start:end], "dense": vectors[row].tolist()})
            row += 1
        for idx, ((first, last), tokens) in enumerate(zip(item.passage_windows, item.passage_tokens)):
            mean = vectors[first_row + first:first_row + last + 1].mean(axis=0)
            mean /= max(float(np.linalg.norm(mean)), 1e-12)
            mean = mean + weight * title
            mean /= max(float(np.linalg.norm(mean)), 1e-12)
            start, end = item.sentence_spans[first][0], item.sentence_spans[last][1]
            passages.append({
                "id": row_id(a.doc_id, h, "p", idx), "doc_id": a.doc_id, "content_hash": h, "idx": idx,
                "first": first, "last": last, "start": start, "end": end, "title": a.title,
                "text": a.text[start:end], "tokens": " ".join(tokens) or "-", "dense": mean.tolist(),
            })
        pending.append(item)
        if len(sentences) >= BATCH or done == len(items):
            flush_batch()
    if progress:
        progress("write", switched[0], len(items))


def _article_rows(item: NewArticle) -> list[dict[str, Any]]:
    a = item.article
    chunks = [a.text[i:i + TEXT_CHUNK] for i in range(0, len(a.text), TEXT_CHUNK)] or [""]
    return [
        # part 0 has one row per article, replaced by each version (the switch); later parts one per version
        {"key": article_key(a.doc_id, item.content_hash, part), "doc_id": a.doc_id, "part": part,
         "parts": len(chunks), "chars": len(a.text),
         "content_hash": item.content_hash, "title": a.title, "source": a.source or "", "date": a.date or "",
         "url": a.url or "", "authors": json.dumps(a.authors), "path": a.path, "text": chunk, "v": [0.0, 0.0]}
        for part, chunk in enumerate(chunks)
    ]


def _upsert(client: MilvusClient, collection: str, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        client.upsert(collection, rows[start:start + BATCH])


def _next_generation(client: MilvusClient, location: Location) -> str:
    numbers = [int(name[len(location.prefix) + 2:len(location.prefix) + 8])
               for name in client.list_collections() if _owned(name, location)]
    return f"g{max(numbers, default=0) + 1:06d}"


def _owned(name: str, location: Location) -> bool:
    rest = name[len(location.prefix) + 1:]
    return name.startswith(location.prefix + "_g") and len(rest) > 7 and rest[1:7].isdigit() and rest[7] == "_"


def _stamp(client: MilvusClient, passages: str) -> None:
    """Mark the store as written now: readers drop the document frequencies they counted before."""
    client.alter_collection_properties(passages, properties={"qa.written": str(time.time_ns())})


def _switch(client: MilvusClient, location: Location, generation: str) -> None:
    """Point the alias at a new generation (Milvus' atomic switch), then drop the generations before the last."""
    passages = location.collections(generation)["passages"]
    if location.prefix in client.list_aliases().get("aliases", []):
        client.alter_alias(passages, location.prefix)
    else:
        client.create_alias(passages, location.prefix)
    generations = sorted({name[len(location.prefix) + 1:len(location.prefix) + 8]
                          for name in client.list_collections() if _owned(name, location)})
    for old in generations[:-KEEP_GENERATIONS]:
        for name in location.collections(old).values():
            if client.has_collection(name):
                client.drop_collection(name)


def _create(client: MilvusClient, names: dict[str, str], fingerprint: str) -> None:
    """The three collections of a new generation, with their indexes, loaded; passages carry qa's properties."""
    from pymilvus import DataType, Function, FunctionType

    def schema() -> Any:
        return client.create_schema(auto_id=False, enable_dynamic_field=False)

    def text(s: Any, name: str, length: int = 65_535, **kwargs: Any) -> None:
        s.add_field(name, DataType.VARCHAR, max_length=length, **kwargs)

    for name in names.values():
        if client.has_collection(name):  # left by a rebuild that was killed before its switch
            client.drop_collection(name)

    s = schema()
    text(s, "key", 1024, is_primary=True)
    text(s, "doc_id", 512)
    s.add_field("part", DataType.INT64)
    s.add_field("parts", DataType.INT64)
    s.add_field("chars", DataType.INT64)
    for field in ("content_hash", "title", "source", "date", "url", "authors", "path", "text"):
        text(s, field)
    s.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector in every collection
    index = client.prepare_index_params()
    index.add_index(field_name="v", index_type="FLAT", metric_type="L2")
    client.create_collection(names["articles"], schema=s, index_params=index, consistency_level="Strong")

    s = schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    text(s, "doc_id", 512)
    text(s, "content_hash", 128)
    for field in ("idx", "start", "end"):
        s.add_field(field, DataType.INT64)
    text(s, "text")
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=DIM)
    index = client.prepare_index_params()
    index.add_index(field_name="dense", index_type="FLAT", metric_type="IP")
    client.create_collection(names["sentences"], schema=s, index_params=index, consistency_level="Strong")

    s = schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    text(s, "doc_id", 512)
    text(s, "content_hash", 128)
    for field in ("idx", "first", "last", "start", "end"):
        s.add_field(field, DataType.INT64)
    text(s, "title")
    text(s, "text")
    # qa's own terms, space-separated: the standard tokenizer splits them back as they are
    text(s, "tokens", enable_analyzer=True, enable_match=True, analyzer_params={"tokenizer": "standard"})
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=DIM)
    s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["tokens"],
                            output_field_names=["sparse"]))
    index = client.prepare_index_params()
    # the BM25 of the embedded index (bm25s, Lucene variant), set rather than left to each Milvus's defaults
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"bm25_k1": 1.5, "bm25_b": 0.75})
    index.add_index(field_name="dense", index_type="FLAT", metric_type="IP")
    client.create_collection(
        names["passages"], schema=s, index_params=index, consistency_level="Strong",
        properties={"qa.schema": SCHEMA_VERSION, "qa.model_name": MODEL_NAME, "qa.model_fingerprint": fingerprint,
                    "qa.pipeline_version": store.PIPELINE_VERSION},
    )

