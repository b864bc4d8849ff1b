"""Embedding speed: sentence-transformers (torch) against qa's ONNX Embedder, fp32 and int8, in one run.

Also measures the thread settings of the query path: embedding one question with 1 or 2 ONNX Runtime
threads, and one FAISS search over 10,000 vectors with 1 or 2 OpenMP threads.

    .venv/bin/python -m bench.encode_speed [--sentences 1000]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from qa.dense import DIM, Embedder, export_model, packaged_model_dir

BBC = Path(__file__).resolve().parents[2] / "shared" / "evaldev" / "corpora" / "bbc-news" / "bbc"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
QUESTIONS = [
    "How many Chinese nationals did Zelensky claim were fighting for Russia?",
    "Who won the FA Cup final?",
    "What did the Bank of England do with interest rates?",
    "When will the new games console go on sale in Europe?",
]


def load_sentences(corpus: Path, count: int) -> list[str]:
    """Sentences from articles spread over the corpus's five sections, in file order."""
    files = sorted(corpus.glob("*/*.txt"))
    sentences: list[str] = []
    for path in files[:: max(1, len(files) // 200)]:
        body = path.read_bytes().decode("utf-8", errors="replace").partition("\n")[2]
        sentences += [s for s in _SENTENCE_END.split(" ".join(body.split())) if s]
    return sentences[:count]


def _rate(encode, texts: list[str]) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    encode(texts[:8])
    tick = time.perf_counter()
    vectors = encode(texts)
    return vectors, len(texts) / (time.perf_counter() - tick)


def _median_ms(call, repeats: int = 60) -> float:  # type: ignore[no-untyped-def]
    call()
    times = []
    for _ in range(repeats):
        tick = time.perf_counter()
        call()
        times.append(time.perf_counter() - tick)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=BBC)
    parser.add_argument("--sentences", type=int, default=1000)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"

    texts = load_sentences(args.corpus, args.sentences)
    with tempfile.TemporaryDirectory() as tmp:
        export_model(Path(tmp) / "fp32")
        export_model(Path(tmp) / "int8", quantize=True)
        fp32, int8 = Embedder(Path(tmp) / "fp32"), Embedder(Path(tmp) / "int8")

        from sentence_transformers import SentenceTransformer

        torch_model = SentenceTransformer(str(packaged_model_dir()), device="cpu")
        reference, torch_rate = _rate(
            lambda t: torch_model.encode(t, batch_size=32, normalize_embeddings=True), texts
        )
        rows = [("sentence-transformers (torch)", torch_rate, 1.0, 1.0)]
        for name, embedder in (("qa Embedder, ONNX fp32", fp32), ("qa Embedder, ONNX int8", int8)):
            vectors, rate = _rate(embedder.encode, texts)
            cosines = (vectors * reference).sum(axis=1)
            rows.append((name, rate, float(cosines.mean()), float(cosines.min())))

        threads = []
        for count in (1, 2):
            embedder = Embedder(Path(tmp) / "fp32", threads=count)
            question = _median_ms(lambda: [embedder.encode([q]) for q in QUESTIONS]) / len(QUESTIONS)
            _, rate = _rate(embedder.encode, texts)
            threads.append((count, question, rate))

    import faiss

    rng = np.random.default_rng(0)
    stored = rng.normal(size=(10_000, DIM)).astype(np.float32)
    stored /= np.linalg.norm(stored, axis=1, keepdims=True)
    # The index DenseIndex builds, used directly since DenseIndex.search sets the thread count itself.
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
    index.add_with_ids(stored, np.arange(len(stored), dtype=np.int64))
    searches = []
    for count in (1, 2):
        faiss.omp_set_num_threads(count)
        searches.append((count, _median_ms(lambda: index.search(stored[:1], 50), repeats=200)))

    print(f"data: {len(texts)} sentences of {args.corpus} (batch 32, sorted by length), {os.cpu_count()} CPUs\n")
    print(f"{'encoder':<32}{'texts/s':>9}{'mean cos':>10}{'min cos':>10}   (cosine to sentence-transformers)")
    for name, rate, mean, low in rows:
        print(f"{name:<32}{rate:>9.0f}{mean:>10.5f}{low:>10.5f}")
    print(f"\n{'ONNX Runtime threads':<32}{'question (ms)':>14}{'batch texts/s':>15}")
    for count, question, rate in threads:
        print(f"{count:<32}{question:>14.2f}{rate:>15.0f}")
    print(f"\n{'FAISS threads':<32}{'1 search, 10k vectors (ms)':>27}")
    for count, ms in searches:
        print(f"{count:<32}{ms:>27.3f}")
    print(f"\ncommand: .venv/bin/python -m bench.encode_speed {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
