"""Layout of an index folder, its manifest, and the rules that keep it whole and keep qa inside it.

    index/
      manifest.json      schema, model, the current and previous generation, a checksum of every file,
                         and every name qa made in the folder; written last, in one `os.replace`
      model-<fingerprint>/  the embedding model exported to ONNX (model.onnx, tokenizer.json, fingerprint.txt)
      gen-000007/        one complete generation: catalog.sqlite, sentences.faiss, bm25/, vocabulary.json
      gen-000006/        the previous one, kept so that a reader opening it during a publish still can
      .manifest.backup.json  the same manifest, written just before it
      .lock              held by the build that is writing

A build fills a staging folder, renames it to the next generation, then replaces manifest.json. A crash at
any point leaves the manifest pointing at a complete generation. Before a build makes a folder it records
its name in the manifest (`owned`): qa deletes only names it recorded there, so a folder it did not make,
whatever its name, is never touched, and a killed build's leftovers are removed by the next one.
Every name read from the manifest is checked against a strict pattern and no file is opened through a
symbolic link, so a received index cannot make qa read or write outside its folder. Nothing is a pickle.
`qa.folder` applies these rules while a build writes.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator

from qa.dense import DenseLayout
from qa.errors import CorruptIndexError, IndexNotFoundError, IndexVersionError

SCHEMA_VERSION = 2  # 2: checksums and owned names in the manifest, the previous generation kept
# Bump when reading, cleaning, splitting or tokenizing articles changes what it produces: an index built
# the old way is then rebuilt from scratch, since unchanged files would otherwise keep their old sentences.
PIPELINE_VERSION = "3"  # 3: a vector per article title (titles.faiss) and the vocabulary
MANIFEST = "manifest.json"
LOCK = ".lock"
MODEL_DIR = "model"  # the index's ONNX copy of the model lives in model-<fingerprint>/ (see model_dir)
CATALOG = "catalog.sqlite"
DENSE = "sentences.faiss"
TITLES = "titles.faiss"  # one vector per article title, keyed by the id of the article's first sentence
LEXICAL = "bm25"
VOCABULARY = "vocabulary.json"  # the words of the articles, for correcting typos in questions (qa.spelling)
VERIFY_AT_OPEN = 128 * 2**20
"""Files up to this size are checked against their checksum each time an index is opened (sha256 reads
~1 GB/s here, so the 90 MB model costs ~0.1 s); larger ones by size, and in full by every build and
`qa index --verify`."""

MANIFEST_TMP = f".{MANIFEST}.tmp"
BACKUP = ".manifest.backup.json"  # the same manifest, written just before it: a build recovers from it
BACKUP_TMP = f".{BACKUP}.tmp"
_MAX_MANIFEST_BYTES = 1 << 20
FINGERPRINT_PATTERN = r"^[0-9a-f]{16}(-int8)?$"
_GENERATION = re.compile(r"^gen-(\d{6})$")
_MODEL = re.compile(r"^model-[0-9a-f]{16}(-int8)?$")
_TEMP = re.compile(r"^\.(staging|export|trash)-\d{1,10}-[0-9a-f]{8}$")
_PART = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}"
_FILE = re.compile(rf"^(gen-\d{{6}}|model-[0-9a-f]{{16}}(-int8)?)(/{_PART}){{1,4}}$")


class FileSum(BaseModel):
    """Size and sha256 of one index file, as the build wrote it."""

    size: int = Field(ge=0, le=2**50)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Manifest(BaseModel):
    """What `manifest.json` records: the current generation, its checksums, and what qa owns in the folder."""

    schema_version: int
    model_name: str = Field(max_length=200)
    model_fingerprint: str = Field(pattern=FINGERPRINT_PATTERN)
    pipeline_version: str = Field(default="0", max_length=20)
    generation: str | None = Field(pattern=_GENERATION.pattern, description="None until a first build publishes")
    previous: str | None = Field(default=None, pattern=_GENERATION.pattern)
    previous_fingerprint: str | None = Field(default=None, pattern=FINGERPRINT_PATTERN)
    built_at: float
    articles: int = Field(ge=0, le=10**12)
    passages: int = Field(ge=0, le=10**12)
    sentences: int = Field(ge=0, le=10**12)
    dense: DenseLayout = Field(default_factory=DenseLayout, description="exact or IVF: how sentences.faiss is laid out")
    files: dict[str, FileSum] = Field(default_factory=dict, max_length=10_000)
    owned: list[str] = Field(default_factory=list, max_length=10_000)

    @field_validator("files")
    @classmethod
    def _file_names(cls, files: dict[str, FileSum]) -> dict[str, FileSum]:
        for name in files:
            if not _FILE.match(name):
                raise ValueError(f"not an index file name: {name[:80]!r}")
        return files

    @field_validator("owned")
    @classmethod
    def _owned_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not is_owned_name(name):
                raise ValueError(f"not a name qa makes: {name[:80]!r}")
        return names

    def in_use(self) -> set[str]:
        """The folders a reader may be opening: both generations and the models they were embedded with."""
        names = {f"{MODEL_DIR}-{self.model_fingerprint}"}
        if self.generation:
            names.add(self.generation)
        if self.previous:
            names.add(self.previous)
            names.add(f"{MODEL_DIR}-{self.previous_fingerprint or self.model_fingerprint}")
        return names


def read_manifest(index_dir: Path, name: str = MANIFEST) -> Manifest:
    """Read and validate the manifest of an index folder.

    Raises:
        IndexNotFoundError: the folder or its manifest does not exist.
        CorruptIndexError: the manifest is not valid JSON of the expected shape, or names a file outside the folder.
        IndexVersionError: the manifest was written by another schema or pipeline version.
    """
    index_dir = Path(index_dir)
    path = index_dir / name
    if not index_dir.is_dir() or not os.path.lexists(path):
        raise IndexNotFoundError(f"no index in {index_dir}: build one with `qa index CORPUS --index {index_dir}`")
    raw = read_raw_manifest(path)
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise IndexVersionError(
            f"{index_dir} uses index format {str(raw.get('schema_version'))[:20]}, this qa reads format "
            f"{SCHEMA_VERSION}; run `qa index --rebuild --index {index_dir}`"
        )
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CorruptIndexError(
            f"{path} is not a valid manifest ({where}: {first['msg'][:120]}); run `qa index` to repair it"
        ) from None
    if manifest.pipeline_version != PIPELINE_VERSION:
        raise IndexVersionError(
            f"{index_dir} was built by a qa that reads, splits or embeds articles differently; "
            f"run `qa index --rebuild --index {index_dir}`"
        )
    return manifest


def read_raw_manifest(path: Path) -> dict:
    """The manifest at `path` as a JSON object, not yet validated.

    Raises:
        CorruptIndexError: unreadable, not JSON, too large or too deep.
    """
    hint = "run `qa index` to repair it"
    try:
        data = read_regular(path, limit=_MAX_MANIFEST_BYTES)
        raw = json.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: bad JSON, 5000-digit ints
        reason = str(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {str(exc)[:100]}"
        raise CorruptIndexError(f"{path} is unreadable ({reason}); {hint}") from None
    if not isinstance(raw, dict):
        raise CorruptIndexError(f"{path} is not a JSON object; {hint}")
    return raw


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of the index, opened without following a symbolic link.

    Raises:
        OSError: the file is missing, a link, not a regular file, or larger than `limit` (errno EFBIG).
    """
    fd = open_regular(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise OSError(errno.EFBIG, f"{size} bytes, more than the {limit} a {path.name} can hold")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(limit + 1)
    finally:
        os.close(fd)


def open_regular(path: Path, flags: int, mode: int = 0o644) -> int:
    """A descriptor on a regular file of the index, opened without following a link (and, to write, not
    through a hard link either).

    Raises:
        OSError: a link, not a regular file, or the open failed.
    """
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "a symbolic link, which qa does not follow inside an index") from None
        raise
    info = os.fstat(fd)
    # A hard link is refused only for writing: a backup made with `cp -al` is still read.
    if not stat.S_ISREG(info.st_mode) or (info.st_nlink > 1 and flags & (os.O_WRONLY | os.O_RDWR)):
        os.close(fd)
        what = "not a regular file" if not stat.S_ISREG(info.st_mode) else "a hard link to another file"
        raise OSError(errno.EPERM, f"{what}, which qa does not write or read inside an index")
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    return fd


