"""The ONNX embedder against sentence-transformers, and the FAISS index against numpy brute force."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from qa.dense import DenseIndex
from qa.embedding import DIM, Embedder, model_fingerprint, packaged_model_dir
from qa.errors import CorruptIndexError

SENTENCES = [
    "Zelensky said Ukrainian forces had captured two Chinese nationals fighting for Russia.",
    "Oil prices rose.",
    "The Bank of England held interest rates at 4.75% on Thursday, citing stubborn inflation in services.",
    "",
    "Who won the cup?",
    # Longer than 256 word pieces: both sides truncate.
    "The committee heard evidence from " + "witnesses, officials and experts " * 60 + "over three days.",
    "Le président a annoncé une réforme des retraites.",
]


@pytest.fixture(scope="module")
def embedder(model_dir: Path) -> Embedder:
    return Embedder(model_dir)


def test_embeddings_match_sentence_transformers(embedder: Embedder) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(packaged_model_dir()), device="cpu").encode(
        SENTENCES, normalize_embeddings=True
    )

    ours = embedder.encode(SENTENCES)

    assert ours.shape == (len(SENTENCES), DIM) and ours.dtype == np.float32
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() > 0.999


def test_embeddings_have_unit_length_and_keep_input_order(embedder: Embedder) -> None:
    one_by_one = np.stack([embedder.encode([s])[0] for s in SENTENCES])

    batched = embedder.encode(SENTENCES, batch_size=3)

    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_encode_reports_progress_and_accepts_nothing(embedder: Embedder) -> None:
    calls: list[tuple[int, int]] = []

    embedder.encode(SENTENCES, batch_size=4, progress=lambda done, total: calls.append((done, total)))

    assert calls == [(4, 7), (7, 7)]
    assert embedder.encode([]).shape == (0, DIM)


def test_exported_model_carries_the_packaged_fingerprint(model_dir: Path, embedder: Embedder) -> None:
    assert embedder.fingerprint == model_fingerprint()
    assert not [p.name for p in model_dir.parent.iterdir() if p.name.startswith(".model.")], "no staging folder left"


def test_truncated_model_is_a_corrupt_index(model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "model"
    shutil.copytree(model_dir, broken)
    onnx = broken / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[: onnx.stat().st_size // 2])

    with pytest.raises(CorruptIndexError, match="model.onnx"):
        Embedder(broken)


def test_a_model_folder_without_its_files_is_a_corrupt_index(tmp_path: Path) -> None:
    with pytest.raises(CorruptIndexError, match="model.onnx"):
        Embedder(tmp_path)


def _unit_vectors(n: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def stored() -> tuple[np.ndarray, np.ndarray]:
    """500 random unit vectors under scattered int64 ids."""
    ids = np.random.default_rng(1).choice(10**12, size=500, replace=False).astype(np.int64)
    return ids, _unit_vectors(500, seed=2)


def _brute_force(ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = queries @ vectors.T
    order = np.argsort(-scores, axis=1)[:, :k]
    return np.take_along_axis(scores, order, axis=1), ids[order]


def test_search_equals_numpy_brute_force(stored: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = stored
    index = DenseIndex.create()
    index.add(ids, vectors)
    queries = _unit_vectors(20, seed=3)

    scores, found = index.search(queries, k=10)

    expected_scores, expected_ids = _brute_force(ids, vectors, queries, k=10)
    np.testing.assert_array_equal(found, expected_ids)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-5)
    assert len(index) == 500


def test_removed_ids_are_never_returned(stored: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = stored
    index = DenseIndex.create()
    index.add(ids, vectors)
    gone = ids[::3]

    assert index.remove(np.append(gone, 7)) == len(gone)  # 7 was never stored
    _, found = index.search(vectors[:50], k=500)

    assert not np.isin(found, gone).any()
    assert len(index) == 500 - len(gone)
    assert (found[:, len(index) :] == -1).all()  # fewer than k left: padded with -1
    np.testing.assert_array_equal(found[:, 0][1::3], ids[:50][1::3])  # the survivors still find themselves


def test_save_and_load_round_trip(stored: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    ids, vectors = stored
    index = DenseIndex.create()
    index.add(ids, vectors)
    index.save(tmp_path / "dense.faiss")
    queries = _unit_vectors(5, seed=4)

    loaded = DenseIndex.load(tmp_path / "dense.faiss")

    assert len(loaded) == 500
    np.testing.assert_array_equal(loaded.search(queries, 7)[1], index.search(queries, 7)[1])
    np.testing.assert_allclose(loaded.vectors(ids[[5, 0, 42]]), vectors[[5, 0, 42]])
    # A loaded index can still change, then be saved over the file it was read from.
    loaded.remove(ids[:100])
    loaded.add(np.array([1, 2], dtype=np.int64), vectors[:2])
    loaded.save(tmp_path / "dense.faiss")
    assert len(DenseIndex.load(tmp_path / "dense.faiss")) == 402


def test_adding_an_id_twice_is_refused(stored: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = stored
    index = DenseIndex.create()
    index.add(ids[:10], vectors[:10])

    with pytest.raises(ValueError):
        index.add(ids[9:11], vectors[9:11])


@pytest.mark.parametrize("keep", [0, 20, 0.5, -1])
def test_truncated_dense_file_is_a_corrupt_index(
    stored: tuple[np.ndarray, np.ndarray], tmp_path: Path, keep: float
) -> None:
    ids, vectors = stored
    index = DenseIndex.create()
    index.add(ids, vectors)
    path = tmp_path / "dense.faiss"
    index.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])

    with pytest.raises(CorruptIndexError, match="dense.faiss"):
        DenseIndex.load(path)


def test_missing_dense_file_is_a_corrupt_index(tmp_path: Path) -> None:
    with pytest.raises(CorruptIndexError, match="dense.faiss"):
        DenseIndex.load(tmp_path / "dense.faiss")
