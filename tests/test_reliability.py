"""qa never touches what it did not write, never stops a build for one bad article, and repairs what it reports.

Each test is one failure of issue 11 made small: a hostile index folder, a damaged index file, a bad corpus entry.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import qa
from qa import store
from qa.cli import main

if TYPE_CHECKING:
    from tests.conftest import FirstBuild

QUESTION = "how many Chinese nationals did Zelensky claim?"


def _answers(index: Path) -> bool:
    with qa.open_index(index) as bot:
        answer = bot.ask(QUESTION)
        return answer.found and "155" in (answer.sentence or "")


def _gen(index: Path) -> Path:
    return index / store.read_manifest(index).generation


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# --- 1. qa deletes only what it can prove it wrote ------------------------------------------------------


def test_a_folder_that_is_not_a_qa_index_is_refused_and_left_untouched(corpus_dir: Path, tmp_path: Path):
    folder = tmp_path / "P"
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "weights.bin").write_text("w")

    with pytest.raises(qa.IndexStoreError, match="not empty and is not a qa index"):
        qa.build_index(corpus_dir, folder)

    assert _snapshot(folder) == {"model/weights.bin": b"w"} and sorted(os.listdir(folder)) == ["model"]


def test_an_empty_index_path_means_the_current_folder_and_is_refused_there(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")

    with pytest.raises(qa.IndexStoreError, match="not a qa index"):
        qa.build_index(corpus_dir, "")

    assert os.listdir(tmp_path) == ["notes.txt"]


def test_folders_qa_did_not_make_survive_every_build(small_corpus: Path, index_copy: Path, tmp_path: Path):
    index = index_copy  # as a build of small_corpus left it
    theirs = {"model/weights.bin": b"w", "gen-000000/notes.txt": b"n", "model-00000000000000aa/x": b"x"}
    for name, data in theirs.items():
        (index / name).parent.mkdir()
        (index / name).write_bytes(data)

    for n in range(2):  # two publishes: each drops what qa no longer uses
        (small_corpus / f"extra-{n}.txt").write_text(f"Extra story {n}\n\nThe ferry left at {n} o'clock.\n")
        qa.build_index(small_corpus, index)
    qa.build_index(small_corpus, index, rebuild=True)

    assert {k: v for k, v in _snapshot(index).items() if k in theirs} == theirs
    assert _answers(index)


# --- 2. nothing is written through a link -----------------------------------------------------------------


@pytest.mark.parametrize("link", ["symbolic", "hard"])
def test_a_lock_file_that_points_elsewhere_is_refused_not_truncated(
    index_copy: Path, corpus_dir: Path, tmp_path: Path, link: str
):
    victim = tmp_path / "x"
    victim.write_text("precious")
    (index_copy / ".lock").unlink()
    if link == "symbolic":
        (index_copy / ".lock").symlink_to(victim)
    else:
        os.link(victim, index_copy / ".lock")

    with pytest.raises(qa.IndexStoreError, match=r"\.lock is (a symbolic link|a hard link)"):
        qa.build_index(corpus_dir, index_copy)

    assert victim.read_text() == "precious"


def test_a_link_at_the_manifests_temporary_name_is_replaced_not_written_through(
    small_corpus: Path, index_copy: Path, tmp_path: Path
):
    index = index_copy  # as a build of small_corpus left it
    victim = tmp_path / "x"
    victim.write_text("precious")
    (index / ".manifest.json.tmp").symlink_to(victim)
    (small_corpus / "extra.txt").write_text("Extra story\n\nThe ferry left at noon.\n")

    qa.build_index(small_corpus, index)

    assert victim.read_text() == "precious" and _answers(index)


# --- 3. the manifest never leads outside the index folder -------------------------------------------------


@pytest.mark.parametrize("field,value", [
    ("generation", "../other/gen-000001"),
    ("generation", "/tmp/gen-000001"),
    ("model_fingerprint", "x/../../outside_model"),
    ("files", {"../../outside/catalog.sqlite": {"size": 1, "sha256": "0" * 64}}),
])
def test_a_manifest_naming_anything_outside_the_folder_is_refused(index_copy: Path, field: str, value: object):
    raw = json.loads((index_copy / store.MANIFEST).read_text())
    raw[field] = value
    (index_copy / store.MANIFEST).write_text(json.dumps(raw))

    with pytest.raises(qa.CorruptIndexError, match="manifest.json is not a valid manifest"):
        qa.open_index(index_copy)


def test_a_generation_that_is_a_link_to_another_index_is_refused(index_copy: Path, default_index: Path):
    generation = _gen(index_copy)
    shutil.rmtree(generation)
    generation.symlink_to(_gen(default_index))

    with pytest.raises(qa.CorruptIndexError, match="symbolic link"):
        qa.open_index(index_copy)


# --- 4. one bad record is one skipped article -------------------------------------------------------------


def test_a_record_with_a_lone_surrogate_is_skipped_and_the_rest_indexed(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "feed.jsonl").write_text(
        '{"id":"x","text":"Broken \\ud83d emoji. More."}\n'
        '{"id":"y","title":"Ports","text":"The port of Rotterdam handled more ships. It grew again."}\n'
        '{"id":"z","title":"Bad \\udc00 title","text":"Fine text here. Two sentences."}\n',
        encoding="utf-8",
    )

    report = qa.build_index(corpus, tmp_path / "index")

    assert report.added == 1
    assert [(s.line, "lone surrogate" in s.reason) for s in report.skipped] == [(1, True), (3, True)]


def test_a_file_name_that_is_not_utf8_is_skipped_with_a_reason(small_corpus: Path, tmp_path: Path):
    with open(os.fsencode(small_corpus) + b"/bad\xff.txt", "wb") as f:
        f.write(b"T\n\nSome text.\n")

    report = qa.build_index(small_corpus, tmp_path / "index")

    assert report.added == 5
    assert [(s.path, "not valid UTF-8" in s.reason) for s in report.skipped] == [("bad\ufffd.txt", True)]
    report.summary().encode("utf-8")  # printable


# --- 5. corpus entries that would hang or swallow memory ---------------------------------------------------


def test_entries_that_are_not_regular_files_or_too_large_are_skipped(small_corpus: Path, tmp_path: Path):
    os.mkfifo(small_corpus / "pipe.txt")
    (small_corpus / "zero.txt").symlink_to("/dev/zero")
    (small_corpus / "huge.txt").write_text("Huge\n\n" + "A sentence about ports. " * 3000)
    (small_corpus / "feed.jsonl").write_text(
        json.dumps({"id": "big", "text": "Long. " * 3000}) + "\n"
        + json.dumps({"id": "ok", "title": "Small", "text": "A small story. It fits."}) + "\n"
    )

    report = qa.build_index(small_corpus, tmp_path / "index", max_article_bytes=10_000)

    reasons = {s.location: s.reason for s in report.skipped}
    assert "named pipe" in reasons["pipe.txt"] and "character device" in reasons["zero.txt"]
    assert "more than the 10,000" in reasons["huge.txt"] and "more than the 10,000" in reasons["feed.jsonl:1"]
    assert report.added == 5 + 1


def test_a_build_in_batches_gives_the_same_index(corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import qa.indexer

    monkeypatch.setattr(qa.indexer, "_BATCH", 2)  # five articles: three batches

    report = qa.build_index(corpus_dir, tmp_path / "index")

    assert (report.added, report.articles, report.embedded) == (5, 5, report.sentences)
    assert _answers(tmp_path / "index")


def test_a_jsonl_file_changed_between_scan_and_parse_is_skipped_not_misread(tmp_path: Path):
    from qa.documents import parse_article, scan_corpus

    (tmp_path / "feed.jsonl").write_text(json.dumps({"id": "a", "text": "First text. Yes."}) + "\n")
    raw = scan_corpus(tmp_path).articles[0]
    (tmp_path / "feed.jsonl").write_text(json.dumps({"id": "a", "text": "Other text. No."}) + "\n")

    with pytest.raises(qa.DocumentError, match="changed while qa was indexing"):
        parse_article(raw)


# --- 6, 7. damaged files are reported, never answered from, and repaired -----------------------------------


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    for i in (offset, offset + 1):
        data[i % len(data)] ^= 0xFF
    path.write_bytes(bytes(data))


# One damage per file here; bench/scale/faults.py tries every file with every damage.
@pytest.mark.parametrize("name,damage", [
    ("sentences.faiss", "flip"), ("catalog.sqlite", "zero page"), ("bm25/ids.npy", "empty"),
    ("bm25/vocab.index.json", "flip"),
])
def test_a_damaged_generation_file_is_named_at_open_and_repaired_by_the_next_build(
    index_copy: Path, corpus_dir: Path, name: str, damage: str
):
    path = _gen(index_copy) / name
    if damage == "flip":
        _flip(path, path.stat().st_size // 2)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        data = bytearray(path.read_bytes())
        data[4096 * 2:4096 * 3] = bytes(len(data[4096 * 2:4096 * 3])) or b"\0"
        path.write_bytes(bytes(data))

    with pytest.raises(qa.CorruptIndexError, match=name):
        qa.open_index(index_copy)
    assert any(name in problem for problem in qa.verify_index(index_copy).damaged)

    report = qa.build_index(corpus_dir, index_copy)

    assert any(name in repaired for repaired in report.repaired)
    assert report.embedded == (0 if name.startswith("bm25/") else report.sentences)  # BM25 is rebuilt from the catalog
    assert qa.verify_index(index_copy).ok and _answers(index_copy)


@pytest.mark.parametrize("name,damage", [
    ("model.onnx", lambda p: _flip(p, p.stat().st_size // 2)),
    ("fingerprint.txt", lambda p: p.write_bytes(b"\xff\xfe\x00")),
    ("tokenizer.json", lambda p: p.write_bytes(b"")),
])
def test_a_damaged_model_file_is_named_at_open_and_exported_again(index_copy: Path, corpus_dir: Path, name, damage):
    damage(store.model_dir(index_copy) / name)

    with pytest.raises(qa.CorruptIndexError, match=name):
        qa.open_index(index_copy)

    report = qa.build_index(corpus_dir, index_copy)

    assert report.embedded == 0 and any(name in repaired for repaired in report.repaired)
    assert qa.verify_index(index_copy).ok and _answers(index_copy)


@pytest.mark.parametrize("damage", [b"", b"{", b"[" * 100_000])
def test_a_damaged_manifest_is_named_and_restored_from_its_backup(index_copy: Path, corpus_dir: Path, damage: bytes):
    (index_copy / store.MANIFEST).write_bytes(damage)

    with pytest.raises(qa.CorruptIndexError, match="manifest.json"):
        qa.open_index(index_copy)

    report = qa.build_index(corpus_dir, index_copy)

    assert report.embedded == 0 and "restored from its backup" in report.repaired[0]
    assert qa.verify_index(index_copy).ok and _answers(index_copy)


def test_a_deleted_manifest_is_restored_from_its_backup(index_copy: Path, corpus_dir: Path):
    (index_copy / store.MANIFEST).unlink()

    report = qa.build_index(corpus_dir, index_copy)

    assert report.embedded == 0 and "manifest.json is missing" in report.repaired[0]
    assert _answers(index_copy)


def test_qa_index_verify_reads_every_file_and_exits_2_on_damage(
    index_copy: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["index", "--verify", "--index", str(index_copy)]) == 0
    assert "all as the build wrote them" in capsys.readouterr().out

    _flip(_gen(index_copy) / store.DENSE, 200)

    assert main(["index", "--verify", "--index", str(index_copy)]) == 2  # a problem with the index
    assert "sentences.faiss" in capsys.readouterr().err


def test_a_damaged_catalog_page_is_a_corrupt_index_error_at_query_time(index_copy: Path):
    from qa.catalog import Catalog

    path = _gen(index_copy) / store.CATALOG
    with sqlite3.connect(path) as db:  # the page of the sentences table, whatever its number
        (page,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name='sentences'").fetchone()
    data = bytearray(path.read_bytes())
    data[(page - 1) * 4096:page * 4096] = bytes(4096)
    path.write_bytes(bytes(data))

    catalog = Catalog(path, readonly=True)
    with pytest.raises(qa.CorruptIndexError, match="catalog.sqlite is damaged"):
        catalog.passage_sentences([0, 1, 2])
    catalog.close()


# --- 8. asks while a build publishes ------------------------------------------------------------------------


def test_the_previous_generation_is_kept_for_readers_still_opening_it(small_corpus: Path, index_copy: Path, tmp_path: Path):
    index = index_copy  # as a build of small_corpus left it
    generations = [store.read_manifest(index).generation]
    for n in range(2):
        (small_corpus / f"extra-{n}.txt").write_text(f"Extra story {n}\n\nThe ferry left at {n} o'clock.\n")
        qa.build_index(small_corpus, index)
        generations.append(store.read_manifest(index).generation)

    assert sorted(p.name for p in index.glob("gen-*")) == generations[1:]
    assert store.read_manifest(index).previous == generations[1]


# --- 9. a killed build leaves nothing behind once the next one ran ------------------------------------------


def test_a_build_killed_between_the_model_renames_leaves_no_leftovers_after_the_next_build(
    index_copy: Path, corpus_dir: Path
):
    _flip(store.model_dir(index_copy) / "model.onnx", 5000)  # the build must export the model again
    # The child dies at the second rename of the model swap, as a SIGKILL at that instant would leave it.
    script = (
        "import os, signal\n"
        "real = os.replace\n"
        "def replace(src, dst):\n"
        "    if os.path.basename(str(src)).startswith('.export-'):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return real(src, dst)\n"
        "os.replace = replace\n"
        f"import qa; qa.build_index({str(corpus_dir)!r}, {str(index_copy)!r})\n"
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=600)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert [p.name for p in index_copy.iterdir() if p.name.startswith((".export-", ".trash-"))]

    qa.build_index(corpus_dir, index_copy)

    names = sorted(p.name for p in index_copy.iterdir())
    assert [n for n in names if n.startswith(".") and n not in (".lock", store.BACKUP)] == [], names
    assert _answers(index_copy)


# --- 11. nothing is written outside the index folder --------------------------------------------------------


def test_a_build_and_an_ask_write_nothing_outside_the_index(first_build: FirstBuild):
    # The run's first build (tests/conftest.py) exported the model and asked, with an empty HOME and TMPDIR.
    assert first_build.answered
    assert first_build.written_outside == []


# --- 12. smaller ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"schema_version": 2, "articles": ' + "9" * 100_000 + "}"])
def test_a_hostile_manifest_is_a_corrupt_index_not_a_traceback(index_copy: Path, text: str):
    (index_copy / store.MANIFEST).write_text(text)

    with pytest.raises(qa.CorruptIndexError, match="manifest.json"):
        qa.open_index(index_copy)


@pytest.mark.parametrize("name,value", [
    ("vocab.index.json", 10**9),
    ("vocab.index.json", "0"),
    ("params.index.json", {"k1": "nan"}),
    ("params.index.json", {"method": "../../x"}),
])
def test_crafted_bm25_values_are_a_corrupt_index(default_index: Path, tmp_path: Path, name: str, value: object):
    from qa.lexical import LexicalIndex

    folder = tmp_path / "bm25"
    shutil.copytree(_gen(default_index) / store.LEXICAL, folder)
    raw = json.loads((folder / name).read_text())
    raw.update(value if isinstance(value, dict) else {next(iter(raw)): value})  # a term's column
    (folder / name).write_text(json.dumps(raw))

    with pytest.raises(qa.CorruptIndexError, match=name):
        LexicalIndex.load(folder)


def test_a_jsonl_id_never_displaces_a_file_of_the_same_name(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_text(json.dumps({"id": "b001", "title": "Feed", "text": "From the feed. Yes."}) + "\n")
    (corpus / "b001.txt").write_text("The harbour story\n\nFrom the file. Yes.\n")

    report = qa.build_index(corpus, tmp_path / "index")

    assert report.added == 2 and not report.skipped
    with qa.open_index(tmp_path / "index") as bot:
        assert bot.article("b001").title == "The harbour story" and bot.article("a/b001").title == "Feed"


def test_a_folder_deeper_than_path_max_is_skipped_with_a_reason(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ok.txt").write_text("Ok\n\nA fine story. It is short.\n")
    fd = os.open(corpus, os.O_RDONLY)
    for _ in range(30):  # 30 x 200 characters: past PATH_MAX (4096) below the corpus
        os.mkdir("d" * 200, dir_fd=fd)
        fd, old = os.open("d" * 200, os.O_RDONLY, dir_fd=fd), fd
        os.close(old)
    os.close(os.open("deep.txt", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    os.close(fd)

    from qa.documents import scan_corpus

    scan = scan_corpus(corpus)

    assert [raw.path for raw in scan.articles] == ["ok.txt"]
    assert scan.skipped and "too long" in scan.skipped[0].reason.lower()


def test_wait_must_be_a_number_of_seconds(corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        main(["index", str(corpus_dir), "--index", str(tmp_path / "i"), "--wait", "nan"])
    assert "not a number of seconds" in capsys.readouterr().err
    with pytest.raises(ValueError, match="wait"):
        qa.build_index(corpus_dir, tmp_path / "i", wait=float("nan"))
