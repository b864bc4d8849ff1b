"""One retrieval system, built and queried in this process: what bench/peers.py runs in each peer's venv.

Standalone on purpose (the peers' venvs hold neither qa nor bench/): it imports only the standard library
and the system it measures. bench/peers.py runs it twice per system and set, once to build and query
(warm), once in a fresh process to load what the build saved and answer one question (cold start).

    VENV/bin/python bench/peer_worker.py build txtai --work DIR --model DIR
    VENV/bin/python bench/peer_worker.py cold txtai --work DIR --model DIR
"""

from __future__ import annotations

import abc
import argparse
import json
import os
import pickle
import re
import resource
import sys
import time
from pathlib import Path

K = 10
WARMUP = 3


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


class Peer(abc.ABC):
    """Build from passages, save, load, search: the same four steps for every system."""

    @abc.abstractmethod
    def build(self, passages: list[dict], model: str, corpus: Path) -> None: ...
    @abc.abstractmethod
    def save(self, folder: Path) -> None: ...
    @abc.abstractmethod
    def load(self, folder: Path, model: str) -> None: ...
    @abc.abstractmethod
    def search(self, question: str) -> list[str]: ...  # passage ids, best first


class Qa(Peer):
    # qa builds from the articles (it splits them into these same passages itself) and searches with
    # bot.search: BM25 and dense fused, as the other systems do.
    def build(self, passages, model, corpus):
        import qa

        self._index = corpus.parent / "qa-index"
        qa.build_index(corpus, self._index, rebuild=True)
        self.load(self._index, model)

    def save(self, folder):
        pass  # qa.build_index wrote it

    def load(self, folder, model):
        import qa

        self.bot = qa.open_index(folder if folder.name == "qa-index" else folder.parent / "qa-index")

    def search(self, question):
        return [f"{p.doc_id}#{p.start}" for p in self.bot.search(question, k=K)]


class Txtai(Peer):
    def build(self, passages, model, corpus):
        from txtai import Embeddings

        self.embeddings = Embeddings(path=model, hybrid=True, content=True)
        self.embeddings.index([{"id": p["id"], "text": p["text"]} for p in passages])

    def save(self, folder):
        self.embeddings.save(str(folder))

    def load(self, folder, model):
        from txtai import Embeddings

        self.embeddings = Embeddings()
        self.embeddings.load(str(folder))

    def search(self, question):
        return [hit["id"] for hit in self.embeddings.search(question, K)]


class Haystack(Peer):
    def _query_pipeline(self, model):
        from haystack import Pipeline
        from haystack.components.embedders import SentenceTransformersTextEmbedder
        from haystack.components.joiners import DocumentJoiner
        from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever

        pipe = Pipeline()
        pipe.add_component("embedder", SentenceTransformersTextEmbedder(model=model, local_files_only=True, progress_bar=False))
        pipe.add_component("bm25", InMemoryBM25Retriever(self.store, top_k=K))
        pipe.add_component("dense", InMemoryEmbeddingRetriever(self.store, top_k=K))
        pipe.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=K))
        pipe.connect("embedder.embedding", "dense.query_embedding")
        pipe.connect("bm25", "joiner")
        pipe.connect("dense", "joiner")
        self.pipe = pipe

    def build(self, passages, model, corpus):
        from haystack import Document, Pipeline
        from haystack.components.embedders import SentenceTransformersDocumentEmbedder
        from haystack.components.writers import DocumentWriter
        from haystack.document_stores.in_memory import InMemoryDocumentStore

        self.store = InMemoryDocumentStore(embedding_similarity_function="cosine")
        index = Pipeline()
        index.add_component("embedder", SentenceTransformersDocumentEmbedder(model=model, local_files_only=True, progress_bar=False))
        index.add_component("writer", DocumentWriter(self.store))
        index.connect("embedder", "writer")
        index.run({"embedder": {"documents": [Document(id=p["id"], content=p["text"]) for p in passages]}})
        self._query_pipeline(model)

    def save(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        self.store.save_to_disk(str(folder / "store.json"))

    def load(self, folder, model):
        from haystack.document_stores.in_memory import InMemoryDocumentStore

        self.store = InMemoryDocumentStore.load_from_disk(str(folder / "store.json"))
        self._query_pipeline(model)

    def search(self, question):
        out = self.pipe.run({"embedder": {"text": question}, "bm25": {"query": question}})
        return [d.id for d in out["joiner"]["documents"]]


class RankBm25(Peer):
    # BM25 only (no dense side); a user keeps it with pickle, so that is its saved form.
    def build(self, passages, model, corpus):
        from rank_bm25 import BM25Okapi

        self.ids = [p["id"] for p in passages]
        self.bm25 = BM25Okapi([_tokens(p["text"]) for p in passages])

    def save(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "bm25.pickle", "wb") as f:
            pickle.dump((self.ids, self.bm25), f)

    def load(self, folder, model):
        with open(folder / "bm25.pickle", "rb") as f:
            self.ids, self.bm25 = pickle.load(f)  # our own file, written by save() above

    def search(self, question):
        import numpy as np

        scores = self.bm25.get_scores(_tokens(question))
        return [self.ids[i] for i in np.argsort(-scores)[:K]]


PEERS: dict[str, type[Peer]] = {"qa": Qa, "txtai": Txtai, "haystack": Haystack, "rank_bm25": RankBm25}


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("build", "cold"))
    parser.add_argument("peer", choices=sorted(PEERS))
    parser.add_argument("--work", type=Path, required=True, help="folder with passages.jsonl, questions.json, corpus/")
    parser.add_argument("--model", required=True, help="the local all-MiniLM-L6-v2 folder")
    args = parser.parse_args()
    started = time.perf_counter()
    os.environ["HF_HUB_OFFLINE"] = "1"
    peer = PEERS[args.peer]()
    saved = args.work / f"{args.peer}-saved"
    questions = json.loads((args.work / "questions.json").read_text(encoding="utf-8"))
    out: dict = {"peer": args.peer, "step": args.step, "load_before": os.getloadavg()[0]}
    if args.step == "build":
        passages = [json.loads(line) for line in open(args.work / "passages.jsonl", encoding="utf-8")]
        tick = time.perf_counter()
        peer.build(passages, args.model, args.work / "corpus")
        peer.save(saved)
        out["build_s"] = time.perf_counter() - tick
        out["disk_bytes"] = _size(args.work / "qa-index") if args.peer == "qa" else _size(saved)
        for q in questions[:WARMUP]:
            peer.search(q["question"])
        times, ranked = [], []
        for q in questions:
            tick = time.perf_counter()
            ranked.append(peer.search(q["question"]))
            times.append(time.perf_counter() - tick)
        out["query_s"] = times
        out["ranked"] = ranked
    else:
        peer.load(args.work / "qa-index" if args.peer == "qa" else saved, args.model)
        peer.search(questions[0]["question"])
        out["cold_in_process_s"] = time.perf_counter() - started
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["load_after"] = os.getloadavg()[0]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