def write_manifest(index_dir: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically: readers see the old one or the new one, never half of one.

    Its backup is written first, so that both always record every name qa made in the folder."""
    text = manifest.model_dump_json(indent=2)
    atomic_write_text(index_dir / BACKUP, text)
    atomic_write_text(index_dir / MANIFEST, text)


def generation_dir(index_dir: Path, manifest: Manifest, verify_limit: int | None = VERIFY_AT_OPEN) -> Path:
    """The folder of the manifest's generation, checked whole: every file of it and of its model is there,
    has the size the build wrote, and, up to `verify_limit` bytes (None: all), the same checksum.

    Raises:
        IndexNotFoundError: no build has finished yet.
        CorruptIndexError: a file is missing, a link, or not what the build wrote.
    """
    if manifest.generation is None:
        raise IndexNotFoundError(
            f"no complete index in {index_dir} yet: its first build was interrupted or is running; "
            f"run `qa index CORPUS --index {index_dir}`"
        )
    problems = verify(index_dir, manifest, verify_limit)
    if problems:
        name, problem = next(iter(problems.items()))
        raise CorruptIndexError(f"{Path(index_dir) / name} {problem}; run `qa index --index {index_dir}` to repair it")
    return Path(index_dir) / manifest.generation


def verify(index_dir: Path, manifest: Manifest, limit: int | None = None) -> dict[str, str]:
    """What is wrong with the files the manifest records: file name (relative to the index) -> problem;
    empty when all is well.

    Args:
        limit: files up to this size are read and their sha256 compared; larger ones only by size. None: all.
    """
    problems = {}
    for name, expected in sorted(manifest.files.items()):
        problem = _check_file(Path(index_dir), name, expected, limit)
        if problem:
            problems[name] = problem
    if manifest.generation and not any(n.startswith(f"{manifest.generation}/") for n in manifest.files):
        problems[MANIFEST] = f"records no file of {manifest.generation}"
    return problems


def _check_file(index_dir: Path, name: str, expected: FileSum, limit: int | None) -> str | None:
    path = index_dir / name
    parts = name.split("/")
    for depth in range(1, len(parts)):  # gen-000001/ or bm25/ itself a link to another folder
        if os.path.islink(index_dir.joinpath(*parts[:depth])):
            return f"is inside {'/'.join(parts[:depth])}, a symbolic link, which qa does not follow inside an index"
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "is missing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link, which qa does not follow inside an index"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_size != expected.size:
        return f"has {info.st_size} bytes, the build wrote {expected.size}"
    if limit is not None and info.st_size > limit:
        return None
    try:
        digest = file_sha256(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None if digest == expected.sha256 else "has changed since the build wrote it (checksum mismatch)"


def file_sha256(path: Path) -> str:
    fd = open_regular(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def checksums(folder: Path, name: str) -> dict[str, FileSum]:
    """Size and sha256 of every file below `folder`, keyed as the manifest records them: the path
    relative to the index once the folder is the index's `name` (a staging folder is read before its rename).
    """
    out: dict[str, FileSum] = {}
    for parent, dirs, files in os.walk(folder):
        dirs.sort()
        for file in sorted(files):
            path = Path(parent) / file
            out[f"{name}/{path.relative_to(folder).as_posix()}"] = FileSum(
                size=path.stat().st_size, sha256=file_sha256(path)
            )
    return out


def next_generation_name(index_dir: Path) -> str:
    numbers = [int(m.group(1)) for name in os.listdir(index_dir) if (m := _GENERATION.match(name))]
    return f"gen-{max(numbers, default=0) + 1:06d}"


def model_dir(index_dir: Path, fingerprint: str | None = None) -> Path:
    """Where the index keeps its exported copy of the model with this fingerprint (by default, the one its
    manifest names: the model the current generation was embedded with).

    One folder per model: a build that brings a new model exports it beside the one the current generation
    was embedded with, so until the new generation is published, a crash leaves the old index usable.
    """
    if fingerprint is None:
        fingerprint = read_manifest(Path(index_dir)).model_fingerprint
    if not re.match(FINGERPRINT_PATTERN, fingerprint):
        raise CorruptIndexError(f"{fingerprint[:40]!r} is not a model fingerprint; rebuild with `qa index --rebuild`")
    return Path(index_dir) / f"{MODEL_DIR}-{fingerprint}"


def remove_entry(path: Path) -> None:
    """Remove a folder, a file or a link (never what the link points to); nothing there is fine."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)  # a file or a link: the link goes, never what it points to


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file under a temporary name in the same folder, fsync it, then rename it into place.

    The temporary file is made anew (O_EXCL, no link followed), so whatever was at its name is never written.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    remove_entry(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def is_qa_name(name: str) -> bool:
    """Whether a top-level name is one qa makes in an index folder."""
    return name in (MANIFEST, LOCK, MANIFEST_TMP, BACKUP, BACKUP_TMP) or any(
        p.match(name) for p in (_GENERATION, _MODEL, _TEMP)
    )


def is_owned_name(name: str) -> bool:
    """Whether a name may stand in a manifest's `owned` list: a generation, a model copy or a temporary folder."""
    return bool(_GENERATION.match(name) or _MODEL.match(name) or _TEMP.match(name))


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(folder))
