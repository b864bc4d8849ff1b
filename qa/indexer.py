"""Build or bring up to date the index of a corpus folder: only new and changed articles are embedded."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from qa import store
from qa.catalog import Catalog, NewArticle
from qa.dense import ANN_FROM, DenseIndex
from qa.embedding import DIM, MODEL_NAME, Embedder, export_model, exported_fingerprint, model_fingerprint
from qa.folder import BuildLock, IndexFolder, claim
from qa.documents import MAX_ARTICLE_BYTES, RawArticle, parse_article, scan_corpus
from qa.errors import CorpusError, DocumentError, IndexStoreError
from qa.lexical import LexicalIndex, tokenize
from qa.models import IndexCheck, IndexReport, SkippedFile
from qa.passages import group_passages
from qa.sentences import split_sentences
from qa.spelling import Vocabulary

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total), stage one of BUILD_STAGES."""

_BATCH = 2000  # articles parsed, embedded and written at a time

BUILD_STAGES = {"load": "Reading articles", "embed": "Embedding sentences", "write": "Writing the index"}
"""The stages `progress` reports, with what a face shows for each."""
TIMED_STAGES = ("scan", "model", "parse_split", "embed", "catalog", "faiss", "bm25", "publish")
"""The keys of `IndexReport.stage_seconds` for an index folder, in build order (finer than BUILD_STAGES)."""


