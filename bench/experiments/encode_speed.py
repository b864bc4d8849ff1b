"""Embedding speed: sentence-transformers (torch) against qa's ONNX Embedder, fp32 and int8, in one run.

Also measures ONNX fp32 with batches in text order instead of sorted by length (what sorting saves), and
the thread settings of the query path: embedding one question with 1 or 2 ONNX Runtime threads, and one
FAISS search over 10,000 vectors with 1 or 2 OpenMP threads. The sentences are BBC News ones (read by
bench/common/corpora.py), split by qa.sentences as an index build splits them. bench/scale/run.py calls `measure`.

    .venv/bin/python -m bench.experiments.encode_speed [--sentences 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common.corpora import BBC, bbc_records
from qa.embedding import DIM, Embedder, export_model, packaged_model_dir
from qa.sentences import split_sentences

QUESTIONS = [
    "How many Chinese nationals did Zelensky claim were fighting for Russia?",
    "Who won the FA Cup final?",
    "What did the Bank of England do with interest rates?",
    "When will the new games console go on sale in Europe?",
]


def load_sentences(corpus: Path, count: int) -> list[str]:
    """Sentences from articles spread over the corpus's five sections, in file order, split by qa.sentences
    as an index build splits them."""
    records = bbc_records(corpus)
    sentences: list[str] = []
    for record in records[:: max(1, len(records) // 200)]:
        text = record["text"]
        sentences += [text[start:end] for start, end in split_sentences(text)]
    return sentences[:count]


def _rate(encode, texts: list[str]) -> tuple[np.ndarray, float]:
    encode(texts[:8])
    tick = time.perf_counter()
    vectors = encode(texts)
    return vectors, len(texts) / (time.perf_counter() - tick)


def _median_ms(call, repeats: int = 60) -> float:
    call()
    times = []
    for _ in range(repeats):
        tick = time.perf_counter()
        call()
        times.append(time.perf_counter() - tick)
    return statistics.median(times) * 1e3


def measure(texts: list[str], questions: list[str] = QUESTIONS, rounds: int = 1) -> dict:
    """Embedding rates and query-path latencies on `texts`, all in this process.

    Args:
        texts: the sentences to embed (a few hundred or more).
        questions: single texts for the one-question latency.
        rounds: times each encoder embeds `texts`, the encoders taking turns, so that a burst of load from
            another process slows one round of each rather than one encoder; the best round counts.

    Returns:
        {"encoders": [{name, texts_per_s, rounds, mean_cos, min_cos}], "threads": [{threads, question_ms,
        texts_per_s}], "faiss": [{threads, search_ms}]}; cosines are to sentence-transformers' vectors.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        export_model(Path(tmp) / "fp32")
        export_model(Path(tmp) / "int8", quantize=True)
        fp32, int8 = Embedder(Path(tmp) / "fp32"), Embedder(Path(tmp) / "int8")

        from sentence_transformers import SentenceTransformer

        torch_model = SentenceTransformer(str(packaged_model_dir()), device="cpu")
        encoders = {
            "sentence-transformers (torch)": lambda t: torch_model.encode(t, batch_size=32, normalize_embeddings=True),
            "qa Embedder, ONNX fp32": fp32.encode,
            # Batches of 32 in text order: the padding cost that sorting by length saves.
            "ONNX fp32, unsorted batches": lambda t: np.concatenate(
                [fp32.encode(t[i : i + 32]) for i in range(0, len(t), 32)]
            ),
            "qa Embedder, ONNX int8": int8.encode,
        }
        rates: dict[str, list[float]] = {name: [] for name in encoders}
        vectors: dict[str, np.ndarray] = {}
        for _ in range(rounds):
            for name, encode in encoders.items():
                vectors[name], rate = _rate(encode, texts)
                rates[name].append(rate)
        reference = vectors["sentence-transformers (torch)"]
        encoders_out = []
        for name in encoders:
            cosines = (vectors[name] * reference).sum(axis=1)
            encoders_out.append({"name": name, "texts_per_s": max(rates[name]), "rounds": rates[name],
                                 "mean_cos": float(cosines.mean()), "min_cos": float(cosines.min())})

        threads = []
        for count in (1, 2):
            embedder = Embedder(Path(tmp) / "fp32", threads=count)
            question = _median_ms(lambda: [embedder.encode([q]) for q in questions]) / len(questions)
            _, rate = _rate(embedder.encode, texts)
            threads.append({"threads": count, "question_ms": question, "texts_per_s": rate})

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
        searches.append({"threads": count, "search_ms": _median_ms(lambda: index.search(stored[:1], 50), repeats=200)})
    return {"encoders": encoders_out, "threads": threads, "faiss": searches}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BBC,
                        help="the BBC News `bbc` folder, one sub-folder per category (default: %(default)s)")
    parser.add_argument("--sentences", type=int, default=1000, help="sentences each encoder embeds (default: 1000)")
    parser.add_argument("--rounds", type=int, default=1, help="turns per encoder; the best counts")
    args = parser.parse_args()

    texts = load_sentences(args.corpus, args.sentences)
    figures = measure(texts, rounds=args.rounds)
    print(f"data: {len(texts)} sentences of {args.corpus} (batch 32, best of {args.rounds} rounds), "
          f"{os.cpu_count()} CPUs\n")
    print(f"{'encoder':<32}{'texts/s':>9}{'mean cos':>10}{'min cos':>10}   (cosine to sentence-transformers)")
    for row in figures["encoders"]:
        print(f"{row['name']:<32}{row['texts_per_s']:>9.0f}{row['mean_cos']:>10.5f}{row['min_cos']:>10.5f}")
    print(f"\n{'ONNX Runtime threads':<32}{'question (ms)':>14}{'batch texts/s':>15}")
    for row in figures["threads"]:
        print(f"{row['threads']:<32}{row['question_ms']:>14.2f}{row['texts_per_s']:>15.0f}")
    print(f"\n{'FAISS threads':<32}{'1 search, 10k vectors (ms)':>27}")
    for row in figures["faiss"]:
        print(f"{row['threads']:<32}{row['search_ms']:>27.3f}")
    print(f"\ncommand: .venv/bin/python -m bench.experiments.encode_speed {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
