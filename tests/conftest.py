"""Shared fixtures: the real default corpus, indexes built once per run, the real model exported once."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import qa
from qa import store
from qa.embedding import MODEL_CACHE_ENV

REPO = Path(__file__).resolve().parents[1]
ZELENSKY = "how many Chinese nationals did Zelensky claim?"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for `-n auto` (pyproject's addopts): one more than the cores, since the chat, watch and server
    tests spend much of their time waiting on timers. Measured here on 2 cores: 115 s of pytest with 2
    workers, 97 s with 3 or 4."""
    return (os.cpu_count() or 1) + 1


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The five default articles shipped in corpus/."""
    return REPO / "corpus"


@pytest.fixture
def small_corpus(tmp_path: Path, corpus_dir: Path) -> Path:
    """A copy of the default corpus that a test may change."""
    target = tmp_path / "corpus"
    shutil.copytree(corpus_dir, target)
    return target


@dataclass(frozen=True)
class FirstBuild:
    """What the run's first build did, in a child process set up as a fresh machine."""

    index: Path
    answered: bool  # the child's ask quoted the answer
    written_outside: list[Path]  # whatever it left in its HOME and TMPDIR


@pytest.fixture(scope="session", autouse=True)
def first_build(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Iterator[FirstBuild]:
    """The default corpus built and asked once per run in a child process with no model cache and an empty
    HOME and TMPDIR, so the model is exported through torch as on a user's first build. Its index is
    `default_index`; its export seeds $QA_MODEL_CACHE, which every later build of the run (child processes
    too) copies instead of exporting the model again. Under pytest-xdist the first worker there builds it
    and the others wait for it and share it."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "default"
    index, home, tmp, cache, done = root / "index", root / "home", root / "tmp", root / "model-cache", root / "done.json"
    root.mkdir(exist_ok=True)
    with open(shared / "default.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes: the others then find done.json
        if not done.exists():
            _first_build(corpus_dir, index, home, tmp, cache, done)
    outcome = json.loads(done.read_text())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(MODEL_CACHE_ENV, str(cache))
        yield FirstBuild(index, outcome["answered"], [Path(p) for p in outcome["written_outside"]])


def _first_build(corpus_dir: Path, index: Path, home: Path, tmp: Path, cache: Path, done: Path) -> None:
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ORT_", "TORCH", "HF_", "QA_"))}
    script = (
        "import qa\n"
        f"qa.build_index({str(corpus_dir)!r}, {str(index)!r})\n"
        f"print(qa.open_index({str(index)!r}).ask({ZELENSKY!r}).sentence)\n"
    )
    child = subprocess.run([sys.executable, "-c", script], env=env | {"HOME": str(home), "TMPDIR": str(tmp)},
                           capture_output=True, text=True, timeout=900)
    if child.returncode != 0:
        raise RuntimeError(f"the first build of the default corpus failed:\n{child.stderr[-3000:]}")
    model = store.model_dir(index)
    shutil.copytree(model, cache / model.name)
    written = sorted(home.rglob("*")) + sorted(tmp.rglob("*"))
    done.write_text(json.dumps({"answered": "155" in child.stdout, "written_outside": [str(p) for p in written]}))


@pytest.fixture(scope="session")
def default_index(first_build: FirstBuild) -> Path:
    """An index of the default corpus, built once per test run."""
    return first_build.index


@pytest.fixture
def index_copy(default_index: Path, tmp_path: Path) -> Path:
    """A copy of the default index that a test may change or damage, as a build of `small_corpus` leaves it."""
    target = tmp_path / "index"
    shutil.copytree(default_index, target, symlinks=True)
    return target


@pytest.fixture(scope="session")
def bot(default_index: Path) -> Iterator[qa.QA]:
    """The default index, open."""
    with qa.open_index(default_index) as opened:
        yield opened


@pytest.fixture(scope="session")
def model_dir(default_index: Path) -> Path:
    """all-MiniLM-L6-v2 as build_index exported it to ONNX for the default index."""
    return store.model_dir(default_index)


@pytest.fixture(scope="session")
def milvus_store(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> str:
    """The default corpus indexed into a Milvus Lite file, once per run (per worker under pytest-xdist)."""
    uri = f"milvus-lite:{tmp_path_factory.mktemp('milvus') / 'index.db'}"
    qa.build_index(corpus_dir, uri)
    return uri


@pytest.fixture
def milvus_copy(milvus_store: str, tmp_path: Path) -> str:
    """A copy of `milvus_store` that a test may change, as a build of `small_corpus` leaves it: Milvus Lite
    keeps a store in one folder named like its file, and copying it costs milliseconds where a build costs
    seconds."""
    target = tmp_path / "index.db"
    shutil.copytree(milvus_store.removeprefix("milvus-lite:"), target)
    return f"milvus-lite:{target}"

