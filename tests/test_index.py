"""Building and updating an index: incremental, atomic, and clear about bad input."""

from __future__ import annotations

import json
import pickle
import sqlite3
import os
import shutil
from contextlib import closing
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import qa
from qa import store
from qa.embedding import MODEL_CACHE_ENV


def _search_docs(bot: qa.QA, question: str) -> set[str]:
    return {p.doc_id for p in bot.search(question, k=20)}


def test_first_build_indexes_every_article(corpus_dir: Path, tmp_path: Path):
    report = qa.build_index(corpus_dir, tmp_path / "index")

    assert report.full_rebuild
    assert (report.added, report.updated, report.removed, report.unchanged) == (5, 0, 0, 0)
    assert report.articles == 5 and report.sentences > 50 and report.passages > 10
    assert report.embedded == report.sentences
    assert not report.skipped


def test_a_build_copies_the_model_export_kept_in_the_model_cache(corpus_dir: Path, tmp_path: Path):
    qa.build_index(corpus_dir, tmp_path / "index")

    model = store.model_dir(tmp_path / "index")
    kept = Path(os.environ[MODEL_CACHE_ENV]) / model.name  # filled by the run's first build (tests/conftest.py)
    assert {p.name: p.read_bytes() for p in model.iterdir()} == {p.name: p.read_bytes() for p in kept.iterdir()}


def test_rebuild_with_no_change_embeds_nothing(default_index: Path, corpus_dir: Path):
    report = qa.build_index(corpus_dir, default_index)

    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 5)
    assert report.embedded == 0


def test_adding_an_article_embeds_only_it(small_corpus: Path, index_copy: Path):
    index = index_copy
    (small_corpus / "new.txt").write_text(
        "Glaciers in the Alps shrink\n\nThe Rhone glacier lost 4 percent of its volume in 2022. "
        "Swiss scientists measured the loss with drones.\n",
        encoding="utf-8",
    )

    report = qa.build_index(small_corpus, index)

    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 0, 0, 5)
    assert report.embedded == 2
    with qa.open_index(index) as bot:
        assert "new" in _search_docs(bot, "Rhone glacier volume")


def test_changing_an_article_re_embeds_it(small_corpus: Path, index_copy: Path):
    index = index_copy
    path = small_corpus / "004_fd5b037eee5d7828.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Kim Jog Un", "Kim Jong Un"), encoding="utf-8")

    report = qa.build_index(small_corpus, index)

    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    with qa.open_index(index) as bot:
        assert report.embedded == len(_sentences_of(bot, "004_fd5b037eee5d7828"))
        assert "Kim Jong Un" in bot.article("004_fd5b037eee5d7828").text


def test_deleting_an_article_removes_it_from_both_indexes(small_corpus: Path, index_copy: Path):
    index = index_copy
    first = store.read_manifest(index)
    with qa.open_index(index) as bot:
        assert "000_404809e14ec4b5ef" in _search_docs(bot, "Rui Zhao Zaporizhia")
        gone = len(_sentences_of(bot, "000_404809e14ec4b5ef"))
    (small_corpus / "000_404809e14ec4b5ef.txt").unlink()

    report = qa.build_index(small_corpus, index)

    assert (report.added, report.updated, report.removed) == (0, 0, 1)
    with qa.open_index(index) as bot:
        assert "000_404809e14ec4b5ef" not in _search_docs(bot, "Rui Zhao Zaporizhia")
        assert report.sentences == first.sentences - gone  # its vectors left FAISS (open_index checks the count)
        with pytest.raises(KeyError):
            bot.article("000_404809e14ec4b5ef")


def test_an_unreadable_article_does_not_make_every_build_rewrite_the_index(small_corpus: Path, tmp_path: Path):
    index = tmp_path / "index"
    (small_corpus / "blank.txt").write_text("  \n\n", encoding="utf-8")
    first = qa.build_index(small_corpus, index)
    generation = store.read_manifest(index).generation

    again = qa.build_index(small_corpus, index)

    assert [s.path for s in first.skipped] == [s.path for s in again.skipped] == ["blank.txt"]
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, first.articles)
    assert again.embedded == 0
    assert store.read_manifest(index).generation == generation


