"""Who may write what in an index folder: claiming it, the names qa owns in it, and the build lock.

A build first `claim`s the folder (new, empty, or a qa index: qa writes into nothing else), takes the
`BuildLock`, then works through an `IndexFolder`: it records each name in the manifest before making it,
removes only recorded names, and publishes a generation by renaming its staging folder and replacing the
manifest. The layout and the manifest itself are `qa.store`'s.
"""

from __future__ import annotations

import fcntl
import math
import os
import re
import secrets
import time
from pathlib import Path
from types import TracebackType

from qa.errors import CorruptIndexError, IndexLockedError, IndexNotFoundError, IndexStoreError
from qa.store import (
    BACKUP, BACKUP_TMP, FINGERPRINT_PATTERN, LOCK, MANIFEST, MANIFEST_TMP, MODEL_DIR, PIPELINE_VERSION, SCHEMA_VERSION,
    FileSum, Manifest, fsync_dir, fsync_tree, is_owned_name, is_qa_name, open_regular, read_manifest,
    read_raw_manifest, remove_entry, write_manifest,
)


def claim(index_dir: Path) -> None:
    """Create the index folder, or check that it is empty or a qa index: qa writes into nothing else.

    Raises:
        IndexStoreError: the path is a file, or a folder holding things that are not a qa index.
    """
    index_dir = Path(index_dir)
    if not index_dir.exists():
        index_dir.mkdir(parents=True)
        return
    if not index_dir.is_dir():
        raise IndexStoreError(f"{index_dir} is a file, not an index folder; pass another --index")
    names = set(os.listdir(index_dir))
    if names <= {LOCK, MANIFEST_TMP, BACKUP_TMP}:
        return  # new, or a first build killed before it wrote a manifest
    for name in (MANIFEST, BACKUP):
        if name in names:
            try:
                raw = read_raw_manifest(index_dir / name)
            except CorruptIndexError:
                raw = {}
            if {"schema_version", "model_fingerprint"} <= raw.keys():
                return
    if MANIFEST in names and all(is_qa_name(name) for name in names):  # a damaged manifest beside qa's names
        return
    shown = ", ".join(sorted(n.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for n in names)[:4])
    raise IndexStoreError(
        f"{index_dir} is not empty and is not a qa index (it holds {shown}{', ...' if len(names) > 4 else ''}); "
        "qa builds only in a new or empty folder or in one of its own indexes: pass another --index"
    )


