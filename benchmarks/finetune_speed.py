"""Fine-tuning speed and memory: ``mathlens finetune`` (TRL's SFTTrainer) against the hand loop
it replaced, on the same tiny Hugging Face GPT-2 and the same data.

Both train a randomly initialised GPT-2 (``--n-embd``, ``--n-layer``; a character tokenizer)
for ``--steps`` steps of ``--batch`` rows of RFFT-style addition data (prompt and a compact rule
trace, loss on the completion only), fp32 on the CPU, bf16 where a GPU has it (the new path;
the hand loop knows only fp32). The new path runs twice: with TRL's default gradient
checkpointing (``mathlens finetune``'s default too) and without it (``no_ckpt_*``). Each side runs in its own fresh process, ``--repeats`` times,
taking turns; we report medians. Tokens/s counts every non-pad token of the batches; peak
memory is ``torch.cuda.max_memory_allocated`` on a GPU and the growth of the process's peak
resident set over training on the CPU.

The hand loop is the former ``mathlens finetune``, kept here and only here as the baseline.

    python benchmarks/finetune_speed.py [--steps 30 --batch 16 --n-embd 256 --n-layer 4]

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import tempfile
import time
from pathlib import Path

from measure import in_fresh_process, peak_rss_mb, rss_mb  # benchmarks/measure.py


def hand_loop(model_dir: str, data: str, steps: int, batch_size: int, lr: float) -> dict:
    """The former mathlens finetune: fp32 AdamW, warm-up then cosine, completion-only labels."""
    import torch

    from mathlens.models.hf import load_causal_lm, prompt_text
    from mathlens.train.hf import read_pairs

    torch.manual_seed(0)
    model, tokenizer = load_causal_lm(model_dir)
    tokenizer.padding_side = "right"
    data_rows = []
    for user, completion in read_pairs(data):
        prompt_ids = tokenizer(prompt_text(tokenizer, user), add_special_tokens=True)["input_ids"]
        completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        data_rows.append((prompt_ids + completion_ids, [-100] * len(prompt_ids) + completion_ids))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr)
    warmup = 10

    def lr_at(step: int) -> float:
        if step < warmup:
            return lr * (step + 1) / warmup
        return lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    rng, order, tokens = random.Random(0), [], 0
    cuda = model.device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    base = rss_mb()
    model.train()
    t0 = time.perf_counter()
    for step in range(steps):
        if len(order) < batch_size:
            order += rng.sample(range(len(data_rows)), len(data_rows))
        batch, order = [data_rows[i] for i in order[:batch_size]], order[batch_size:]
        width = max(len(ids) for ids, _ in batch)
        pad = tokenizer.pad_token_id
        ids = torch.tensor([x + [pad] * (width - len(x)) for x, _ in batch], device=model.device)
        labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch], device=model.device)
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch], device=model.device)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        tokens += int(mask.sum())
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else max(0.0, peak_rss_mb() - base)
    return {"tokens": tokens, "seconds": seconds, "peak_mb": peak, "loss": loss.item()}


def mathlens_finetune(model_dir: str, data: str, steps: int, batch_size: int, lr: float, checkpointing: bool = True) -> dict:
    import torch
    import transformers

    from mathlens.train.hf import FinetuneConfig, finetune

    class Meter(transformers.TrainerCallback):
        """Counts the tokens the trainer feeds and times the training steps alone."""

        def __init__(self) -> None:
            self.tokens, self.t0, self.base = 0, 0.0, 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            self.base, self.t0 = rss_mb(), time.perf_counter()

        def on_train_end(self, args, state, control, **kwargs):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.seconds = time.perf_counter() - self.t0

    meter = Meter()
    original = transformers.Trainer.training_step

    def counting_step(self, model, inputs, *args, **kwargs):
        meter.tokens += int(inputs["attention_mask"].sum()) if "attention_mask" in inputs else inputs["input_ids"].numel()
        return original(self, model, inputs, *args, **kwargs)

    transformers.Trainer.training_step = counting_step
    out = tempfile.mkdtemp()
    cfg = FinetuneConfig(
        model_dir, data, out, steps=steps, batch_size=batch_size, lr=lr, save_steps=10**9, gradient_checkpointing=checkpointing
    )
    result = finetune(cfg, progress=False, callbacks=[meter])
    cuda = torch.cuda.is_available()
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else max(0.0, peak_rss_mb() - meter.base)
    return {"tokens": meter.tokens, "seconds": meter.seconds, "peak_mb": peak, "loss": result.losses[-1]}


def run_side(side: str, args: dict, queue) -> None:
    if side == "hand":
        queue.put(hand_loop(**args))
    else:
        queue.put(mathlens_finetune(**args, checkpointing=side == "mathlens"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--rows", type=int, default=600)
    p.add_argument("--n-embd", type=int, default=256)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()

    from mathlens.formats import make_format
    from mathlens.lab.export import export_rows
    from mathlens.models.hf import save_random_char_gpt2
    from mathlens.records import write_jsonl
    from mathlens.tasks import make_task

    work = Path(tempfile.mkdtemp())
    save_random_char_gpt2(work / "model", args.n_embd, args.n_layer, n_head=4, n_positions=512)
    rows = export_rows(make_task("addition"), make_format("rule"), [1, 2, 3], args.rows // 3, seed=0)
    write_jsonl(work / "data.jsonl", rows)
    side_args = {"model_dir": str(work / "model"), "data": str(work / "data.jsonl"), "steps": args.steps, "batch_size": args.batch, "lr": args.lr}
    results: dict[str, list[dict]] = {"mathlens": [], "mathlens_no_ckpt": [], "hand": []}
    for i in range(args.repeats):
        order = list(results) if i % 2 == 0 else list(results)[::-1]
        for side in order:
            r = in_fresh_process(run_side, side, side_args)
            results[side].append(r)
            print(f"{side}: {r['tokens'] / r['seconds']:,.0f} tok/s, peak {r['peak_mb']:.0f} MB, final loss {r['loss']:.3f}", flush=True)
    med = {
        side: {k: statistics.median(r[k] for r in rs) for k in ("seconds", "peak_mb")} | {"tok_per_s": statistics.median(r["tokens"] / r["seconds"] for r in rs)}
        for side, rs in results.items()
    }
    print(json.dumps({"steps": args.steps, "batch": args.batch, "n_embd": args.n_embd, "n_layer": args.n_layer}))
    print(
        f"mathlens_tok_per_s={med['mathlens']['tok_per_s']:.0f} hand_loop_tok_per_s={med['hand']['tok_per_s']:.0f} "
        f"ratio={med['mathlens']['tok_per_s'] / med['hand']['tok_per_s']:.2f} "
        f"mathlens_peak_mb={med['mathlens']['peak_mb']:.0f} hand_loop_peak_mb={med['hand']['peak_mb']:.0f} "
        f"no_ckpt_tok_per_s={med['mathlens_no_ckpt']['tok_per_s']:.0f} no_ckpt_peak_mb={med['mathlens_no_ckpt']['peak_mb']:.0f}"
    )


if __name__ == "__main__":
    main()
