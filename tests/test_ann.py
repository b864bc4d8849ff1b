"""The dense index past its switch: IVF against numpy brute force, and an index built over the switch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import qa
from qa import store
from qa.dense import DenseIndex, DenseLayout, ivf_lists
from qa.embedding import DIM
from qa.errors import CorruptIndexError

ZELENSKY = "how many Chinese nationals did Zelensky claim?"


@pytest.fixture(scope="module")
def clustered() -> tuple[np.ndarray, np.ndarray]:
    """4,000 unit vectors in 40 clusters, as sentence vectors cluster by topic, under scattered int64 ids."""
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(40, DIM))
    vectors = centres[rng.integers(0, 40, 4000)] + 0.6 * rng.normal(size=(4000, DIM))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    return rng.choice(10**12, size=4000, replace=False).astype(np.int64), vectors


def _brute_force(ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(queries @ vectors.T), axis=1)[:, :k]]


def _queries(vectors: np.ndarray, n: int = 50) -> np.ndarray:
    rng = np.random.default_rng(9)
    mixed = vectors[rng.integers(0, len(vectors), n)] + vectors[rng.integers(0, len(vectors), n)]
    return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


def test_past_the_switch_the_index_is_ivf_and_finds_what_brute_force_finds(clustered) -> None:
    ids, vectors = clustered
    exact = DenseIndex.create()
    exact.add(ids, vectors)

    ivf = exact.arranged(ann_from=1000)

    assert exact.layout == DenseLayout(kind="flat") and exact.arranged(ann_from=5000) is exact
    assert ivf.layout == DenseLayout(kind="ivf", nlist=ivf_lists(4000), nprobe=16) and len(ivf) == 4000
    queries = _queries(vectors)
    expected = _brute_force(ids, vectors, queries, 10)
    found = ivf.search(queries, 10)[1]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, expected)])
    assert recall >= 0.95
    np.testing.assert_allclose(ivf.vectors(ids[[7, 0, 3999]]), vectors[[7, 0, 3999]])


def test_an_ivf_index_removes_adds_and_round_trips_through_a_file(clustered, tmp_path: Path) -> None:
    ids, vectors = clustered
    flat = DenseIndex.create()
    flat.add(ids, vectors)
    flat.arranged(ann_from=1000).save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss", expected=4000, layout=DenseLayout(kind="ivf", nlist=64, nprobe=16))
    assert ivf_lists(4000) == 64
    gone = ids[::4]

    assert loaded.remove(np.append(gone, 7)) == len(gone)  # 7 was never stored
    loaded.add(np.array([11, 12], dtype=np.int64), vectors[:2])
    loaded.save(tmp_path / "dense.faiss")

    again = DenseIndex.load(tmp_path / "dense.faiss", expected=4000 - len(gone) + 2)
    found = again.search(vectors[:40], k=5)[1]
    assert not np.isin(found, gone).any()
    assert found[0, 0] == 11 and 12 in found[1, :2]  # the copies of vectors 0 and 1 find themselves
    with pytest.raises(ValueError):
        again.add(ids[1:2], vectors[1:2])  # still present
    with pytest.raises(KeyError):
        again.vectors(gone[:1])
    # Below the switch again, the same vectors become an exact index.
    back = again.arranged(ann_from=10_000)
    assert back.layout.kind == "flat" and len(back) == len(again)
    np.testing.assert_array_equal(back.search(vectors[2:7], 3)[1][:, 0], again.search(vectors[2:7], 3)[1][:, 0])


@pytest.mark.parametrize("keep", [20, 0.5, -8])
def test_a_truncated_ivf_file_is_a_corrupt_index(clustered, tmp_path: Path, keep: float) -> None:
    ids, vectors = clustered
    flat = DenseIndex.create()
    flat.add(ids, vectors)
    path = tmp_path / "dense.faiss"
    flat.arranged(ann_from=1000).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])

    with pytest.raises(CorruptIndexError, match="dense.faiss"):
        DenseIndex.load(path)


def test_an_index_built_over_the_switch_answers_as_the_exact_one(bot: qa.QA, small_corpus: Path, tmp_path: Path):
    index = tmp_path / "index"

    report = qa.build_index(small_corpus, index, ann_from=1)

    manifest = store.read_manifest(index)
    assert manifest.dense.kind == "ivf" and manifest.dense.nlist == ivf_lists(report.sentences)
    assert qa.verify_index(index).damaged == []
    exact = bot.ask(ZELENSKY)
    with qa.open_index(index) as ann:
        answer = ann.ask(ZELENSKY)
    assert answer.found and "at least 155" in answer.sentence
    assert (answer.sentence, answer.citation) == (exact.sentence, exact.citation)


def test_an_ivf_index_survives_an_incremental_add_and_remove(small_corpus: Path, tmp_path: Path):
    index = tmp_path / "index"
    first = qa.build_index(small_corpus, index, ann_from=1)
    (small_corpus / "new.txt").write_text(
        "Glaciers in the Alps shrink\n\nThe Rhone glacier lost 4 percent of its volume in 2022. "
        "Swiss scientists measured the loss with drones.\n",
        encoding="utf-8",
    )
    (small_corpus / "004_fd5b037eee5d7828.txt").unlink()

    report = qa.build_index(small_corpus, index, ann_from=1)

    assert (report.added, report.removed, report.embedded) == (1, 1, 2)
    assert store.read_manifest(index).dense.kind == "ivf"
    with qa.open_index(index) as bot:
        assert bot.counts["sentences"] == report.sentences < first.sentences
        assert "new" in {p.doc_id for p in bot.search("Rhone glacier volume", k=5)}
        assert "004_fd5b037eee5d7828" not in {p.doc_id for p in bot.search("Kim Jog Un", k=20)}
        assert "at least 155" in bot.ask(ZELENSKY).sentence
    # The next build that writes the index under a higher switch makes it exact again.
    (small_corpus / "new.txt").unlink()
    qa.build_index(small_corpus, index)
    assert store.read_manifest(index).dense == DenseLayout(kind="flat")


def test_a_dense_file_that_is_not_the_layout_the_manifest_records_is_refused(small_corpus: Path, tmp_path: Path):
    exact, ann = tmp_path / "exact", tmp_path / "ann"
    qa.build_index(small_corpus, exact)
    qa.build_index(small_corpus, ann, ann_from=1)
    manifest = json.loads((ann / store.MANIFEST).read_text())
    generation = ann / manifest["generation"]
    shutil.copy(exact / store.read_manifest(exact).generation / store.DENSE, generation / store.DENSE)
    digest = store.checksums(generation, manifest["generation"])[f"{manifest['generation']}/{store.DENSE}"]
    manifest["files"][f"{manifest['generation']}/{store.DENSE}"] = digest.model_dump()
    (ann / store.MANIFEST).write_text(json.dumps(manifest))  # checksums agree: only the layout tells

    with pytest.raises(CorruptIndexError, match="flat index, the manifest records ivf"):
        qa.open_index(ann)


def test_a_switch_below_one_sentence_is_a_programming_error(corpus_dir: Path, tmp_path: Path):
    with pytest.raises(ValueError, match="ann_from"):
        qa.build_index(corpus_dir, tmp_path / "index", ann_from=0)
    assert not (tmp_path / "index").exists()