class IndexFolder:
    """An index folder as the build holding its lock sees it: the manifest, and the names qa owns in it.

    Opening it removes what a killed build left behind (the names it recorded before making them);
    `temp` records a name before the build makes it; `publish` switches to a new generation.
    """

    def __init__(self, index_dir: Path, fingerprint: str) -> None:
        self.path = Path(index_dir)
        self._fingerprint = fingerprint
        self.manifest: Manifest | None = None
        self.problem: str | None = None  # why the manifest in the folder cannot be built on
        self._owned: set[str] = set()
        self.restored: str | None = None  # why the manifest was restored from its backup
        try:
            self.manifest = read_manifest(self.path)
            self._owned = set(self.manifest.owned) | self.manifest.in_use()
        except IndexStoreError as exc:
            missing = isinstance(exc, IndexNotFoundError)
            self.problem = None if missing else str(exc).split("; run")[0].split("; rebuild")[0]
            try:
                backup = read_manifest(self.path, BACKUP) if isinstance(exc, (CorruptIndexError, IndexNotFoundError)) else None
            except IndexStoreError:
                backup = None
            if backup is not None and missing:
                self.problem = f"{self.path / MANIFEST} is missing"
            if backup is None:
                self._owned = _recorded_names(self.path)
            else:
                self.manifest, self.restored, self.problem = backup, self.problem, None
                self._owned = set(backup.owned) | backup.in_use()
                write_manifest(self.path, backup)
        self.sweep()

    def owns(self, name: str) -> bool:
        return name in self._owned

    def temp(self, kind: str) -> Path:
        """A new name for a temporary folder ("staging", "export" or "trash"), recorded before it is made."""
        name = f".{kind}-{os.getpid()}-{secrets.token_hex(4)}"
        self.record(name)
        return self.path / name

    def record(self, *names: str) -> None:
        """Add names to those qa owns in the folder, in the manifest on disk, before making them."""
        if set(names) <= self._owned:
            return
        self._owned |= set(names)
        self._write(self._current().model_copy(update={"owned": sorted(self._owned)}))

    def sweep(self) -> list[str]:
        """Remove every name qa owns that no reader can be using; returns what it removed."""
        keep = self.manifest.in_use() if self.manifest else set()
        gone = sorted(self._owned - keep)
        for name in gone:
            remove_entry(self.path / name)
        if gone or (self.manifest and set(self.manifest.owned) != self._owned - set(gone)):
            self._owned -= set(gone)
            if self.manifest is not None or self._owned:
                self._write(self._current().model_copy(update={"owned": sorted(self._owned)}))
        return gone

    def update_files(self, files: dict[str, FileSum]) -> None:
        """Record new checksums for the current generation (its model was exported again)."""
        assert self.manifest is not None
        self._write(self.manifest.model_copy(update={"files": files}))

    def publish(self, staging: Path, manifest: Manifest) -> None:
        """Make a finished staging folder the current generation, keep the one before it for readers that
        are opening it, and remove what neither uses."""
        assert manifest.generation is not None
        fsync_tree(staging)
        self.record(manifest.generation)
        os.replace(staging, self.path / manifest.generation)
        fsync_dir(self.path)
        previous = self.manifest.generation if self.manifest else None
        self._owned.discard(staging.name)
        self._write(manifest.model_copy(update={
            "previous": previous,
            "previous_fingerprint": self.manifest.model_fingerprint if previous and self.manifest else None,
            "owned": sorted(self._owned),
        }))
        self.sweep()

    def _current(self) -> Manifest:
        if self.manifest is not None:
            return self.manifest
        # No usable manifest yet: one with no generation records the names while the first build runs.
        return Manifest(
            schema_version=SCHEMA_VERSION, model_name="", model_fingerprint=self._fingerprint,
            pipeline_version=PIPELINE_VERSION, generation=None, built_at=time.time(), articles=0, passages=0,
            sentences=0,
        )

    def _write(self, manifest: Manifest) -> None:
        write_manifest(self.path, manifest)
        self.manifest = manifest


def _recorded_names(index_dir: Path) -> set[str]:
    """The names a manifest this qa cannot use still proves qa made: an older format's generation and model."""
    try:
        raw = read_raw_manifest(index_dir / MANIFEST)
    except CorruptIndexError:
        return set()
    names = set()
    for key in ("generation", "previous"):
        if isinstance(raw.get(key), str) and raw[key].startswith("gen-") and is_owned_name(raw[key]):
            names.add(raw[key])
    for key in ("model_fingerprint", "previous_fingerprint"):
        if isinstance(raw.get(key), str) and re.match(FINGERPRINT_PATTERN, raw[key]):
            names.add(f"{MODEL_DIR}-{raw[key]}")
    owned = raw.get("owned")
    if isinstance(owned, list):
        names |= {n for n in owned if isinstance(n, str) and is_owned_name(n)}
    return names


class BuildLock:
    """An exclusive lock on an index folder, held for the whole of a build.

    The lock is an `flock` on `index/.lock`: the kernel releases it when the process dies, so a killed
    build never leaves the index locked. The file is opened without following a link and must be a
    regular file of its own, so a `.lock` that points elsewhere is refused, not truncated.
    """

    def __init__(self, index_dir: Path, wait: float = 0.0) -> None:
        if not isinstance(wait, (int, float)) or not math.isfinite(wait) or wait < 0:
            raise ValueError(f"wait must be a number of seconds, 0 or more, not {wait!r}")
        self.path = Path(index_dir) / LOCK
        self.wait = float(wait)
        self._fd: int | None = None

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = open_regular(self.path, os.O_RDWR | os.O_CREAT)
        except OSError as exc:
            raise IndexStoreError(
                f"{self.path} is {exc.strerror}; remove it (`rm {self.path}`) and build again"
            ) from None
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
