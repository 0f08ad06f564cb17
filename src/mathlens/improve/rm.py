"""A reward model on the policy's own architecture, trained on its graded samples.

For the tiny world: the policy's GPT with a scalar head (two linear layers, as the report's)
on the hidden state of the last token of prompt + response, trained with the listwise loss
(``reward.listwise_loss``) on problems whose samples are partly right. Written by hand for the
same reason as the tiny trainer: TRL's reward trainer takes Hugging Face models only and pairs,
not lists. Scores go into each sample as ``reward``; ``mathlens report`` then shows rm@k.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import MathlensError
from ..models import GPT, CharTokenizer, GPTConfig, load_checkpoint, load_model, save_checkpoint
from ..progress import progress_bar
from .policy import user_prompt
from .reward import listwise_loss

REWARD_MODEL = "rm.pt"


@dataclass(frozen=True)
class RMConfig:
    steps: int = 300
    problems_per_step: int = 16
    lr: float = 1e-3
    seed: int = 0


class TinyRewardModel(nn.Module):
    """The policy's transformer and a two-layer scalar head on its last hidden state."""

    def __init__(self, backbone: GPT) -> None:
        super().__init__()
        width = backbone.config.n_embd
        self.backbone = backbone
        self.head = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1))

    def forward(self, idx: torch.Tensor, pad: torch.Tensor | None) -> torch.Tensor:
        return self.head(self.backbone.hidden(idx, pad=pad)[:, -1]).squeeze(-1)


def response_text(question: str, completion: str) -> str:
    """What the reward model reads: the prompt the policy saw and its response."""
    return user_prompt(question) + completion


def signal_groups(rows: Sequence[dict]) -> list[tuple[list[str], list[bool]]]:
    """Per problem with both right and wrong samples: their texts and verdicts."""
    groups = []
    for row in rows:
        samples = row.get("samples") or []
        verdicts = [bool(s.get("correct")) for s in samples]
        if any(verdicts) and not all(verdicts):
            groups.append(([response_text(row["question"], s["completion"]) for s in samples], verdicts))
    return groups


def train_reward_model(
    policy: str | Path, rows: Sequence[dict], cfg: RMConfig, out: str | Path, progress: bool = True
) -> dict:
    """Train from the policy's weights on graded sample records; save ``out/rm.pt``; the log."""
    groups = signal_groups(rows)
    if not groups:
        raise MathlensError("no problem has both right and wrong samples: nothing for a reward model to learn")
    backbone, tokenizer, _ = load_model(Path(policy) / "ckpt.pt" if Path(policy).is_dir() else policy)
    torch.manual_seed(cfg.seed)
    model = TinyRewardModel(backbone).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    rng = random.Random(cfg.seed)
    losses = []
    with progress_bar(progress) as bar:
        task = bar.add_task("reward model", total=cfg.steps, info="")
        for step in range(cfg.steps):
            chosen = rng.sample(groups, min(cfg.problems_per_step, len(groups)))
            texts = [t for g in chosen for t in g[0]]
            correct = torch.tensor([v for g in chosen for v in g[1]])
            scores = model(*_batch(tokenizer, texts, backbone))
            loss = listwise_loss(scores, correct, [len(g[0]) for g in chosen])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(round(loss.item(), 5))
            bar.update(task, advance=1, info=f"loss {loss.item():.4f}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = {"model": model.state_dict(), "model_config": backbone.config.to_dict(),
             "tokenizer": tokenizer.to_dict(), "rm_config": asdict(cfg), "losses": losses}  # fmt: skip
    save_checkpoint(out / REWARD_MODEL, state)
    return {"problems": len(groups), "losses": losses}


def load_reward_model(path: str | Path) -> tuple[TinyRewardModel, CharTokenizer]:
    path = Path(path)
    state = load_checkpoint(path / REWARD_MODEL if path.is_dir() else path)
    if "rm_config" not in state:
        raise MathlensError(f"{path}: not a reward model (train one with `mathlens rm train`)")
    model = TinyRewardModel(GPT(GPTConfig(**state["model_config"])))
    model.load_state_dict(state["model"])
    return model.eval(), CharTokenizer.from_dict(state["tokenizer"])


@torch.inference_mode()
def score_rows(model: TinyRewardModel, tokenizer: CharTokenizer, rows: list[dict], batch_size: int = 256) -> None:
    """Write the reward model's score into every sample as ``reward``, in place."""
    items = [(s, response_text(row["question"], s["completion"])) for row in rows for s in row.get("samples") or []]
    for start in range(0, len(items), batch_size):
        part = items[start : start + batch_size]
        scores = model(*_batch(tokenizer, [t for _, t in part], model.backbone))
        for (sample, _), score in zip(part, scores.tolist()):
            sample["reward"] = round(score, 5)


def ranking_accuracy(rows: Sequence[dict]) -> dict:
    """Within each problem, the share of (right, wrong) sample pairs the reward puts in order
    (ties count half): the AUC of right over wrong, averaged over pairs and over problems."""
    per_problem, wins, pairs = [], 0.0, 0
    for row in rows:
        right = [s["reward"] for s in row["samples"] if s.get("correct")]
        wrong = [s["reward"] for s in row["samples"] if not s.get("correct")]
        if right and wrong:
            won = sum(1.0 if r > w else 0.5 if r == w else 0.0 for r in right for w in wrong)
            per_problem.append(won / (len(right) * len(wrong)))
            wins, pairs = wins + won, pairs + len(right) * len(wrong)
    return {"problems": len(per_problem), "pairs": pairs, "pairwise_accuracy": wins / pairs if pairs else None,
            "mean_problem_auc": sum(per_problem) / len(per_problem) if per_problem else None}  # fmt: skip


def _batch(tokenizer: CharTokenizer, texts: list[str], backbone: GPT) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Left-padded ids, so that every row's last position is its last token; texts cut to the block."""
    block = backbone.config.block_size
    ids = [tokenizer.encode("".join(c for c in t if c in tokenizer.chars))[-block:] for t in texts]
    width = max(len(i) for i in ids)
    pads = [width - len(i) for i in ids]
    device = backbone.wte.weight.device
    idx = torch.tensor([[tokenizer.pad_id] * p + i for p, i in zip(pads, ids)], device=device)
    return idx, (torch.tensor(pads, device=device) if any(pads) else None)
