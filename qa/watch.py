"""Keep an index current while a corpus folder changes: watch it, and build when a burst of changes settles.

watchfiles (MIT; inotify on Linux, FSEvents on macOS, polling elsewhere) reports changes; a burst (a
copy of many files, an editor's save-and-rename) is gathered until the folder has been quiet for `quiet`
seconds, then one incremental build runs. Builds never overlap: changes made during one are gathered
for the next. Setting `stop` ends the watch within a fraction of a second, between builds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from qa.documents import SUPPORTED_SUFFIXES
from qa.errors import QAError
from qa.models import IndexReport

QUIET = 0.5
"""Seconds without a change before a burst counts as over and a build starts."""


def watch_index(
    corpus_dir: str | Path,
    index_dir: str | Path = "index",
    *,
    on_build: Callable[[IndexReport], None] | None = None,
    on_error: Callable[[QAError], None] | None = None,
    stop: threading.Event | None = None,
    quiet: float = QUIET,
    build_first: bool = True,
    **build_options: Any,
) -> None:
    """Build the index of a corpus folder, then build it again each time files are added, changed or removed.

    Args:
        corpus_dir: the folder to watch, recursively.
        index_dir: the index to keep current (a folder or a Milvus URI, as `qa.build_index` takes).
        on_build: called with each build's IndexReport.
        on_error: called with a build's QAError (a corpus left with no readable article, another build
            holding the index); the watch goes on. Without it the error is raised.
        stop: set it to end the watch; without it the watch runs until KeyboardInterrupt.
        quiet: seconds the folder must be quiet before a burst of changes is built.
        build_first: bring the index up to date before waiting for changes.
        build_options: passed to `qa.build_index` (rebuild applies to the first build only).

    Raises:
        CorpusError: the folder does not exist.
        KeyboardInterrupt: on Ctrl-C, when no `stop` event is given.
    """
    from qa.api import build_index

    corpus_dir = Path(corpus_dir)
    build_options.setdefault("wait", 60.0)

    def build() -> None:
        try:
            report = build_index(corpus_dir, index_dir, **build_options)
        except QAError as exc:
            if on_error is None:
                raise
            on_error(exc)
        else:
            if on_build is not None:
                on_build(report)
        build_options.pop("rebuild", None)

    first = True
    # The watch is live before the first build, so a file added while that build runs is not missed.
    for paths in corpus_changes(corpus_dir, stop=stop, quiet=quiet, ignore=index_dir, announce=True):
        if paths or (first and build_first):
            build()
        first = False


def corpus_changes(
    corpus_dir: str | Path, *, stop: threading.Event | None = None, quiet: float = QUIET,
    ignore: str | Path | None = None, announce: bool = False,
) -> Iterator[list[str]]:
    """Each burst of changes to the articles of a folder, once it settles: the paths below the folder.

    Hidden files and folders, files of types qa does not read, and `ignore` (an index folder kept inside
    the corpus) are left out, as a build leaves them out. With `announce`, an empty list comes first,
    once the watch is live.

    Raises:
        CorpusError: the folder does not exist.
    """
    import watchfiles

    from qa.errors import CorpusError

    root = Path(corpus_dir).resolve()
    if not root.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist; pass the folder that holds your articles")
    skip = Path(ignore).resolve() if ignore is not None and not str(ignore).startswith("milvus") else None

    def wanted(change: watchfiles.Change, path: str) -> bool:
        where = Path(path)
        if skip is not None and (where == skip or skip in where.parents):
            return False
        try:
            parts = where.relative_to(root).parts
        except ValueError:
            return False
        suffix = where.suffix.lower()
        return bool(parts) and not any(p.startswith(".") for p in parts) and (
            suffix in SUPPORTED_SUFFIXES or not suffix or where.is_dir())

    step = max(int(quiet * 1000), 50)
    for changes in watchfiles.watch(root, watch_filter=wanted, step=step, debounce=max(10 * step, 5000),
                                    stop_event=stop, rust_timeout=200, yield_on_timeout=True):
        if changes or announce:
            announce = False
            yield sorted({Path(path).relative_to(root).as_posix() for _, path in changes})
