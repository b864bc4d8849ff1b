"""Fine-tune an answer-sentence reranker: all-MiniLM-L6-v2 as a cross-encoder over (question, sentence).

Training data: SQuAD v1.1 dev-half questions (CC BY-SA 4.0) read from ../shared/evaldev, never copied.
Held out from training: every question of the evaluation sample (bench/evaluate.py's seeded 300) and
every question of the held-out articles (a third of the titles, by a seeded draw), so the evaluation can
report SQuAD figures on articles the reranker never saw. No RealTimeQA, QuAIL or seed data is used.

Each training group is one question with the sentences of its paragraph (the one holding the answer
span is the positive; the others are the hard negatives: same topic, same words, no answer) and a few
sentences from other paragraphs of the same article. The loss is a softmax over the group, so the
model learns to put the answering sentence first. The word embeddings stay frozen: they are the
packaged model's, so only the transformer layers and the head are saved (float16, 22 MB).

    .venv/bin/python bench/train_reranker.py     # ~13 min on 2 cores; writes bench/out/reranker/reranker.safetensors
    .venv/bin/python bench/rerank_probe.py       # how much the reranker would change which sentence qa quotes

An experiment, measured and not adopted (README, "Limits"): on SQuAD articles it never saw it lifts top-1
by 5 points over qa's ranker, but on RealTimeQA news and on the seed questions it does worse, and it
would add ~25 ms to every question.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from evalsets import DEFAULT_DATA, load_squad  # noqa: E402

from qa.sentences import split_sentences  # noqa: E402

HELD_OUT_SHARE = 1 / 3
SPLIT_SEED = 29


def held_out_titles(data: Path) -> set[str]:
    """The SQuAD titles whose questions the reranker never trains on."""
    raw = json.loads((data / "squad" / "dev-half-v1.1.json").read_text(encoding="utf-8"))
    titles = sorted(entry["title"] for entry in raw["data"])
    return set(random.Random(SPLIT_SEED).sample(titles, round(len(titles) * HELD_OUT_SHARE)))


def training_groups(data: Path, others: int, cap: int, seed: int) -> list[tuple[str, list[str], int]]:
    """(question, candidate sentences, index of the answering one) for every training question."""
    raw = json.loads((data / "squad" / "dev-half-v1.1.json").read_text(encoding="utf-8"))
    excluded = {q.qid for q in load_squad(data).questions}
    held = held_out_titles(data)
    rng = random.Random(seed)
    groups = []
    for entry in raw["data"]:
        if entry["title"] in held:
            continue
        paragraphs = []
        for para in entry["paragraphs"]:
            text = para["context"]
            paragraphs.append([(s, e, text[s:e]) for s, e in split_sentences(text)])
        for p_index, para in enumerate(entry["paragraphs"]):
            sentences = paragraphs[p_index]
            pool = [s for i, ss in enumerate(paragraphs) if i != p_index for s in ss]
            for qa in para["qas"]:
                if qa["id"] in excluded:
                    continue
                start = qa["answers"][0]["answer_start"]
                positive = next((i for i, (s, e, _) in enumerate(sentences) if s <= start < e), None)
                if positive is None:
                    continue
                negatives = [t for i, (_, _, t) in enumerate(sentences) if i != positive]
                rng.shuffle(negatives)
                negatives = negatives[: cap - 1 - others] + [t for _, _, t in rng.sample(pool, min(others, len(pool)))]
                texts = [sentences[positive][2]] + negatives
                order = list(range(len(texts)))
                rng.shuffle(order)
                groups.append((qa["question"], [texts[i] for i in order], order.index(0)))
    rng.shuffle(groups)
    return groups


def train(groups, out: Path, epochs: float, batch_groups: int, lr: float, max_length: int) -> None:  # type: ignore[no-untyped-def]
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    from qa.embedding import packaged_model_dir

    torch.manual_seed(0)
    source = packaged_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=1)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    steps = int(len(groups) * epochs / batch_groups)
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(steps * 0.1), steps)
    model.train()
    started, running = time.time(), 0.0
    for step in range(steps):
        batch = [groups[(step * batch_groups + i) % len(groups)] for i in range(batch_groups)]
        questions = [q for q, texts, _ in batch for _ in texts]
        sentences = [t for _, texts, _ in batch for t in texts]
        enc = tokenizer(questions, sentences, truncation="only_second", max_length=max_length,
                        padding=True, return_tensors="pt")
        logits = model(**enc).logits.squeeze(-1)
        loss = torch.zeros(())
        at = 0
        for _, texts, positive in batch:
            group = logits[at: at + len(texts)]
            loss = loss + torch.nn.functional.cross_entropy(group.unsqueeze(0), torch.tensor([positive]))
            at += len(texts)
        loss = loss / len(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if step % 20 == 0 or step == steps - 1:
            print(f"step {step + 1}/{steps} loss {running:.3f} {time.time() - started:.0f}s", flush=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
             if k != "bert.embeddings.word_embeddings.weight"}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out), metadata={"base": "sentence-transformers/all-MiniLM-L6-v2",
                                         "max_length": str(max_length)})
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "reranker" / "reranker.safetensors")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-groups", type=int, default=4)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--others", type=int, default=2, help="sentences from other paragraphs per group")
    parser.add_argument("--cap", type=int, default=8, help="sentences per group at most")
    parser.add_argument("--limit", type=int, default=0, help="train on the first N groups only")
    args = parser.parse_args()
    groups = training_groups(args.data, args.others, args.cap, seed=7)
    if args.limit:
        groups = groups[: args.limit]
    print(f"{len(groups)} training questions, {sum(len(t) for _, t, _ in groups)} pairs; "
          f"held-out titles: {sorted(held_out_titles(args.data))}", flush=True)
    train(groups, args.out, args.epochs, args.batch_groups, args.lr, args.max_length)


if __name__ == "__main__":
    main()
