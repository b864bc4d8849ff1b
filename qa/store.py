"""Layout of an index folder, its manifest, and the rules that keep it whole.

    index/
      manifest.json      schema version, model name and fingerprint, the current generation; written last
      model/             the embedding model exported to ONNX (model.onnx, tokenizer.json, fingerprint.txt)
      gen-000007/        one complete generation: catalog.sqlite, sentences.faiss, bm25/
      .lock              held by the build that is writing

A build fills a staging folder, renames it to the next generation, then replaces manifest.json in one
`os.replace`. A crash at any point leaves the manifest pointing at the previous, complete generation.
Nothing in the folder is a pickle: SQLite, JSON, NumPy arrays read with allow_pickle=False, and FAISS.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from pathlib import Path
from types import TracebackType

from pydantic import BaseModel, ValidationError

from qa.errors import CorruptIndexError, IndexLockedError, IndexNotFoundError, IndexVersionError

SCHEMA_VERSION = 1
# Bump when reading, cleaning, splitting or tokenizing articles changes what it produces: an index built
# the old way is then rebuilt from scratch, since unchanged files would otherwise keep their old sentences.
PIPELINE_VERSION = "2"
MANIFEST = "manifest.json"
MODEL_DIR = "model"  # the index's ONNX copy of the model lives in model-<fingerprint>/ (see model_dir)
CATALOG = "catalog.sqlite"
DENSE = "sentences.faiss"
LEXICAL = "bm25"
_GENERATION = re.compile(r"^gen-(\d{6})$")
_MODEL = re.compile(rf"^{MODEL_DIR}(-[0-9a-f]+)?$")  # "model" alone: where qa kept it before


class Manifest(BaseModel):
    """What `manifest.json` records about the current generation."""

    schema_version: int
    model_name: str
    model_fingerprint: str
    pipeline_version: str = "0"
    generation: str
    built_at: float
    articles: int
    passages: int
    sentences: int


def read_manifest(index_dir: Path) -> Manifest:
    """Read and validate the manifest of an index folder.

    Raises:
        IndexNotFoundError: the folder or its manifest does not exist.
        CorruptIndexError: the manifest is not valid JSON of the expected shape.
        IndexVersionError: the manifest was written by another schema or pipeline version.
    """
    path = index_dir / MANIFEST
    if not index_dir.is_dir() or not path.is_file():
        raise IndexNotFoundError(f"no index in {index_dir}: build one with `qa index CORPUS --index {index_dir}`")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptIndexError(f"{path} is unreadable ({exc}); rebuild with `qa index --rebuild`") from exc
    if isinstance(raw, dict) and raw.get("schema_version") not in (None, SCHEMA_VERSION):
        raise IndexVersionError(
            f"{index_dir} uses index format {raw.get('schema_version')}, this qa reads format {SCHEMA_VERSION}; "
            f"run `qa index --rebuild --index {index_dir}`"
        )
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        raise CorruptIndexError(f"{path} is not a valid manifest; rebuild with `qa index --rebuild`") from exc
    if manifest.pipeline_version != PIPELINE_VERSION:
        raise IndexVersionError(
            f"{index_dir} was built by a qa that reads and splits articles differently; "
            f"run `qa index --rebuild --index {index_dir}`"
        )
    return manifest


def write_manifest(index_dir: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically: readers see the old one or the new one, never half of one."""
    atomic_write_text(index_dir / MANIFEST, manifest.model_dump_json(indent=2))


def generation_dir(index_dir: Path, manifest: Manifest) -> Path:
    """The folder of the manifest's generation, checked to exist."""
    path = index_dir / manifest.generation
    if not path.is_dir():
        raise CorruptIndexError(f"{path} named by {index_dir / MANIFEST} is missing; rebuild with `qa index --rebuild`")
    return path


def next_generation_name(index_dir: Path) -> str:
    numbers = [int(m.group(1)) for p in index_dir.iterdir() if (m := _GENERATION.match(p.name))]
    return f"gen-{max(numbers, default=0) + 1:06d}"


def staging_dir(index_dir: Path) -> Path:
    """A fresh folder to build the next generation in; leftovers of a crashed build are removed first."""
    path = index_dir / f".staging-{os.getpid()}"
    for stale in index_dir.glob(".staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    path.mkdir()
    return path


def model_dir(index_dir: Path, fingerprint: str | None = None) -> Path:
    """Where the index keeps its exported copy of the model with this fingerprint (by default, the one its
    manifest names: the model the current generation was embedded with).

    One folder per model: a build that brings a new model exports it beside the one the current generation
    was embedded with, so until the new generation is published, a crash leaves the old index usable.
    """
    if fingerprint is None:
        fingerprint = read_manifest(Path(index_dir)).model_fingerprint
    return Path(index_dir) / f"{MODEL_DIR}-{fingerprint}"


def publish(index_dir: Path, staging: Path, manifest: Manifest) -> None:
    """Make a finished staging folder the current generation, then drop what only older ones used."""
    _fsync_tree(staging)
    target = index_dir / manifest.generation
    os.replace(staging, target)
    _fsync_dir(index_dir)
    write_manifest(index_dir, manifest)
    drop_stale(index_dir, manifest)


def drop_stale(index_dir: Path, manifest: Manifest) -> None:
    """Remove the generations and model copies that the manifest no longer names."""
    keep = {manifest.generation, model_dir(index_dir, manifest.model_fingerprint).name}
    for path in index_dir.iterdir():
        if (_GENERATION.match(path.name) or _MODEL.match(path.name)) and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file under a temporary name in the same folder, fsync it, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class BuildLock:
    """An exclusive lock on an index folder, held for the whole of a build.

    The lock is an `flock` on `index/.lock`: the kernel releases it when the process dies, so a killed
    build never leaves the index locked.
    """

    def __init__(self, index_dir: Path, wait: float = 0.0) -> None:
        self.path = index_dir / ".lock"
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
                    os.close(fd)
                    raise IndexLockedError(
                        f"{self.path.parent} is being built by process {holder}; wait for that build to finish"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(folder))
