"""Dense retrieval: FAISS search over the sentence vectors that `qa.embedding` computes.

Exact (a flat index) up to `ANN_FROM` vectors; from there a build writes an inverted-file index (IVF-Flat),
which scans the `nprobe` lists of vectors nearest the question instead of all of them. `DenseIndex.arranged`
chooses, `DenseIndex.layout` says which it is (the manifest records it). Both delete by id, so an
incremental build removes an article's vectors in place from either.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from qa.embedding import DIM
from qa.errors import CorruptIndexError

if TYPE_CHECKING:
    import faiss

ANN_FROM = 250_000
"""Sentence vectors from which a build writes an IVF index instead of the exact one. Exact search costs
~109 ms per million vectors here (one thread), so ~27 ms at this size, a quarter of the 100 ms `ask` budget;
past it, IVF scans a quarter of the vectors at recall@10 >= 0.95 (README: "A million sentences",
`python -m bench.ann`). `qa.build_index(..., ann_from=N)` moves the switch."""

IVF_PROBE_SHARE = 4
"""An IVF search scans 1/IVF_PROBE_SHARE of the lists (nprobe = nlist / 4, at least 16, at most all of
them), so about a quarter of the vectors: on 163,200 real Reuters and BBC sentence vectors with 200 real
questions, recall@10 against exact is 0.963-0.976 at a quarter (nlist 256-1024) and 0.895-0.948 at an
eighth (`python -m bench.ann --parts vectors`)."""

_TRAIN_PER_LIST = 64  # k-means trains on at most 64 vectors per list, a seeded sample


class DenseLayout(BaseModel):
    """How the sentence vectors are searched, as the manifest records it: exact, or IVF with its parameters."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["flat", "ivf"] = "flat"
    nlist: int | None = Field(default=None, ge=1, le=2**24, description="IVF lists (k-means centroids)")
    nprobe: int | None = Field(default=None, ge=1, le=2**24, description="lists an IVF search scans")