def build_index(
    corpus_dir: str | Path,
    index_dir: str | Path = "index",
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    wait: float = 0.0,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    csv_columns: Mapping[str, str] | None = None,
    ann_from: int = ANN_FROM,
) -> IndexReport:
    """Index the articles of a corpus folder, reusing all that is unchanged since the last build.

    Articles are compared by content hash: new and changed ones are split and embedded, removed ones
    leave both indexes, unchanged ones are not touched. The new index is written beside the old one and
    switched to in one step, so a crash at any point leaves the previous index usable. Every file of the
    current index is checked against its checksum first, and whatever is damaged is written again.

    Args:
        corpus_dir: folder of .txt, .md, .html/.htm, .jsonl, .pdf, .docx, .eml, .mbox and .csv articles,
            read recursively.
        index_dir: where the index lives; created if missing. An existing folder must be empty or a qa index.
        rebuild: start from scratch instead of updating.
        progress: called as progress(stage, done, total) during long work.
        wait: seconds to wait for another build of the same index to finish before giving up.
        max_article_bytes: a file (or JSONL line) larger than this is skipped, with the reason.
        csv_columns: the CSV column of each field when a CSV header does not name them id, title, text, ...
        ann_from: sentence vectors from which the written dense index is approximate (IVF) rather than
            exact; `qa.dense.ANN_FROM` by default. Applies when a build writes a generation.

    Returns:
        An IndexReport counting what was added, updated, removed, unchanged, skipped and repaired.

    Raises:
        CorpusError: the folder is missing or holds no readable article.
        IndexStoreError: the index folder holds things that are not a qa index.
        IndexLockedError: another build holds the index.
        ModelUnavailableError: the embedding model is not installed.
    """
    if not isinstance(ann_from, int) or ann_from < 1:
        raise ValueError(f"ann_from must be a whole number of sentences, 1 or more, not {ann_from!r}")
    started = time.perf_counter()
    stages: dict[str, float] = {}
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    lock = BuildLock(index_dir, wait=wait)
    tick = time.perf_counter()
    scan = scan_corpus(corpus_dir, max_article_bytes=max_article_bytes, csv_columns=csv_columns)
    if not scan.articles:
        raise _nothing_readable(corpus_dir, scan.skipped, scan.skipped[0] if scan.skipped else None)
    stages["scan"] = time.perf_counter() - tick
    claim(index_dir)

    with lock, ExitStack() as cleanup:
        tick = time.perf_counter()
        fingerprint = model_fingerprint()
        folder = IndexFolder(index_dir, fingerprint)
        damaged = store.verify(index_dir, folder.manifest) if folder.manifest and folder.manifest.generation else {}
        repaired = [f"{name} ({problem})" for name, problem in damaged.items()]
        if folder.restored:
            repaired.insert(0, f"{store.MANIFEST} (restored from its backup: {folder.restored})")
        embedder, model_files = _model(folder, fingerprint, damaged, rebuild)
        stages["model"] = time.perf_counter() - tick

        previous, reason = (None, "rebuild requested") if rebuild else _open_previous(folder, fingerprint, damaged)
        if previous:
            cleanup.callback(previous[0].close)  # whichever way the build ends
        old_hashes = previous[0].content_hashes() if previous else {}
        current = {raw.doc_id: raw for raw in scan.articles}
        added = [raw for doc_id, raw in current.items() if doc_id not in old_hashes]
        updated = [raw for doc_id, raw in current.items() if doc_id in old_hashes and old_hashes[doc_id] != raw.content_hash]
        removed = [doc_id for doc_id in old_hashes if doc_id not in current]
        unchanged = len(current) - len(added) - len(updated)

        skipped = list(scan.skipped)
        changed = added + updated
        # The lexical index is always rebuilt from the catalog when a generation is written.
        lexical_damaged = any(name.startswith(f"{folder.manifest.generation}/{store.LEXICAL}/") for name in damaged) \
            if previous and folder.manifest else False

        tick = time.perf_counter()
        batches = [changed[start : start + _BATCH] for start in range(0, len(changed), _BATCH)]
        first = prepare_articles(batches[0], skipped, progress, 0, len(changed)) if batches else []
        stages["parse_split"] = time.perf_counter() - tick
        if len(batches) <= 1 and not first and len(skipped) - len(scan.skipped) == len(current):
            raise _nothing_readable(corpus_dir, skipped, skipped[len(scan.skipped)])  # first unreadable article
        # Nothing to write also when the only new articles are unreadable ones, skipped again as at the last build.
        if previous and len(batches) <= 1 and not first and not updated and not removed and not lexical_damaged:
            articles, passages, sentences = previous[0].counts()
            manifest = folder.manifest
            assert manifest is not None and manifest.generation is not None
            if model_files is not None:  # the model was exported again: record its new checksums
                gen_files = {n: f for n, f in manifest.files.items() if n.startswith(f"{manifest.generation}/")}
                folder.update_files(gen_files | model_files)
            return IndexReport(
                index_dir=str(index_dir), added=0, updated=0, removed=0, unchanged=unchanged,
                skipped=skipped, articles=articles, passages=passages, sentences=sentences, embedded=0,
                full_rebuild=False, repaired=repaired, seconds=time.perf_counter() - started, stage_seconds=stages,
            )

        tick = time.perf_counter()
        staging = folder.temp("staging")
        staging.mkdir()
        if previous:
            old_catalog, dense, titles = previous
            catalog = old_catalog.copy_to(staging / store.CATALOG)
        else:
            catalog = Catalog(staging / store.CATALOG)
            dense, titles = DenseIndex.create(), DenseIndex.create()
        cleanup.callback(catalog.close)
        gone = removed + [raw.doc_id for raw in updated]
        vocabulary = _previous_vocabulary(folder, catalog) if previous else Vocabulary({})
        vocabulary = vocabulary.updated(_texts(catalog, gone), [])
        gone_sentences, _ = catalog.delete_articles(gone)
        dense.remove(np.asarray(gone_sentences, dtype=np.int64))
        titles.remove(np.asarray(gone_sentences, dtype=np.int64))  # keyed by each article's first sentence
        stages["catalog"] = time.perf_counter() - tick

        # In batches, so that memory holds one batch of articles, not the corpus: a JSONL of a million
        # records is read, split, embedded and written a few thousand at a time.
        embedded, inserted = 0, set()
        for number, batch in enumerate(batches):
            tick = time.perf_counter()
            items = first if number == 0 else prepare_articles(batch, skipped, progress, number * _BATCH, len(changed))
            stages["parse_split"] += time.perf_counter() - tick
            tick = time.perf_counter()
            texts = [item.article.text[s:e] for item in items for s, e in item.sentence_spans]
            done = embedded
            vectors = embedder.encode(texts, progress=(lambda d, t: progress("embed", done + d, done + t)) if progress else None)
            title_vectors = embedder.encode([item.article.title for item in items]) if items else np.empty((0, DIM))
            stages["embed"] = stages.get("embed", 0.0) + time.perf_counter() - tick
            tick = time.perf_counter()
            new_sentences, _ = catalog.insert_articles(items)
            vocabulary = vocabulary.updated([], (f"{i.article.title}\n{i.article.text}" for i in items))
            dense.add(np.asarray(new_sentences, dtype=np.int64), vectors)
            if items:
                firsts = np.cumsum([0] + [len(item.sentence_spans) for item in items[:-1]])
                titles.add(np.asarray(new_sentences, dtype=np.int64)[firsts], title_vectors)
            stages["catalog"] += time.perf_counter() - tick
            embedded += len(texts)
            inserted |= {item.article.doc_id for item in items}
            first, items, texts = [], [], []  # let the batch go
            vectors = title_vectors = np.empty((0, DIM))
        failed = {raw.doc_id for raw in changed} - inserted
        if len(failed) == len(current):
            catalog.close()
            folder.sweep()  # the staging folder
            raise _nothing_readable(corpus_dir, skipped, skipped[len(scan.skipped)])  # first unreadable article

        tick = time.perf_counter()
        if progress:
            progress("write", 0, 3)
        dense = dense.arranged(ann_from)  # exact below ann_from vectors, IVF from there
        dense.save(staging / store.DENSE)
        titles.save(staging / store.TITLES)
        vocabulary.save(staging / store.VOCABULARY)
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
        generation = store.next_generation_name(index_dir)
        model = store.model_dir(index_dir, fingerprint)
        if model_files is None:  # the model the build started with, whose files it checked: same checksums
            recorded = folder.manifest.files if folder.manifest else {}
            model_files = {n: f for n, f in recorded.items() if n.startswith(f"{model.name}/")}
        manifest = store.Manifest(
            schema_version=store.SCHEMA_VERSION, model_name=MODEL_NAME, model_fingerprint=fingerprint,
            pipeline_version=store.PIPELINE_VERSION, generation=generation, built_at=time.time(),
            articles=articles, passages=passages, sentences=sentences, dense=dense.layout,
            files=store.checksums(staging, generation) | (model_files or store.checksums(model, model.name)),
        )
        folder.publish(staging, manifest)
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
        embedded=embedded,
        full_rebuild=previous is None,
        reason=reason,
        repaired=repaired,
        seconds=time.perf_counter() - started,
        stage_seconds=stages,
    )


