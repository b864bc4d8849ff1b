"""Would a fine-tuned cross-encoder choose better sentences than qa's ranker? (bench/train_reranker.py)

For every scored question of the development sets, qa's own candidates are taken (the path `QA.ask`
takes, on the indexes bench/evaluate.py built), the best `--depth` are scored by the reranker, and top-1
accuracy (the first sentence holds a gold answer from a gold article; declining is not modelled) is
printed for qa's order, the reranker's order and a two-fold fitted blend of both. SQuAD is also split
into the articles the reranker was trained on and those it never saw.

    .venv/bin/python bench/rerank_probe.py [--weights bench/out/reranker/reranker.safetensors]
"""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import qa  # noqa: E402
from evalsets import DEFAULT_DATA, load_set, short_hash  # noqa: E402
from fit_answerer import logistic  # noqa: E402
from train_reranker import held_out_titles  # noqa: E402

OUT = ROOT / "bench" / "out"


def load_reranker(weights: Path):  # type: ignore[no-untyped-def]
    """The packaged MiniLM with the fine-tuned layers loaded over it, and its tokenizer."""
    import torch
    import transformers
    from safetensors.torch import load_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from qa.embedding import packaged_model_dir

    transformers.utils.logging.set_verbosity_error()
    torch.set_num_threads(2)
    source = packaged_model_dir()
    model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=1)
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in load_file(str(weights)).items()}, strict=False)
    if unexpected or set(missing) - {"bert.embeddings.word_embeddings.weight"}:
        raise SystemExit(f"{weights} does not fit the packaged model")
    return model.eval(), AutoTokenizer.from_pretrained(source)


def collect(names: list[str], weights: Path, depth: int) -> list[dict]:
    import torch

    model, tokenizer = load_reranker(weights)
    held = {"squad-" + short_hash(t) for t in held_out_titles(DEFAULT_DATA)}
    rows = []
    for name in names:
        evalset = load_set(name, DEFAULT_DATA)
        bot = qa.open_index(OUT / name / "index")
        for q in evalset.questions:
            if not (q.answerable and q.answers):
                continue
            top = bot._candidates(q.question)[1][:depth]
            if not top:
                continue
            with torch.no_grad():
                enc = tokenizer([q.question] * len(top), [s.sentence.text for s in top], truncation="only_second",
                                max_length=128, padding=True, return_tensors="pt")
                cross = model(**enc).logits[:, 0].numpy()
            y = [float(evalset.is_right(q, s.sentence.text, s.sentence.doc_id)) for s in top]
            group = name
            if name == "squad":
                group = "squad-unseen" if q.docs[0] in held else "squad-trained"
            rows.append({"set": name, "group": group, "qid": q.qid, "y": np.array(y),
                         "first": np.array([s.score for s in top]), "cross": cross})
        bot.close()
    return rows


def _blend_x(row: dict) -> np.ndarray:
    return np.c_[row["first"], row["cross"], row["cross"] - row["cross"].max()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=OUT / "reranker" / "reranker.safetensors")
    parser.add_argument("--sets", default="seed,realtimeqa,squad,quail")
    parser.add_argument("--depth", type=int, default=6, help="how many of qa's best sentences the reranker reads")
    args = parser.parse_args()
    if not args.weights.is_file():
        raise SystemExit(f"{args.weights} is missing: train it first with bench/train_reranker.py")
    rows = collect(args.sets.split(","), args.weights, args.depth)

    blended: dict[str, list[float]] = {}
    for half in (0, 1):
        train = [r for r in rows if zlib.crc32(f"{r['set']}{r['qid']}".encode()) % 2 != half]
        theta = logistic(np.vstack([_blend_x(r) for r in train]), np.concatenate([r["y"] for r in train]),
                         np.concatenate([np.full(len(r["y"]), 1 / len(r["y"])) for r in train]), l2=0.1)
        for r in rows:
            if zlib.crc32(f"{r['set']}{r['qid']}".encode()) % 2 == half:
                blended.setdefault(r["qid"] + r["set"], []).append(r["y"][int(np.argmax(_blend_x(r) @ theta[1:]))])

    print(f"top-1 accuracy over qa's best {args.depth} sentences (blend: two-fold logistic over qa's score and the reranker's)")
    print(f"{'set':<15}{'n':>5}{'oracle':>8}{'qa':>8}{'reranker':>10}{'blend':>8}")
    for group in dict.fromkeys(r["group"] for r in rows):
        rs = [r for r in rows if r["group"] == group]
        qa_top = np.mean([r["y"][0] for r in rs]) * 100
        ce_top = np.mean([r["y"][int(np.argmax(r["cross"]))] for r in rs]) * 100
        blend = np.mean([blended[r["qid"] + r["set"]][0] for r in rs]) * 100
        oracle = np.mean([r["y"].max() for r in rs]) * 100
        print(f"{group:<15}{len(rs):>5}{oracle:>8.1f}{qa_top:>8.1f}{ce_top:>10.1f}{blend:>8.1f}")


if __name__ == "__main__":
    main()
