"""The one training loop: AdamW, warm-up then cosine decay, loss on answer tokens only.

Checkpoints hold everything needed to continue bit-for-bit (weights, optimizer moments,
the batch sampler's RNG state and the step), so a killed run resumed with ``resume=True``
ends with the same weights as one that was never interrupted.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from .errors import MathlensError
from .formats import final_answer
from .models import GPT, CharTokenizer, GPTConfig, greedy_decode
from .progress import progress_bar
from .records import Example

CHECKPOINT = "ckpt.pt"


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1500
    batch_size: int = 128
    lr: float = 2e-3
    warmup_steps: int = 100
    final_lr_frac: float = 0.0  # the cosine ends at lr * final_lr_frac
    weight_decay: float = 0.1
    beta2: float = 0.98
    grad_clip: float = 1.0
    eval_every: int = 500  # 0: only at the end
    eval_examples: int = 256  # per evaluation set, for the periodic check
    checkpoint_every: int = 250
    seed: int = 0

    @classmethod
    def from_options(cls, options: Any, **overrides: Any) -> TrainConfig:
        """The training settings an experiment config carries (same names), plus overrides."""
        names = {f.name for f in fields(cls)} & {f.name for f in fields(options)}
        return cls(**{**{n: getattr(options, n) for n in names}, **overrides})

    def lr_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        progress = (step - self.warmup_steps) / max(1, self.steps - self.warmup_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.lr * (self.final_lr_frac + (1.0 - self.final_lr_frac) * cosine)


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


def exact_match(model: GPT, tokenizer: CharTokenizer, examples: Sequence[Example], max_new_tokens: int) -> float:
    """Share of examples whose greedy completion ends in the right answer (no tools run)."""
    preds = greedy_decode(model, tokenizer, [e.prompt for e in examples], max_new_tokens)
    return sum(final_answer(p) == e.answer for p, e in zip(preds, examples)) / max(1, len(examples))


def save_checkpoint(path: Path, state: dict) -> None:
    """Write then rename, so a kill mid-save never leaves a broken checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise MathlensError(f"{path}: no checkpoint there") from None
    except Exception as err:  # a truncated or foreign file: say which
        raise MathlensError(f"{path}: not a readable checkpoint ({type(err).__name__}: {err})") from None


def load_model(path: str | Path) -> tuple[GPT, CharTokenizer, dict]:
    """Model in eval mode, its tokenizer, and the checkpoint's ``extra`` (task, split, …)."""
    state = load_checkpoint(path)
    model = GPT(GPTConfig(**state["model_config"]))
    model.load_state_dict(state["model"])
    model.eval()
    return model, CharTokenizer.from_dict(state["tokenizer"]), state.get("extra", {})


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
    if inputs.size(1) > model.config.block_size:
        raise MathlensError(f"examples need {inputs.size(1)} positions but block_size is {model.config.block_size}")
    max_new = max(len(e.target) for e in examples) + 1
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
    with progress_bar(progress) as bar:
        task = bar.add_task(description, total=config.steps, completed=start, info="")
        try:
            for step in range(start, config.steps):
                for group in optimizer.param_groups:
                    group["lr"] = config.lr_at(step)
                idx = torch.randint(len(inputs), (config.batch_size,), generator=sampler)
                x, y = inputs[idx], targets[idx]
                _, loss = model(x, y)
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
                accs = " ".join(f"{k[:-4]} {v:.0%}" for k, v in (log[-1] if log else {}).items() if k.endswith("_acc"))
                bar.update(task, completed=done, info=f"loss {loss_value:.4f}  {rate:,.0f} tok/s  {accs}")
                if done % config.checkpoint_every == 0 or done == config.steps:
                    checkpoint(done)
        except KeyboardInterrupt:
            checkpoint(step)  # the step in flight is dropped; resume redoes it
            raise
    seconds = time.perf_counter() - t0
    with open(log_path, "w") as f:
        f.writelines(json.dumps(e) + "\n" for e in log)
    return TrainResult(config.steps, loss_value, tokens / max(seconds, 1e-9), seconds, log)


def _optimizer(model: GPT, config: TrainConfig) -> torch.optim.AdamW:
    # Decay matrices only: norms and biases are scale parameters, not features.
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, config.beta2))


def _restore(path: Path, model: GPT, optimizer, sampler: torch.Generator, config: TrainConfig) -> tuple[int, list]:
    state = load_checkpoint(path)
    if state["model_config"] != model.config.to_dict():
        raise MathlensError(f"{path}: the checkpoint's model differs from the one asked for; drop --resume")
    saved = {k: v for k, v in state["train_config"].items() if k != "steps"}
    wanted = {k: v for k, v in asdict(config).items() if k != "steps"}
    if saved != wanted:
        changed = sorted(k for k in wanted if saved.get(k) != wanted[k])
        raise MathlensError(f"{path}: training settings changed since the checkpoint ({', '.join(changed)}); drop --resume")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    sampler.set_state(state["sampler"])
    return state["step"], list(state["log"])
