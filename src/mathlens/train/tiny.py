"""The tiny GPT's training loop: AdamW, the shared schedule, loss on answer tokens only.

Written by hand (as nanoGPT's is): a few hundred thousand parameters train faster in a plain
loop than through any trainer's machinery. Checkpoints hold everything needed to continue
bit-for-bit (weights, optimizer moments, the batch sampler's RNG state and the step), so a
killed run resumed with ``resume=True`` ends with the same weights as one never interrupted.
Batches are drawn on the CPU and moved to the model's device, so a CPU run is the same
whatever device the machine has.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..errors import MathlensError
from ..runs import changed_settings
from ..grading import final_answer
from ..models import CHECKPOINT, GPT, CharTokenizer, GPTConfig, decode, load_checkpoint, save_checkpoint
from ..progress import progress_bar
from ..records import Example
from ..tracking import WATCH_ONLY, Tracker
from .core import TrainConfig, write_log


@dataclass
class TrainResult:
    steps: int
    final_loss: float
    tokens_per_s: float
    seconds: float
    log: list[dict] = field(default_factory=list)


def encode_examples(tokenizer: CharTokenizer, examples: Sequence[Example]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded inputs and next-token targets; only target and end tokens are scored."""
    seqs = [(tokenizer.encode(e.prompt), tokenizer.encode(e.target) + [tokenizer.eos_id]) for e in examples]
    width = max(len(p) + len(t) for p, t in seqs) - 1
    inputs = torch.full((len(seqs), width), tokenizer.pad_id, dtype=torch.long)
    targets = torch.full((len(seqs), width), -100, dtype=torch.long)
    for i, (p, t) in enumerate(seqs):
        full = p + t
        inputs[i, : len(full) - 1] = torch.tensor(full[:-1])
        targets[i, len(p) - 1 : len(full) - 1] = torch.tensor(t)
    return inputs, targets


def encode_coords(coupler: str, examples: Sequence[Example], width: int) -> torch.Tensor:
    """(N, width, 2) (place, slot) ids of ``encode_examples``' inputs for a coupled model (0 on padding)."""
    from ..formats.coupling import coords

    out = torch.zeros((len(examples), width, 2), dtype=torch.long)
    for i, e in enumerate(examples):
        row = coords(coupler, e.prompt, e.target)[:width]
        out[i, : len(row)] = torch.tensor(row)
    return out


def length_order(lengths: torch.Tensor, seed: int) -> torch.Tensor:
    """Row indices sorted by length, in a seeded random order within each length: a batch is a
    window of them. Without the shuffle a window of sums written in order (``length_split``
    sorts its pairs) would hold one first operand and its neighbours."""
    shuffled = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(seed))
    return shuffled[torch.argsort(lengths[shuffled], stable=True)]


def exact_match(model: GPT, tokenizer: CharTokenizer, examples: Sequence[Example], max_new_tokens: int) -> float:
    """Share of examples whose greedy completion ends as the target does (no tools run);
    the target's last line, not ``answer``, so that formats which rewrite numbers count too."""
    preds = decode(model, tokenizer, [e.prompt for e in examples], max_new_tokens)
    return sum(final_answer(p) == final_answer(e.target) for p, e in zip(preds, examples)) / max(1, len(examples))