def test_every_index_file_parses_as_its_declared_format_and_none_is_a_pickle(default_index: Path):
    import faiss
    import onnx

    def sqlite(path: Path) -> None:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    def text(path: Path) -> None:
        path.read_text(encoding="utf-8")

    parsers = {
        ".json": lambda path: json.loads(path.read_text(encoding="utf-8")),
        ".npy": lambda path: np.load(path, allow_pickle=False),  # refuses an object array, which is a pickle
        ".faiss": lambda path: faiss.read_index(str(path)),
        ".sqlite": sqlite,
        ".onnx": lambda path: onnx.checker.check_model(onnx.load(str(path))),
        ".txt": text,
        ".lock": text,
    }
    files = [path for path in default_index.rglob("*") if path.is_file()]
    assert {".json", ".npy", ".faiss", ".sqlite", ".onnx"} <= {path.suffix for path in files}
    for path in files:
        kind = path.suffix or path.name  # .lock has no suffix
        assert kind in parsers, f"{path}: a file of a format this test does not know; add its parser"
        parsers[kind](path)
        # no pickle of any protocol: 2 and later start with PROTO, 0 and 1 are bare opcodes ending in STOP
        with pytest.raises(Exception):  # noqa: B017 - whatever unpickling raises, it must not load
            pickle.loads(path.read_bytes(), encoding="bytes")


def test_killed_build_leaves_the_old_index_usable(tmp_path: Path, corpus_dir: Path):
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_dir, corpus)
    index = tmp_path / "index"
    qa.build_index(corpus, index)
    before = store.read_manifest(index).generation
    _write_many_articles(corpus / "more.jsonl", corpus_dir, n=12)

    _kill_while_embedding(f"from qa.cli import main; main(['index', {str(corpus)!r}, '--index', {str(index)!r}])")

    assert store.read_manifest(index).generation == before, "the build was killed after it had published"
    with qa.open_index(index) as bot:
        assert bot.counts["articles"] == 5
        answer = bot.ask("how many Chinese nationals did Zelensky claim?")
        assert answer.found and "155" in answer.sentence
    report = qa.build_index(corpus, index)
    assert report.added == 12, report.summary()
    assert not list(index.glob(".staging-*")), "the killed build's staging folder is cleaned up"


def test_a_build_killed_while_a_new_model_re_embeds_leaves_the_old_index_usable(tmp_path: Path, corpus_dir: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_many_articles(corpus / "many.jsonl", corpus_dir, n=12)
    index = tmp_path / "index"
    qa.build_index(corpus, index)
    before = store.read_manifest(index)

    # A new export recipe changes the model's fingerprint, as a new model package would: every article is
    # embedded again, and the build is killed while it does so. The new recipe's graph is the old one, so the
    # child takes it from the run's model cache under its new name instead of exporting it through torch.
    _kill_while_embedding(
        "import os, shutil, qa.embedding as e; e.EXPORT_VERSION = 'next'\n"
        f"old, new = [os.path.join(os.environ[e.MODEL_CACHE_ENV], 'model-' + fp) for fp in ({before.model_fingerprint!r}, e.model_fingerprint())]\n"
        "shutil.copytree(old, new, dirs_exist_ok=True)\n"
        "open(os.path.join(new, e.FINGERPRINT_FILE), 'w').write(e.model_fingerprint())\n"
        f"from qa.cli import main; main(['index', {str(corpus)!r}, '--index', {str(index)!r}])"
    )

    after = store.read_manifest(index)
    assert (after.generation, after.model_fingerprint, after.files) == (before.generation, before.model_fingerprint, before.files)
    assert len(list(index.glob(f"{store.MODEL_DIR}-*"))) == 2, "the new model was exported beside the old one"
    with qa.open_index(index) as bot:
        assert bot.search("Generated 7", k=1)


def _kill_while_embedding(script: str) -> None:
    """Run a build in another Python process that dies with SIGKILL once it has embedded its first batch."""
    die = (
        "import os, signal, qa.embedding\n"
        "encode = qa.embedding.Embedder.encode\n"
        "def encode_then_die(self, texts, *args, **kwargs):\n"
        "    encode(self, texts[:32], *args, **kwargs)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "qa.embedding.Embedder.encode = encode_then_die\n"
    )
    build = subprocess.run([sys.executable, "-c", die + script], capture_output=True, text=True, timeout=300)
    assert build.returncode == -signal.SIGKILL, f"the build ended before it could be killed: {build.stderr[-2000:]}"


def test_a_second_build_at_once_fails_clearly(default_index: Path, corpus_dir: Path):
    from qa.folder import BuildLock

    with BuildLock(default_index):
        with pytest.raises(qa.IndexLockedError, match="being built by process"):
            qa.build_index(corpus_dir, default_index)


def test_missing_corpus_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(qa.CorpusError, match="nowhere"):
        qa.build_index(tmp_path / "nowhere", tmp_path / "index")


def test_empty_corpus_is_a_clear_error(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(qa.CorpusError, match="no article"):
        qa.build_index(tmp_path / "empty", tmp_path / "index")


def test_a_corpus_of_only_unreadable_files_is_a_clear_error(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "garbage.txt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "corpus" / "notes.docx").write_bytes(b"PK")

    with pytest.raises(qa.CorpusError, match=r"no article qa can read \(2 skipped; garbage.txt"):
        qa.build_index(tmp_path / "corpus", tmp_path / "index")


def test_bad_files_are_skipped_and_reported(small_corpus: Path, tmp_path: Path):
    (small_corpus / "scan.pdf").write_bytes(b"%PDF-1.4 binary")
    (small_corpus / "garbage.txt").write_bytes(bytes(range(256)) * 8)
    (small_corpus / "feed.jsonl").write_text(
        json.dumps({"id": "ok-1", "title": "Fine", "text": "A fine article about ports. It has two sentences."})
        + "\n{not json\n",
        encoding="utf-8",
    )

    report = qa.build_index(small_corpus, tmp_path / "index")

    reasons = {(s.path, s.line): s.reason for s in report.skipped}
    assert any(path == "scan.pdf" for path, _ in reasons)
    assert any(path == "garbage.txt" for path, _ in reasons)
    assert ("feed.jsonl", 2) in reasons
    assert report.added == 5 + 1, "the five articles and the good JSONL record"


def test_opening_a_missing_index_says_how_to_build_one(tmp_path: Path):
    with pytest.raises(qa.IndexNotFoundError, match="qa index"):
        qa.open_index(tmp_path / "nothing")


def test_a_truncated_index_file_is_reported(default_index: Path, tmp_path: Path):
    broken = tmp_path / "broken"
    shutil.copytree(default_index, broken)
    manifest = store.read_manifest(broken)
    faiss_file = broken / manifest.generation / store.DENSE
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])

    with pytest.raises(qa.CorruptIndexError, match="sentences.faiss"):
        qa.open_index(broken)


def test_the_next_build_repairs_a_damaged_copy_of_the_model(default_index: Path, corpus_dir: Path, tmp_path: Path):
    broken = tmp_path / "broken"
    shutil.copytree(default_index, broken)
    onnx = store.model_dir(broken) / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[:1000])
    with pytest.raises(qa.CorruptIndexError, match="model.onnx"):
        qa.open_index(broken)

    report = qa.build_index(corpus_dir, broken)

    assert report.embedded == 0  # the vectors were fine: only the model copy is written again
    with qa.open_index(broken) as bot:
        assert bot.ask("how many Chinese nationals did Zelensky claim?").found


