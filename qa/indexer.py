"""Build or bring up to date the index of a corpus folder: only new and changed articles are embedded."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from qa import store
from qa.catalog import Catalog, NewArticle
from qa.dense import DenseIndex
from qa.embedding import MODEL_NAME, Embedder, export_model, exported_fingerprint, model_fingerprint
from qa.documents import RawArticle, parse_article, scan_corpus
from qa.errors import CorpusError, DocumentError, IndexStoreError, IndexVersionError
from qa.lexical import LexicalIndex, tokenize
from qa.models import IndexReport, SkippedFile
from qa.passages import group_passages
from qa.sentences import split_sentences

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total), stage one of BUILD_STAGES."""

BUILD_STAGES = {"load": "Reading articles", "embed": "Embedding sentences", "write": "Writing the index"}


def build_index(
    corpus_dir: str | Path,
    index_dir: str | Path = "index",
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    wait: float = 0.0,
) -> IndexReport:
    """Index the articles of a corpus folder, reusing all that is unchanged since the last build.

    Articles are compared by content hash: new and changed ones are split and embedded, removed ones
    leave both indexes, unchanged ones are not touched. The new index is written beside the old one and
    switched to in one step, so a crash at any point leaves the previous index usable.

    Args:
        corpus_dir: folder of .txt, .md, .html/.htm and .jsonl articles, read recursively.
        index_dir: where the index lives; created if missing.
        rebuild: start from scratch instead of updating.
        progress: called as progress(stage, done, total) during long work.
        wait: seconds to wait for another build of the same index to finish before giving up.

    Returns:
        An IndexReport counting what was added, updated, removed, unchanged and skipped.

    Raises:
        CorpusError: the folder is missing or holds no readable article.
        IndexLockedError: another build holds the index.
        ModelUnavailableError: the embedding model is not installed.
    """
    started = time.perf_counter()
    stages: dict[str, float] = {}
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    tick = time.perf_counter()
    scan = scan_corpus(corpus_dir)
    if not scan.articles:
        raise _nothing_readable(corpus_dir, scan.skipped, scan.skipped[0] if scan.skipped else None)
    stages["scan"] = time.perf_counter() - tick
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexStoreError(f"{index_dir} is a file, not an index folder; pass another --index")
    index_dir.mkdir(parents=True, exist_ok=True)

    with store.BuildLock(index_dir, wait=wait), ExitStack() as cleanup:
        tick = time.perf_counter()
        fingerprint = model_fingerprint()
        embedder = _model(store.model_dir(index_dir, fingerprint), fingerprint, fresh=rebuild)
        stages["model"] = time.perf_counter() - tick

        previous, reason = (None, "rebuild requested") if rebuild else _open_previous(index_dir, fingerprint)
        if previous:
            cleanup.callback(previous[0].close)  # whichever way the build ends
        old_hashes = previous[0].content_hashes() if previous else {}
        current = {raw.doc_id: raw for raw in scan.articles}
        added = [raw for doc_id, raw in current.items() if doc_id not in old_hashes]
        updated = [raw for doc_id, raw in current.items() if doc_id in old_hashes and old_hashes[doc_id] != raw.content_hash]
        removed = [doc_id for doc_id in old_hashes if doc_id not in current]
        unchanged = len(current) - len(added) - len(updated)

        tick = time.perf_counter()
        skipped = list(scan.skipped)
        items = _prepare(added + updated, skipped, progress)
        failed = {raw.doc_id for raw in added + updated} - {item.article.doc_id for item in items}
        if len(failed) == len(current):
            raise _nothing_readable(corpus_dir, skipped, skipped[len(scan.skipped)])  # first unreadable article
        stages["parse_split"] = time.perf_counter() - tick

        # Nothing to write also when the only new articles are unreadable ones, skipped again as at the last build.
        if previous and not items and not updated and not removed:
            articles, passages, sentences = previous[0].counts()
            store.drop_stale(index_dir, store.read_manifest(index_dir))  # e.g. the model folder of an older qa
            return IndexReport(
                index_dir=str(index_dir), added=0, updated=0, removed=0, unchanged=unchanged,
                skipped=skipped, articles=articles, passages=passages, sentences=sentences, embedded=0,
                full_rebuild=False, seconds=time.perf_counter() - started, stage_seconds=stages,
            )

        tick = time.perf_counter()
        texts = [item.article.text[s:e] for item in items for s, e in item.sentence_spans]
        vectors = embedder.encode(texts, progress=(lambda d, t: progress("embed", d, t)) if progress else None)
        stages["embed"] = time.perf_counter() - tick

        tick = time.perf_counter()
        if progress:
            progress("write", 0, 3)
        staging = store.staging_dir(index_dir)
        if previous:
            old_catalog, dense = previous
            catalog = old_catalog.copy_to(staging / store.CATALOG)
        else:
            catalog = Catalog(staging / store.CATALOG)
            dense = DenseIndex.create()
        cleanup.callback(catalog.close)
        gone = removed + [raw.doc_id for raw in updated]
        gone_sentences, _ = catalog.delete_articles(gone)
        new_sentences, _ = catalog.insert_articles(items)
        stages["catalog"] = time.perf_counter() - tick

        tick = time.perf_counter()
        dense.remove(np.asarray(gone_sentences, dtype=np.int64))
        dense.add(np.asarray(new_sentences, dtype=np.int64), vectors)
        dense.save(staging / store.DENSE)
        stages["faiss"] = time.perf_counter() - tick
        if progress:
            progress("write", 1, 3)

        tick = time.perf_counter()
        passage_ids, passage_tokens = catalog.passage_tokens()
        LexicalIndex.build(passage_ids, passage_tokens).save(staging / store.LEXICAL)
        stages["bm25"] = time.perf_counter() - tick
        if progress:
            progress("write", 2, 3)

        tick = time.perf_counter()
        articles, passages, sentences = catalog.counts()
        catalog.close()
        manifest = store.Manifest(
            schema_version=store.SCHEMA_VERSION, model_name=MODEL_NAME, model_fingerprint=fingerprint,
            pipeline_version=store.PIPELINE_VERSION,
            generation=store.next_generation_name(index_dir), built_at=time.time(),
            articles=articles, passages=passages, sentences=sentences,
        )
        store.publish(index_dir, staging, manifest)
        stages["publish"] = time.perf_counter() - tick
        if progress:
            progress("write", 3, 3)

    return IndexReport(
        index_dir=str(index_dir),
        added=sum(raw.doc_id not in failed for raw in added),
        updated=sum(raw.doc_id not in failed for raw in updated),
        # a changed article that can no longer be read leaves the index: it is removed, and listed as skipped
        removed=len(removed) + sum(raw.doc_id in failed for raw in updated),
        unchanged=unchanged,
        skipped=skipped,
        articles=articles,
        passages=passages,
        sentences=sentences,
        embedded=len(texts),
        full_rebuild=previous is None,
        reason=reason,
        seconds=time.perf_counter() - started,
        stage_seconds=stages,
    )