def verify_index(index_dir: str | Path = "index") -> IndexCheck:
    """Check every file of an index against the checksum its build recorded, reading all of them.

    Returns:
        An IndexCheck listing the damaged files (empty when the index is whole); `qa index` repairs them.

    Raises:
        IndexNotFoundError: no index in the folder.
        CorruptIndexError, IndexVersionError: the manifest itself cannot be read.
    """
    index_dir = Path(index_dir)
    manifest = store.read_manifest(index_dir)
    problems = store.verify(index_dir, manifest)
    return IndexCheck(
        index_dir=str(index_dir), generation=manifest.generation, files=len(manifest.files),
        bytes=sum(f.size for f in manifest.files.values()),
        damaged=[f"{name}: {problem}" for name, problem in problems.items()],
    )


def prepare_articles(
    raws: list[RawArticle], skipped: list[SkippedFile], progress: Progress | None, offset: int = 0, total: int = 0
) -> list[NewArticle]:
    """Parse, split and tokenize new or changed articles; a bad one is skipped and reported. Every store's
    build (this one, `qa.stores.milvus_build`) prepares articles here, so both index the same sentences."""
    items: list[NewArticle] = []
    total = total or len(raws)
    for done, raw in enumerate(raws, offset + 1):
        notes: list[str] = []
        try:
            article = parse_article(raw, notes)
        except DocumentError as exc:
            skipped.append(SkippedFile(path=raw.path, line=raw.line, reason=str(exc)))
            continue
        skipped += [SkippedFile(path=raw.path, line=raw.line, reason=note) for note in notes]
        spans = split_sentences(article.text)
        if not spans:
            skipped.append(SkippedFile(path=raw.path, line=raw.line, reason="no sentence in the article's text"))
            continue
        windows = group_passages(spans)
        passage_texts = [f"{article.title}\n{article.text[spans[a][0]:spans[b][1]]}" for a, b in windows]
        items.append(NewArticle(article, raw.content_hash, spans, windows, tokenize(passage_texts)))
        if progress and (done % 50 == 0 or done == total):
            progress("load", done, total)
    return items