def test_the_next_build_repairs_vectors_that_do_not_match_the_sentences(
    default_index: Path, corpus_dir: Path, tmp_path: Path
):
    from qa.dense import DenseIndex

    broken = tmp_path / "broken"
    shutil.copytree(default_index, broken)
    DenseIndex.create().save(broken / store.read_manifest(broken).generation / store.DENSE)  # a valid file, no vectors
    with pytest.raises(qa.CorruptIndexError, match="sentences.faiss has 90 bytes, the build wrote"):
        qa.open_index(broken)

    report = qa.build_index(corpus_dir, broken)

    assert report.full_rebuild and "sentences.faiss has 90 bytes" in (report.reason or "")
    with qa.open_index(broken) as bot:
        assert bot.ask("how many Chinese nationals did Zelensky claim?").found


@pytest.fixture
def old_schema_index(default_index: Path, tmp_path: Path) -> Path:
    """A copy of the default index whose manifest says an older qa wrote it."""
    old = tmp_path / "old"
    shutil.copytree(default_index, old)
    raw = json.loads((old / store.MANIFEST).read_text())
    raw["schema_version"] = 0
    (old / store.MANIFEST).write_text(json.dumps(raw))
    return old


def test_an_index_of_another_schema_version_is_refused(old_schema_index: Path):
    with pytest.raises(qa.IndexVersionError, match="--rebuild"):
        qa.open_index(old_schema_index)


def test_a_schema_change_forces_a_full_rebuild(old_schema_index: Path, corpus_dir: Path):
    report = qa.build_index(corpus_dir, old_schema_index)

    assert report.full_rebuild and "format" in (report.reason or "")
    assert report.embedded == report.sentences


def _sentences_of(bot: qa.QA, doc_id: str) -> list[str]:
    from qa.sentences import split_sentences

    text = bot.article(doc_id).text
    return [text[s:e] for s, e in split_sentences(text)]


def _write_many_articles(path: Path, corpus_dir: Path, n: int) -> None:
    """n distinct articles made by rotating the default corpus's sentences: enough work to kill midway."""
    from qa.documents import parse_article, scan_corpus
    from qa.sentences import split_sentences

    sentences = []
    for raw in scan_corpus(corpus_dir).articles:
        text = parse_article(raw).text
        sentences += [text[s:e] for s, e in split_sentences(text)]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            body = " ".join(sentences[(i + j) % len(sentences)] for j in range(12)) + f" Item {i}."
            f.write(json.dumps({"id": f"gen-{i}", "title": f"Generated {i}", "text": body}) + "\n")
