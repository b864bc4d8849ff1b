"""Dense retrieval: exact FAISS search over the sentence vectors that `qa.embedding` computes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.embedding import DIM
from qa.errors import CorruptIndexError

if TYPE_CHECKING:
    import faiss


class DenseIndex:
    """Exact inner-product search over unit vectors, keyed by stable int64 sentence ids.

    A FAISS IndexIDMap2 over IndexFlatIP: with normalised vectors the score is the cosine similarity.
    Use `create` or `load`, not the constructor.
    """

    def __init__(self, index: faiss.IndexIDMap2, path: Path | None = None) -> None:
        self._index = index
        # Set when the vectors are memory-mapped from `path`: FAISS aborts the process on any write to a
        # mapped index, so the first add/remove copies it into memory.
        self._mapped_from = path

    @classmethod
    def create(cls, dim: int = DIM) -> DenseIndex:
        """Make an empty index.

        Args:
            dim: vector dimension.

        Returns:
            An empty DenseIndex.
        """
        import faiss

        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given ids.

        Args:
            ids: int64 array of shape (n,); ids must not be in the index already.
            vectors: float32 array of shape (n, dim).

        Raises:
            ValueError: shapes do not match, or an id is already present.
        """
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        vectors = self._check_vectors(vectors)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        if len(np.unique(ids)) != len(ids) or np.isin(ids, self._ids()).any():
            raise ValueError("ids must be new and unique: remove an id before adding it again")
        if len(ids):
            self._own()
            self._index.add_with_ids(vectors, ids)

    def remove(self, ids: np.ndarray) -> int:
        """Remove vectors by id; unknown ids are ignored.

        Args:
            ids: int64 array of ids.

        Returns:
            How many vectors were removed.
        """
        import faiss

        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids) or not np.isin(ids, self._ids()).any():
            return 0
        self._own()
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Find the k stored vectors with the highest inner product with each query.

        Args:
            vectors: float32 array of shape (n, dim), or (dim,) for one query.
            k: results per query.

        Returns:
            (scores, ids): float32 and int64 arrays of shape (n, k), best first; when fewer than k vectors
            are stored, the rest of each row is score -inf and id -1.
        """
        import faiss

        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        vectors = self._check_vectors(vectors)
        # One thread for a few queries: a 10k-vector search takes 0.55 ms, against 0.74 ms on two threads when
        # idle and 7-20 ms when another process holds the second core (bench/encode_speed.py).
        faiss.omp_set_num_threads(1 if len(vectors) <= 8 else _faiss_threads())
        scores, ids = self._index.search(vectors, k)
        scores[ids < 0] = -np.inf
        return scores.astype(np.float32, copy=False), ids.astype(np.int64, copy=False)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Return the stored vectors of these ids.

        Args:
            ids: int64 array of ids, all present in the index.

        Returns:
            float32 array of shape (len(ids), dim), in the order of `ids`.

        Raises:
            KeyError: an id is not in the index.
        """
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        for row, vid in enumerate(ids):
            try:
                out[row] = self._index.reconstruct(int(vid))
            except RuntimeError as exc:
                raise KeyError(int(vid)) from exc
        return out

    def save(self, path: Path) -> None:
        """Write the index to `path` atomically (temporary file, fsync, rename).

        Args:
            path: the file to write.
        """
        import faiss

        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            faiss.write_index(self._index, str(tmp))
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path, expected: int | None = None) -> DenseIndex:
        """Open an index written by `save`, memory-mapping its vectors.

        Mapping takes milliseconds whatever the size and keeps the vectors in the shared page cache instead
        of a private copy; a later add/remove copies them into memory first.

        Args:
            path: the file written by `save`.
            expected: how many vectors it must hold (the manifest's sentence count), if known.

        Returns:
            The DenseIndex.

        Raises:
            CorruptIndexError: the file is missing, truncated, not a qa dense index, or holds another number
                of vectors than expected.
        """
        import faiss

        path = Path(path)
        hint = "run `qa index` to rebuild it"
        if not path.is_file():
            raise CorruptIndexError(f"the dense index file {path} is missing; {hint}")
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
        except RuntimeError as exc:
            raise CorruptIndexError(f"the dense index file {path} is truncated or unreadable; {hint}") from exc
        if not isinstance(index, faiss.IndexIDMap2) or not isinstance(
            faiss.downcast_index(index.index), faiss.IndexFlatIP
        ):
            raise CorruptIndexError(f"{path} is not a qa dense index ({type(index).__name__}); {hint}")
        # A mapped read does not notice a few missing bytes at the end (the page is zero-filled): check the
        # size against an empty index of the same dimension plus one vector and one id per entry.
        empty = len(faiss.serialize_index(faiss.IndexIDMap2(faiss.IndexFlatIP(index.d))))
        size = empty + index.ntotal * (4 * index.d + 8)
        if path.stat().st_size != size:
            raise CorruptIndexError(
                f"the dense index file {path} has {path.stat().st_size} bytes, expected {size}; {hint}"
            )
        if expected is not None and index.ntotal != expected:
            raise CorruptIndexError(f"{path} holds {index.ntotal} vectors for {expected} sentences; {hint}")
        return cls(index, path)

    def _ids(self) -> np.ndarray:
        import faiss

        return faiss.vector_to_array(self._index.id_map).astype(np.int64, copy=False)

    def _own(self) -> None:
        if self._mapped_from is None:
            return
        import faiss

        ids = self._ids()
        vectors = self._index.index.reconstruct_n(0, self._index.ntotal)
        owned = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        if len(ids):
            owned.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self._index = owned
        self._mapped_from = None

    def _check_vectors(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim == 1:
            vectors = vectors.reshape(1, -1)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (n, {self.dim}), got {vectors.shape}")
        return vectors


def _faiss_threads() -> int:
    return max(1, os.cpu_count() or 1)