def _previous_vocabulary(folder: IndexFolder, catalog: Catalog) -> Vocabulary:
    """The current generation's vocabulary; counted from its catalog when it has none (built by an older qa)."""
    manifest = folder.manifest
    assert manifest is not None and manifest.generation is not None
    try:
        found = Vocabulary.load(folder.path / manifest.generation / store.VOCABULARY)
    except IndexStoreError:
        found = None
    return found if found is not None else Vocabulary({}).updated(_texts(catalog, catalog.content_hashes()), [])


def _texts(catalog: Catalog, doc_ids: Iterable[str]) -> Iterator[str]:
    for doc_id in doc_ids:
        article = catalog.article(doc_id)
        if article is not None:
            yield f"{article.title}\n{article.text}"


def _open_previous(
    folder: IndexFolder, fingerprint: str, damaged: dict[str, str]
) -> tuple[tuple[Catalog, DenseIndex, DenseIndex] | None, str | None]:
    """The current generation's catalog, sentence and title vectors to build on, or None and the reason to
    start from scratch."""
    if folder.problem:
        if "format" in folder.problem or "differently" in folder.problem:
            return None, f"{folder.problem}: rebuilding it from scratch"
        return None, f"the previous index could not be read ({folder.problem}); building from scratch"
    manifest = folder.manifest
    if manifest is None or manifest.generation is None:
        return None, None
    if manifest.model_fingerprint != fingerprint:
        return None, "the embedding model changed since the last build; re-embedding every article"
    gen = folder.path / manifest.generation
    for name, problem in damaged.items():
        if name == store.MANIFEST or (name.startswith(f"{manifest.generation}/") and f"/{store.LEXICAL}/" not in name):
            return None, f"{folder.path / name} {problem}; building from scratch"
    try:
        dense = DenseIndex.load(gen / store.DENSE, expected=manifest.sentences, layout=manifest.dense)
        titles = DenseIndex.load(gen / store.TITLES, expected=manifest.articles)
        return (Catalog(gen / store.CATALOG, readonly=True), dense, titles), None
    except IndexStoreError as exc:
        return None, f"the previous index could not be read ({exc}); building from scratch"


def _model(
    folder: IndexFolder, fingerprint: str, damaged: dict[str, str], rebuild: bool
) -> tuple[Embedder, dict[str, store.FileSum] | None]:
    """The index's copy of the model, and its checksums when it had to be exported (None when the one in
    the folder is whole). It is derived from the packaged model, so a damaged one is rewritten, not reported."""
    target = store.model_dir(folder.path, fingerprint)
    if os.path.lexists(target) and not folder.owns(target.name):
        raise IndexStoreError(
            f"{target} is in the index folder but qa did not make it; move it elsewhere and build again"
        )
    recorded = folder.manifest is not None and any(n.startswith(f"{target.name}/") for n in folder.manifest.files)
    whole = not any(n.startswith(f"{target.name}/") for n in damaged)
    # --rebuild re-embeds, it does not export again a model the checksums prove whole: replacing the folder
    # the current generation uses would leave, if killed between two renames, an index without a model.
    if whole and (recorded or not rebuild) and exported_fingerprint(target) == fingerprint:
        try:
            return Embedder(target, threads=0), None  # one session, with every core, for the whole build
        except IndexStoreError:
            pass
    export, trash = folder.temp("export"), folder.temp("trash")
    folder.record(target.name)
    export_model(target, staging=export, trash=trash)
    return Embedder(target, threads=0), store.checksums(target, target.name)


def _nothing_readable(corpus_dir: Path, skipped: list[SkippedFile], first: SkippedFile | None) -> CorpusError:
    if first is None:
        return CorpusError(f"{corpus_dir} holds no article qa can read")
    where = "" if first.reason.startswith(first.path) else f"{first.location}: "
    return CorpusError(f"{corpus_dir} holds no article qa can read ({len(skipped)} skipped; {where}{first.reason})")

