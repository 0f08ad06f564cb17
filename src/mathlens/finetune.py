"""Fine-tune a Hugging Face causal LM on exported JSONL (full or LoRA), loss on the completion only.

transformers (and peft for LoRA) are imported lazily: ``pip install 'mathlens[finetune]'``.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import MathlensError
from .hf import load_causal_lm, prompt_text
from .progress import progress_bar
from .records import read_jsonl


@dataclass(frozen=True)
class FinetuneConfig:
    model: str  # hub id or local folder
    data: str  # JSONL from `mathlens export` (prompt/completion or messages)
    out: str = "runs/finetune"
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    epochs: float = 1.0
    steps: int | None = None  # overrides epochs
    batch_size: int = 8
    lr: float = 2e-5  # full fine-tuning; LoRA usually wants ~1e-4
    warmup_steps: int = 10
    max_length: int = 2048
    seed: int = 0


def read_pairs(path: str | Path) -> list[tuple[str, str]]:
    """(user text, completion) per row, with the row named in any error."""
    pairs = []
    for where, row in read_jsonl(path):
        if "messages" in row:
            msgs = row["messages"]
            if not (isinstance(msgs, list) and len(msgs) >= 2 and msgs[-1].get("role") == "assistant"):
                raise MathlensError(f"{where}: field 'messages' must end with an assistant message")
            pairs.append(("\n".join(m["content"] for m in msgs[:-1]), msgs[-1]["content"]))
        elif "prompt" in row and "completion" in row:
            pairs.append((row["prompt"], row["completion"]))
        else:
            raise MathlensError(f"{where}: expected fields 'prompt' and 'completion', or 'messages'")
    if not pairs:
        raise MathlensError(f"{path}: no rows")
    return pairs


def encode_pair(tokenizer, user: str, completion: str, max_length: int) -> tuple[list[int], list[int]]:
    """Token ids and labels; the prompt's labels are -100 so only the completion is learned."""
    prompt_ids = tokenizer(prompt_text(tokenizer, user), add_special_tokens=True)["input_ids"]
    completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids = (prompt_ids + completion_ids)[:max_length]
    labels = ([-100] * len(prompt_ids) + completion_ids)[:max_length]
    return ids, labels


def finetune(cfg: FinetuneConfig, progress: bool = True) -> list[float]:
    """Train, save model and tokenizer to ``cfg.out``; the per-step losses."""
    import torch

    torch.manual_seed(cfg.seed)
    model, tokenizer = load_causal_lm(cfg.model)
    tokenizer.padding_side = "right"
    if cfg.lora:
        try:
            import peft
        except ImportError:
            raise MathlensError("--lora needs peft: pip install 'mathlens[finetune]'") from None
        targets = "all-linear"
        model = peft.get_peft_model(
            model,
            peft.LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, target_modules=targets, task_type="CAUSAL_LM"),
        )
    data = [encode_pair(tokenizer, u, c, cfg.max_length) for u, c in read_pairs(cfg.data)]
    steps = cfg.steps or max(1, math.ceil(cfg.epochs * len(data) / cfg.batch_size))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr)

    def lr_at(step: int) -> float:
        if step < cfg.warmup_steps:
            return cfg.lr * (step + 1) / cfg.warmup_steps
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * (step - cfg.warmup_steps) / max(1, steps - cfg.warmup_steps)))

    rng = random.Random(cfg.seed)
    order: list[int] = []
    losses = []
    model.train()
    with progress_bar(progress) as bar:
        task = bar.add_task("finetune", total=steps, info="")
        for step in range(steps):
            if len(order) < cfg.batch_size:
                order += rng.sample(range(len(data)), len(data))
            batch, order = [data[i] for i in order[: cfg.batch_size]], order[cfg.batch_size :]
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
            losses.append(loss.item())
            bar.update(task, completed=step + 1, info=f"loss {losses[-1]:.4f}")
    out = Path(cfg.out)
    if cfg.lora:  # one ordinary checkpoint that loads without peft
        model = model.merge_and_unload()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "finetune_log.json").write_text(json.dumps({"config": asdict(cfg), "losses": losses}, indent=2) + "\n")
    return losses