def ivf_lists(vectors: int) -> int:
    """The IVF list count for this many vectors: the power of two nearest their square root, with at least
    39 training vectors per list (FAISS' own minimum)."""
    lists = 2 ** round(math.log2(math.sqrt(max(vectors, 1))))
    return max(1, min(lists, vectors // 39))


class DenseIndex:
    """Inner-product search over unit vectors, keyed by stable int64 sentence ids.

    Exact: a FAISS IndexIDMap2 over IndexFlatIP. Approximate: an IndexIVFFlat (inner product, ids in its
    lists, a hashtable from id to list for `vectors` and `remove`). With normalised vectors the score is
    the cosine similarity. Use `create`, `load` or `arranged`, not the constructor.
    """

    def __init__(self, index: faiss.Index, path: Path | None = None) -> None:
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
    def layout(self) -> DenseLayout:
        """Exact, or IVF with its list count and how many lists a search scans."""
        if not self._is_ivf():
            return DenseLayout()
        return DenseLayout(kind="ivf", nlist=int(self._index.nlist), nprobe=int(self._index.nprobe))

    def arranged(self, ann_from: int = ANN_FROM) -> DenseIndex:
        """This index, or the same vectors in the layout that suits their number: exact below `ann_from`,
        IVF from it. An IVF index is trained again when the vector count has moved past 4 times (or under a
        quarter of) nlist squared, its size when trained; otherwise new vectors join the lists they are
        nearest. Training is seeded, so the same vectors give the same index.

        Args:
            ann_from: vector count from which to search approximately (ANN_FROM by default).

        Returns:
            self when its layout already suits, else a new DenseIndex (in memory; `save` it).
        """
        if ann_from < 1:
            raise ValueError(f"ann_from must be at least 1, got {ann_from}")
        n = len(self)
        if n < ann_from:
            return self if not self._is_ivf() else DenseIndex(_flat(*self.contents(), self.dim))
        if self._is_ivf() and self._index.nlist**2 / 4 <= n <= 4 * self._index.nlist**2:
            return self
        return DenseIndex(_ivf(*self.contents(), self.dim))

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
        ids = np.unique(ids)
        selector = faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids)) if self._is_ivf() else faiss.IDSelectorBatch(ids)
        return int(self._index.remove_ids(selector))

    def search(self, vectors: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Find the k stored vectors with the highest inner product with each query.

        Args:
            vectors: float32 array of shape (n, dim), or (dim,) for one query.
            k: results per query.
            allowed: if given, the ids that may be returned (a filter), searched through a FAISS ID selector.

        Returns:
            (scores, ids): float32 and int64 arrays of shape (n, k), best first; when fewer than k vectors
            are stored, the rest of each row is score -inf and id -1.
        """
        import faiss

        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        vectors = self._check_vectors(vectors)
        # One thread for a few queries: a 10k-vector search takes 0.55 ms, against 0.74 ms on two threads when
        # idle and 7-20 ms when another process holds the second core (bench/experiments/encode_speed.py).
        faiss.omp_set_num_threads(1 if len(vectors) <= 8 else _faiss_threads())
        if allowed is None:
            scores, ids = self._index.search(vectors, k)
        else:
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            scores, ids = self._index.search(vectors, k, params=faiss.SearchParameters(sel=selector))
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
    def load(cls, path: Path, expected: int | None = None, layout: DenseLayout | None = None) -> DenseIndex:
        """Open an index written by `save`, memory-mapping its vectors.

        Mapping takes milliseconds whatever the size and keeps the vectors in the shared page cache instead
        of a private copy; a later add/remove copies them into memory first.

        Args:
            path: the file written by `save`.
            expected: how many vectors it must hold (the manifest's sentence count), if known.
            layout: the layout it must have (the manifest's), if known.

        Returns:
            The DenseIndex.

        Raises:
            CorruptIndexError: the file is missing, truncated, not a qa dense index, holds another number
                of vectors than expected, or is laid out otherwise than the manifest says.
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
        if isinstance(index, faiss.IndexIVFFlat):
            # FAISS reads an IVF file's lists with their lengths, so a truncated one fails to read (above).
            if index.metric_type != faiss.METRIC_INNER_PRODUCT or index.direct_map.type != faiss.DirectMap.Hashtable:
                raise CorruptIndexError(f"{path} is not a qa dense index (an IVF index of another kind); {hint}")
        elif not isinstance(index, faiss.IndexIDMap2) or not isinstance(
            faiss.downcast_index(index.index), faiss.IndexFlatIP
        ):
            raise CorruptIndexError(f"{path} is not a qa dense index ({type(index).__name__}); {hint}")
        else:
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
        loaded = cls(index, path)
        if layout is not None and loaded.layout != layout:
            raise CorruptIndexError(
                f"{path} is a {loaded.layout.kind} index, the manifest records {layout.kind} "
                f"(nlist {layout.nlist}, nprobe {layout.nprobe}); {hint}"
            )
        return loaded

    @property
    def faiss(self) -> faiss.Index:
        """The FAISS index searched, for measurements (bench.scale.ann sets an IVF index's nprobe on it)."""
        return self._index

    def _is_ivf(self) -> bool:
        return not hasattr(self._index, "id_map")

    def _ids(self) -> np.ndarray:
        import faiss

        if self._is_ivf():
            return self.contents(with_vectors=False)[0]
        return faiss.vector_to_array(self._index.id_map).astype(np.int64, copy=False)

    def contents(self, with_vectors: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Every id and (unless not asked) its vector, in storage order. Of an exact index the vectors are a
        view of the stored ones, valid while this index is."""
        import faiss

        if not self._is_ivf():
            ids = self._ids()
            flat = faiss.downcast_index(self._index.index)
            if not with_vectors or not len(ids):
                return ids, np.empty((0, self.dim), np.float32)
            # A view of the stored vectors, not a copy: at a million vectors a copy is 1.5 GB more.
            return ids, faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * self.dim).reshape(-1, self.dim)
        lists = self._index.invlists
        id_parts, vector_parts = [], []
        for number in range(self._index.nlist):
            size = lists.list_size(number)
            if not size:
                continue
            id_parts.append(faiss.rev_swig_ptr(lists.get_ids(number), size).copy())
            if with_vectors:
                codes = faiss.rev_swig_ptr(lists.get_codes(number), size * lists.code_size)
                vector_parts.append(np.frombuffer(codes.tobytes(), dtype=np.float32).reshape(size, self.dim))
        ids = np.concatenate(id_parts).astype(np.int64, copy=False) if id_parts else np.empty(0, np.int64)
        vectors = np.concatenate(vector_parts) if vector_parts else np.empty((0, self.dim), np.float32)
        return ids, vectors

    def _own(self) -> None:
        if self._mapped_from is None:
            return
        import faiss

        if self._is_ivf():  # read the lists into memory
            self._index = faiss.read_index(str(self._mapped_from))
            self._mapped_from = None
            return
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


def _flat(ids: np.ndarray, vectors: np.ndarray, dim: int) -> faiss.IndexIDMap2:
    import faiss

    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if len(ids):
        index.add_with_ids(vectors, ids)
    return index


def _ivf(ids: np.ndarray, vectors: np.ndarray, dim: int) -> faiss.IndexIVFFlat:
    """An IVF-Flat index of these vectors, its k-means trained on a seeded sample of them."""
    import faiss

    nlist = ivf_lists(len(ids))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = 1234
    sample = min(len(ids), _TRAIN_PER_LIST * nlist)
    chosen = np.sort(np.random.default_rng(1234).choice(len(ids), sample, replace=False))
    faiss.omp_set_num_threads(_faiss_threads())
    index.train(np.ascontiguousarray(vectors[chosen]))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64))
    index.nprobe = max(1, min(nlist, max(nlist // IVF_PROBE_SHARE, 16)))
    return index
