"""What every trainer here shares: the schedule, and the training log on disk.

The tiny GPT's loop (``tiny.py``) uses both directly; the Hugging Face path (``hf.py``) gives
the same schedule to TRL (linear warm-up, then cosine to ``final_lr_frac``) so that a run means
the same thing whichever model trains.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..tracking import check_report_to


@dataclass(frozen=True)
class TrainConfig:
    steps: int = field(default=1500, metadata={"help": "Optimizer steps."})
    batch_size: int = field(default=128, metadata={"help": "Examples per step."})
    lr: float = field(default=2e-3, metadata={"help": "Peak learning rate."})
    warmup_steps: int = field(default=100, metadata={"help": "Steps of linear warm-up before the cosine."})
    final_lr_frac: float = 0.0  # the cosine ends at lr * final_lr_frac
    weight_decay: float = field(default=0.1, metadata={"help": "AdamW weight decay."})
    beta2: float = 0.98
    grad_clip: float = 1.0
    eval_every: int = 500  # 0: only at the end
    eval_examples: int = 256  # per evaluation set, for the periodic check
    checkpoint_every: int = 250
    # Each batch a run of examples of about one length (a random window of them sorted by
    # length), so that long traces do not pad every batch to their width: 2-3x fewer tokens
    # where lengths spread widely (generic pretraining, replay). Off by default: it changes
    # which examples meet in a batch, and every figure so far was measured without it.
    group_by_length: bool = False
    seed: int = field(default=0, metadata={"help": "Seed of init and batches (and of an LSO run's control split)."})
    report_to: str = field(
        default="none", metadata={"help": "Live curves: none, tensorboard (event files in OUT/tb/) or wandb."}
    )

    def __post_init__(self) -> None:
        check_report_to(self.report_to)

    @classmethod
    def from_options(cls, options: Any, **overrides: Any) -> TrainConfig:
        """The training settings an experiment config carries (same names), plus overrides."""
        names = {f.name for f in fields(cls)} & {f.name for f in fields(options)}
        return cls(**{**{n: getattr(options, n) for n in names}, **overrides})

    def lr_at(self, step: int) -> float:
        return lr_at(step, self.lr, self.steps, self.warmup_steps, self.final_lr_frac)


def lr_at(step: int, lr: float, steps: int, warmup_steps: int, final_lr_frac: float = 0.0) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``lr * final_lr_frac``."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, steps - warmup_steps)
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return lr * (final_lr_frac + (1.0 - final_lr_frac) * cosine)


def write_log(path: str | Path, entries: list[dict]) -> None:
    with open(path, "w") as f:
        f.writelines(json.dumps(e) + "\n" for e in entries)