def _prepare(raws: list[RawArticle], skipped: list[SkippedFile], progress: Progress | None) -> list[NewArticle]:
    """Parse, split and tokenize new or changed articles; a bad one is skipped and reported."""
    items: list[NewArticle] = []
    for done, raw in enumerate(raws, 1):
        try:
            article = parse_article(raw)
        except DocumentError as exc:
            skipped.append(SkippedFile(path=raw.path, line=raw.line, reason=str(exc)))
            continue
        spans = split_sentences(article.text)
        if not spans:
            skipped.append(SkippedFile(path=raw.path, line=raw.line, reason="no sentence in the article's text"))
            continue
        windows = group_passages(spans)
        passage_texts = [f"{article.title}\n{article.text[spans[a][0]:spans[b][1]]}" for a, b in windows]
        items.append(NewArticle(article, raw.content_hash, spans, windows, tokenize(passage_texts)))
        if progress and (done % 50 == 0 or done == len(raws)):
            progress("load", done, len(raws))
    return items


def _open_previous(index_dir: Path, fingerprint: str) -> tuple[tuple[Catalog, DenseIndex] | None, str | None]:
    """The current generation's catalog and vectors to build on, or None and the reason to start from scratch."""
    try:
        manifest = store.read_manifest(index_dir)
    except IndexVersionError as exc:
        return None, f"{str(exc).split(';')[0]}: rebuilding it from scratch"
    except IndexStoreError as exc:
        if (index_dir / store.MANIFEST).exists():
            return None, f"the previous index could not be read ({exc}); building from scratch"
        return None, None
    if manifest.model_fingerprint != fingerprint:
        return None, "the embedding model changed since the last build; re-embedding every article"
    try:
        gen = store.generation_dir(index_dir, manifest)
        dense = DenseIndex.load(gen / store.DENSE, expected=manifest.sentences)
        return (Catalog(gen / store.CATALOG, readonly=True), dense), None
    except IndexStoreError as exc:
        return None, f"the previous index could not be read ({exc}); building from scratch"


def _model(model_dir: Path, fingerprint: str, fresh: bool) -> Embedder:
    """The index's copy of the model, exported again when asked to, when it is another model's, or when it
    does not load: it is derived from the packaged model, so a damaged one is rewritten, not reported."""
    if not fresh and exported_fingerprint(model_dir) == fingerprint:
        try:
            return Embedder(model_dir, threads=0)  # one session, with every core, for the whole build
        except IndexStoreError:
            pass
    export_model(model_dir)
    return Embedder(model_dir, threads=0)


def _nothing_readable(corpus_dir: Path, skipped: list[SkippedFile], first: SkippedFile | None) -> CorpusError:
    if first is None:
        return CorpusError(f"{corpus_dir} holds no article qa can read")
    where = "" if first.reason.startswith(first.path) else f"{first.location}: "
    return CorpusError(f"{corpus_dir} holds no article qa can read ({len(skipped)} skipped; {where}{first.reason})")

