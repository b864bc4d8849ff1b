"""The reading model: reads a question with a window of consecutive sentences and says which one answers.

The ranker (`qa.ranker`) scores every sentence of the best passages on its own; the reader then reads
the question together with the title and a window of up to three consecutive sentences around each of
the ranker's best few, in one pass of a small transformer (the packaged all-MiniLM-L6-v2 cut to its first
layers and fine-tuned by `bench/fit/train_reader.py`). For every sentence of a window it gives a logit, for
the window a "none of these" logit, and for every word piece a start and an end logit of the short
answer. The weights ship inside qa (`qa/weights/reader/`, int8 ONNX with its model card) and run with
ONNX Runtime only: no torch, no download.

The input is laid out as `[CLS] question [SEP] title [SEP] sentence sentence sentence [SEP]`; each
sentence's logit comes from the mean of its word pieces' last hidden states. `encode` is shared with the
training script, so the model is trained on exactly what it reads here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.errors import ModelUnavailableError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "reader"
MODEL_FILE = "reader.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "config.json"

MAX_QUESTION = 40
MAX_TITLE = 24
MAX_SENTENCE = 64
WINDOW = 1  # sentences on each side of a focus sentence
MAX_SPAN = 24  # word pieces in a short answer at most


@dataclass(frozen=True)
class Window:
    """Consecutive sentences of one article (as text), read together with its title."""

    title: str
    sentences: tuple[str, ...]


@dataclass
class Encoded:
    """A window laid out for the model: word-piece ids and where each sentence's pieces are."""

    ids: list[int]
    type_ids: list[int]
    spans: list[tuple[int, int]]  # [start, end) of each sentence's pieces in `ids`
    offsets: list[list[tuple[int, int]]]  # for each sentence, its pieces' character offsets in it


@dataclass
class Reading:
    """What the reader says of one window."""

    sentence_logits: np.ndarray  # one per sentence of the window
    none_logit: float
    # per sentence, the reader's best short answer: (score over "no span", start, end characters in the sentence)
    spans: list[tuple[float, int, int] | None] = field(default_factory=list)

    def margins(self) -> np.ndarray:
        """Each sentence's logit over the window's "none of these": > 0 means the reader prefers it."""
        return self.sentence_logits - self.none_logit


def focus_windows(keys: Sequence[tuple[str, int]], k: int) -> list[list[int]]:
    """The windows to read: for each of the first sentences of a ranking that no earlier window holds, the
    sentence with its neighbours (WINDOW on each side) that are in the ranking too, until there are k.

    Args:
        keys: (doc_id, sentence index in its article) of the ranked sentences, best first.
        k: windows at most.

    Returns:
        Each window as positions in `keys`, in article order.
    """
    at = {key: i for i, key in enumerate(keys)}
    windows: list[list[int]] = []
    covered: set[int] = set()
    for i, (doc, idx) in enumerate(keys):
        if len(windows) >= k:
            break
        if i in covered:
            continue
        members = [at[(doc, j)] for j in range(idx - WINDOW, idx + WINDOW + 1) if (doc, j) in at]
        windows.append(members)
        covered.update(members)
    return windows


def encode(tokenizer: Tokenizer, question: str, window: Window) -> Encoded:
    """Lay out a question and a window as `[CLS] question [SEP] title [SEP] sentences [SEP]`.

    Each part is truncated on its own (question 40, title 24, each sentence 64 word pieces), so a long
    sentence never pushes its neighbours out of the window.
    """
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    assert cls is not None and sep is not None, "a BERT vocabulary has [CLS] and [SEP]"
    q, t, *ss = tokenizer.encode_batch([question, window.title, *window.sentences], add_special_tokens=False)
    ids = [cls, *q.ids[:MAX_QUESTION], sep]
    type_ids = [0] * len(ids)
    context = [*t.ids[:MAX_TITLE], sep]
    spans, offsets = [], []
    for s in ss:
        start = len(ids) + len(context)
        context += s.ids[:MAX_SENTENCE]
        spans.append((start, len(ids) + len(context)))
        offsets.append(list(s.offsets[:MAX_SENTENCE]))
    context.append(sep)
    ids += context
    type_ids += [1] * len(context)
    return Encoded(ids, type_ids, spans, offsets)


