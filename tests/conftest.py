"""Shared fixtures: the real default corpus, indexes built once per run, the real model."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import qa

REPO = Path(__file__).resolve().parents[1]


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


@pytest.fixture(scope="session")
def default_index(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    """An index of the default corpus, built once per test run."""
    index = tmp_path_factory.mktemp("default") / "index"
    qa.build_index(corpus_dir, index)
    return index


@pytest.fixture(scope="session")
def bot(default_index: Path) -> Iterator[qa.QA]:
    """The default index, open."""
    with qa.open_index(default_index) as opened:
        yield opened


@pytest.fixture(scope="session")
def model_dir(default_index: Path) -> Path:
    """all-MiniLM-L6-v2 as build_index exported it to ONNX for the default index."""
    from qa import store

    return store.model_dir(default_index)
