"""The reward model's objective and the reward GRPO optimises, as the Qwen2.5-Math report states them.

Listwise loss: for a problem with n sampled responses of which k are correct, every (correct,
incorrect) pair adds −log σ(r⁺ − r⁻) and the sum is divided by k(n − k); problems whose samples
are all right or all wrong carry no signal and are left out. TRL's ``RewardTrainer`` weights
one (chosen, rejected) pair at a time, so this normalisation is written here.

Shaped reward: σ(0.5·r_m) + (r_v − 1), with r_m the reward model's score and r_v 1 for a
verified answer, else 0, so that every verified response outranks every unverified one and
the reward model orders responses within each side. GRPO's advantages are that reward
normalised within each group of responses to one problem.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch

from ..progress import progress_bar

if TYPE_CHECKING:
    from ..tracking import Tracker
    from .rm import RMConfig


def listwise_loss(scores: torch.Tensor, correct: torch.Tensor, groups: Sequence[int]) -> torch.Tensor:
    """Mean over problems with signal of the report's listwise loss.

    ``scores`` (N,) and ``correct`` (N,) hold every response, problem after problem; ``groups``
    gives the number of responses of each problem. Zero (with a gradient path) when no problem
    has both right and wrong responses.
    """
    losses = []
    for s, c in zip(torch.split(scores, list(groups)), torch.split(correct.bool(), list(groups))):
        k, n = int(c.sum()), len(c)
        if k in (0, n):
            continue
        margins = s[c][:, None] - s[~c][None, :]  # (k, n - k): every correct against every incorrect
        losses.append(-torch.nn.functional.logsigmoid(margins).sum() / (k * (n - k)))
    if not losses:
        return scores.sum() * 0.0
    return torch.stack(losses).mean()


def shaped_reward(rm_score: float, verified: bool) -> float:
    """σ(0.5·r_m) + (r_v − 1): in (0, 1) when verified, in (−1, 0) when not.

    Unverified, it is computed as −σ(−0.5·r_m), the same number without the cancellation of
    adding 1 and taking it away, so the two sides stay apart in floating point (scores within
    ±1000; past that σ underflows to 0 on both sides)."""
    x = 0.5 * rm_score
    return _sigmoid(x) if verified else -_sigmoid(-x)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def group_advantages(rewards: torch.Tensor, groups: Sequence[int], eps: float = 1e-4) -> torch.Tensor:
    """(r − mean) / (std + eps) within each group; a group whose rewards are all equal gets zeros."""
    parts = []
    for r in torch.split(rewards, list(groups)):
        std = r.std(unbiased=False) if len(r) > 1 else r.new_zeros(())
        parts.append((r - r.mean()) / (std + eps))
    return torch.cat(parts)


def fit_listwise(
    scores: Callable[[list[str], list[str]], torch.Tensor],
    parameters: Sequence[torch.nn.Parameter],
    groups: Sequence[tuple[str, list[str], list[bool]]],
    cfg: RMConfig,
    progress: bool = True,
    tracker: Tracker | None = None,
) -> list[float]:
    """The reward-model loop every kind shares: a few whole problems per step, listwise loss, AdamW.

    ``scores(questions, completions)`` runs the model (with a gradient path); each step's loss
    also goes to ``tracker`` (``--report-to``). Returns the losses."""
    optimizer = torch.optim.AdamW(list(parameters), lr=cfg.lr, weight_decay=0.0)
    rng = random.Random(cfg.seed)
    losses = []
    with progress_bar(progress) as bar:
        task = bar.add_task("reward model", total=cfg.steps, info="")
        for step in range(1, cfg.steps + 1):
            chosen = rng.sample(list(groups), min(cfg.problems_per_step, len(groups)))
            questions = [question for question, completions, _ in chosen for _c in completions]
            s = scores(questions, [c for _, completions, _ in chosen for c in completions])
            correct = torch.tensor([v for g in chosen for v in g[2]], device=s.device)
            loss = listwise_loss(s, correct, [len(g[2]) for g in chosen])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(round(loss.item(), 5))
            if tracker is not None:
                tracker.log(step, {"loss": losses[-1]})
            bar.update(task, advance=1, info=f"loss {loss.item():.4f}")
    return losses