def batch_arrays(encoded: Sequence[Encoded]) -> dict[str, np.ndarray]:
    """Pad a batch of encoded windows into the model's four inputs."""
    width = max(len(e.ids) for e in encoded)
    most = max(len(e.spans) for e in encoded)
    n = len(encoded)
    ids = np.zeros((n, width), dtype=np.int64)
    types = np.zeros((n, width), dtype=np.int64)
    mask = np.zeros((n, width), dtype=np.int64)
    sentence_mask = np.zeros((n, most, width), dtype=np.float32)
    for row, e in enumerate(encoded):
        ids[row, : len(e.ids)] = e.ids
        types[row, : len(e.ids)] = e.type_ids
        mask[row, : len(e.ids)] = 1
        for j, (a, b) in enumerate(e.spans):
            sentence_mask[row, j, a:b] = 1.0
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "sentence_mask": sentence_mask}


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, a: int, b: int) -> tuple[float, int, int] | None:
    """The best (score, first piece, last piece) with a <= first <= last < b, at most MAX_SPAN pieces long,
    scored as start + end logit over the [CLS] ("no span") start + end."""
    if b <= a:
        return None
    s, e = start_logits[a:b], end_logits[a:b]
    n = b - a
    scores = s[:, None] + e[None, :]
    i, j = np.indices((n, n))
    scores = np.where((j >= i) & (j - i < MAX_SPAN), scores, -np.inf)
    flat = int(np.argmax(scores))
    first, last = divmod(flat, n)
    null = float(start_logits[0] + end_logits[0])
    return float(scores[first, last]) - null, a + first, a + last


class Reader:
    """The shipped reading model, loaded once; `read` scores windows of sentences for a question.

    Args:
        folder: a folder with the model and tokenizer.json (default: the weights inside qa, whose
            config.json and MODEL_CARD.md say how they were made).
        threads: ONNX Runtime intra-op threads.
        model_file: the ONNX file in `folder` (bench/ compares fp32 with the shipped int8 this way).

    Raises:
        ModelUnavailableError: the reader's files are missing or unreadable.
    """

    def __init__(self, folder: Path = WEIGHTS_DIR, threads: int = 1, model_file: str = MODEL_FILE) -> None:
        self.folder = Path(folder)
        for name in (model_file, TOKENIZER_FILE):
            if not (self.folder / name).is_file():
                raise ModelUnavailableError(
                    f"the reading model is incomplete: {self.folder / name} is missing; reinstall qa "
                    "(the weights ship inside the package; `python -m bench.train_reader` makes them anew)"
                )
        self._tokenizer = load_tokenizer(str(self.folder / TOKENIZER_FILE))
        self._session = _session(str(self.folder / model_file), threads)

    def read(self, question: str, windows: Sequence[Window]) -> list[Reading]:
        """Read each window with the question."""
        if not windows:
            return []
        out = []
        for window in windows:
            # one window a run: padding a batch to its longest window costs more than the extra calls
            e = encode(self._tokenizer, question, window)
            (sentence,), (none,), (start,), (end,) = self._session.run(None, batch_arrays([e]))
            spans: list[tuple[float, int, int] | None] = []
            for (a, b), offsets in zip(e.spans, e.offsets):
                found = best_span(start, end, a, b)
                spans.append(None if found is None else (found[0], offsets[found[1] - a][0], offsets[found[2] - a][1]))
            out.append(Reading(sentence.astype(np.float64), float(none), spans))
        return out


@lru_cache(maxsize=2)
def load_tokenizer(path: str) -> Tokenizer:
    """The reader's WordPiece tokenizer from its tokenizer.json, without padding or truncation (windows are
    cut by qa; bench.fit.train_reader tokenizes its training windows with it too)."""
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(path)
    except Exception as exc:
        raise ModelUnavailableError(f"{path} is unreadable ({exc}); reinstall qa") from exc
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


@lru_cache(maxsize=2)
def _session(path: str, threads: int) -> onnxruntime.InferenceSession:
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # qa writes nothing outside its index (qa.embedding)
    import onnxruntime

    if hasattr(onnxruntime, "disable_telemetry_events"):
        onnxruntime.disable_telemetry_events()

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelUnavailableError(
            f"{path} is not a readable ONNX model ({type(exc).__name__}); reinstall qa"
        ) from exc