def train(
    model: GPT,
    tokenizer: CharTokenizer,
    examples: Sequence[Example],
    config: TrainConfig,
    out_dir: str | Path,
    eval_sets: dict[str, Sequence[Example]] | None = None,
    resume: bool = False,
    extra: dict | None = None,
    progress: bool = True,
    description: str = "train",
) -> TrainResult:
    """Train ``model`` in place on ``examples``; checkpoints and a log go to ``out_dir``."""
    if not examples:
        raise MathlensError("no training examples")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = out_dir / CHECKPOINT
    log_path = out_dir / "train_log.jsonl"

    inputs, targets = encode_examples(tokenizer, examples)
    coords = encode_coords(model.config.coupler, examples, inputs.size(1)) if model.config.coupler else None
    lengths = (targets != -100).int().cumsum(1).argmax(1) + 1  # each row's last scored position, plus one
    device = model.wte.weight.device
    if inputs.size(1) > model.config.block_size:
        raise MathlensError(f"examples need {inputs.size(1)} positions but block_size is {model.config.block_size}")
    max_new = max(len(e.target) for e in examples) + 1
    by_length = length_order(lengths, config.seed) if config.group_by_length else None
    sampler = torch.Generator().manual_seed(config.seed)
    optimizer = _optimizer(model, config)
    start, log = 0, []
    if resume and ckpt_path.exists():
        start, log = _restore(ckpt_path, model, optimizer, sampler, config)

    def checkpoint(step: int) -> None:
        save_checkpoint(
            ckpt_path,
            {
                "model": model.state_dict(),
                "model_config": model.config.to_dict(),
                "tokenizer": tokenizer.to_dict(),
                "train_config": asdict(config),
                "optimizer": optimizer.state_dict(),
                "sampler": sampler.get_state(),
                "step": step,
                "log": log,
                "extra": extra or {},
            },
        )

    model.train()
    tokens, loss_value, t0 = 0, float("nan"), time.perf_counter()
    step = start
    with progress_bar(progress) as bar, Tracker(config.report_to, out_dir, config=asdict(config)) as tracker:
        task = bar.add_task(description, total=config.steps, completed=start, info="")
        try:
            for step in range(start, config.steps):
                for group in optimizer.param_groups:
                    group["lr"] = config.lr_at(step)
                if by_length is None:
                    idx = torch.randint(len(inputs), (config.batch_size,), generator=sampler)
                else:
                    first = int(torch.randint(max(1, len(inputs) - config.batch_size + 1), (1,), generator=sampler))
                    idx = by_length[first : first + config.batch_size]
                width = int(lengths[idx].max())  # the batch's own width: causal rows ignore padding after them
                x, y = inputs[idx, :width].to(device), targets[idx, :width].to(device)
                ids = None if coords is None else coords[idx, :width].to(device)
                _, loss = model(x, y, noise=model.position_noise(*x.shape, sampler), coords=ids)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
                tokens += int((x != tokenizer.pad_id).sum())
                loss_value = loss.item()
                done = step + 1
                rate = tokens / (time.perf_counter() - t0)
                entry = {"step": done, "loss": round(loss_value, 5), "lr": config.lr_at(step)}
                if eval_sets and (done == config.steps or (config.eval_every and done % config.eval_every == 0)):
                    for name, rows in eval_sets.items():
                        entry[f"{name}_acc"] = exact_match(model, tokenizer, rows[: config.eval_examples], max_new)
                    model.train()
                if len(entry) > 3 or done % 10 == 0 or done == config.steps:
                    log.append(entry)
                    tracker.log(done, entry)  # the JSON log's numbers, as they are made
                accs = " ".join(f"{k[:-4]} {v:.0%}" for k, v in (log[-1] if log else {}).items() if k.endswith("_acc"))
                bar.update(task, completed=done, info=f"loss {loss_value:.4f}  {rate:,.0f} tok/s  {accs}")
                if done % config.checkpoint_every == 0 or done == config.steps:
                    checkpoint(done)
        except KeyboardInterrupt:
            checkpoint(step)  # the step in flight is dropped; resume redoes it
            raise
    seconds = time.perf_counter() - t0
    write_log(log_path, log)
    return TrainResult(config.steps, loss_value, tokens / max(seconds, 1e-9), seconds, log)


def _optimizer(model: GPT, config: TrainConfig) -> torch.optim.AdamW:
    # Decay matrices only: norms and biases are scale parameters, not features.
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, config.beta2))


def _restore(path: Path, model: GPT, optimizer, sampler: torch.Generator, config: TrainConfig) -> tuple[int, list]:
    state = load_checkpoint(path)
    if GPTConfig.from_dict(state["model_config"]) != model.config:  # old flat dicts too
        raise MathlensError(f"{path}: the checkpoint's model differs from the one asked for; drop --resume")
    # more steps may follow; watching the run is not a setting of its work
    changed = changed_settings(state["train_config"], asdict(config), ignore=("steps", *WATCH_ONLY))
    if changed:
        raise MathlensError(
            f"{path}: training settings changed since the checkpoint ({', '.join(changed)}); drop --resume"
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    sampler.set_state(state["sampler"])
    return state["step"], list(state["log"])
