"""Shared fixtures: the real default corpus, indexes built once per run, the real model exported once."""

from __future__ import annotations

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
    too) copies instead of exporting the model again."""
    root = tmp_path_factory.mktemp("default")
    index, home, tmp, cache = root / "index", root / "home", root / "tmp", root / "model-cache"
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
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(MODEL_CACHE_ENV, str(cache))
        yield FirstBuild(index, "155" in child.stdout, sorted(home.rglob("*")) + sorted(tmp.rglob("*")))


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
