"""A reward model on the policy's own architecture, trained on its graded samples.

For the tiny world: the policy's GPT with a scalar head (two linear layers, as the report's)
on the hidden state of the last token of prompt + response. For a Hugging Face policy: the
same checkpoint as a sequence classifier with one label (``rm_hf.py``). Both train in one loop
here (``fit_listwise``) with the report's listwise loss (``reward.listwise_loss``) on problems
whose samples are partly right: TRL's ``RewardTrainer`` takes one (chosen, rejected) pair at a
time and cannot normalise over a problem's k(n − k) pairs. Whichever kind, a loaded reward
model is a ``RewardScorer``: scores go into each sample as ``reward``; ``mathlens report`` then
shows rm@k.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import torch
from torch import nn

from ..backends.solve import add_rewards
from ..errors import MathlensError
from ..models import GPT, CharTokenizer, GPTConfig, load_checkpoint, load_model, save_checkpoint
from ..provenance import model_record, traced
from ..records import SampleRow
from ..tracking import Tracker, check_report_to
from .policy import user_prompt
from .reward import fit_listwise

REWARD_MODEL = "rm.pt"  # a tiny reward model's file; a Hugging Face one is a folder (rm_hf.MARKER)


@dataclass(frozen=True)
class RMConfig:
    steps: int = 300
    problems_per_step: int = 16
    lr: float = 1e-3
    seed: int = 0
    chat_template: str = "auto"  # Hugging Face policies: how a question is rendered (as the policy read it)
    model_args: str = ""  # Hugging Face policies: loading options (models.hf.ModelArgs)
    report_to: str = "none"  # the loss as it trains: none | tensorboard (OUT/tb/) | wandb (tracking.py)

    def __post_init__(self) -> None:
        check_report_to(self.report_to)


class RewardScorer(Protocol):
    def score(self, questions: Sequence[str], completions: Sequence[str]) -> list[float]:
        """One scalar per (question, completion): higher is more likely right."""
        ...


class TinyRewardModel(nn.Module):
    """The policy's transformer and a two-layer scalar head on its last hidden state."""

    def __init__(self, backbone: GPT) -> None:
        super().__init__()
        width = backbone.config.shape.n_embd
        self.backbone = backbone
        self.head = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1))

    def forward(self, idx: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """Right-padded ``idx`` (causal attention needs no mask then); ``last``: each row's last real position."""
        hidden = self.backbone.hidden(idx)
        return self.head(hidden[torch.arange(len(idx), device=idx.device), last]).squeeze(-1)


class TinyScorer:
    """A tiny reward model with its tokenizer, read as the policy reads: plain user turn + response."""

    def __init__(self, model: TinyRewardModel, tokenizer: CharTokenizer) -> None:
        self.model, self.tokenizer = model, tokenizer

    def scores(self, questions: Sequence[str], completions: Sequence[str]) -> torch.Tensor:
        """Scores with a gradient path (training)."""
        texts = [response_text(q, c) for q, c in zip(questions, completions)]
        return self.model(*_batch(self.tokenizer, texts, self.model.backbone))

    @torch.inference_mode()
    def score(self, questions: Sequence[str], completions: Sequence[str], batch_size: int = 256) -> list[float]:
        was = self.model.training
        self.model.eval()
        out = [s for i in range(0, len(questions), batch_size)
               for s in self.scores(questions[i : i + batch_size], completions[i : i + batch_size]).tolist()]  # fmt: skip
        self.model.train(was)
        return out


def response_text(question: str, completion: str) -> str:
    """What the tiny reward model reads: the prompt the policy saw and its response."""
    return user_prompt(question) + completion


def signal_groups(rows: Sequence[SampleRow]) -> list[tuple[str, list[str], list[bool]]]:
    """Per problem with both right and wrong samples: its question, the completions, their verdicts."""
    groups = []
    for row in rows:
        verdicts = [bool(s.correct) for s in row.samples]
        if any(verdicts) and not all(verdicts):
            groups.append((row.question, [s.completion for s in row.samples], verdicts))
    return groups


@traced("rm", lambda a: a["out"], lambda a: model_record(str(a["policy"])))
def train_reward_model(
    policy: str | Path, rows: Sequence[SampleRow], cfg: RMConfig, out: str | Path, progress: bool = True
) -> dict:
    """Train from the policy's weights on graded sample records into ``out``; the log.

    A tiny policy (a folder with ``ckpt.pt``, or the file) gives ``out/rm.pt``; anything else is
    read as a Hugging Face checkpoint (folder or hub id) and gives a sequence-classifier folder."""
    groups = signal_groups(rows)
    if not groups:
        raise MathlensError("no problem has both right and wrong samples: nothing for a reward model to learn")
    if not is_tiny_checkpoint(policy):
        from .rm_hf import train_hf_reward_model

        return train_hf_reward_model(str(policy), groups, cfg, out, progress)
    backbone, tokenizer, _ = load_model(Path(policy) / "ckpt.pt" if Path(policy).is_dir() else policy)
    torch.manual_seed(cfg.seed)
    scorer = TinyScorer(TinyRewardModel(backbone).train(), tokenizer)
    with Tracker(cfg.report_to, out, config=asdict(cfg)) as tracker:
        losses = fit_listwise(scorer.scores, scorer.model.parameters(), groups, cfg, progress, tracker)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = {"model": scorer.model.state_dict(), "model_config": backbone.config.to_dict(),
             "tokenizer": tokenizer.to_dict(), "rm_config": asdict(cfg), "losses": losses}  # fmt: skip
    save_checkpoint(out / REWARD_MODEL, state)
    return {"problems": len(groups), "losses": losses}


def is_tiny_checkpoint(policy: str | Path) -> bool:
    path = Path(policy)
    return path.suffix == ".pt" or (path / "ckpt.pt").is_file()


def load_reward_model(path: str | Path, device: str = "cpu") -> RewardScorer:
    """A tiny reward model (``rm.pt`` or its folder) or a Hugging Face one (``mathlens rm train``'s folder)."""
    path = Path(path)
    from .rm_hf import MARKER, load_hf_reward_model

    if path.is_dir() and (path / MARKER).is_file():
        return load_hf_reward_model(path, device)
    state = load_checkpoint(path / REWARD_MODEL if path.is_dir() else path)
    if "rm_config" not in state:
        raise MathlensError(f"{path}: not a reward model (train one with `mathlens rm train`)")
    model = TinyRewardModel(GPT(GPTConfig.from_dict(state["model_config"])))
    model.load_state_dict(state["model"])
    from ..models import resolve_device

    return TinyScorer(model.to(resolve_device(device)).eval(), CharTokenizer.from_dict(state["tokenizer"]))


def score_rows(scorer: RewardScorer, rows: list[SampleRow]) -> None:
    """Write the reward model's score into every sample as ``reward``, in place."""
    add_rewards(rows, scorer)


def ranking_accuracy(rows: Sequence[SampleRow]) -> dict:
    """Within each problem, the share of (right, wrong) sample pairs the reward puts in order
    (ties count half): the AUC of right over wrong, averaged over pairs and over problems."""
    per_problem, wins, pairs = [], 0.0, 0
    for row in rows:
        right = [s.reward for s in row.samples if s.correct]
        wrong = [s.reward for s in row.samples if not s.correct]
        if right and wrong:
            won = sum(1.0 if r > w else 0.5 if r == w else 0.0 for r in right for w in wrong)
            per_problem.append(won / (len(right) * len(wrong)))
            wins, pairs = wins + won, pairs + len(right) * len(wrong)
    return {"problems": len(per_problem), "pairs": pairs, "pairwise_accuracy": wins / pairs if pairs else None,
            "mean_problem_auc": sum(per_problem) / len(per_problem) if per_problem else None}  # fmt: skip


def _batch(tokenizer: CharTokenizer, texts: list[str], backbone: GPT) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and each row's last real position; texts cut to the block (their ends kept)."""
    block = backbone.config.block_size
    ids = [tokenizer.encode("".join(c for c in t if c in tokenizer.chars))[-block:] for t in texts]
    width = max(len(i) for i in ids)
    device = backbone.wte.weight.device
    idx = torch.tensor([i + [tokenizer.pad_id] * (width - len(i)) for i in ids], device=device)
    return idx, torch.tensor([len(i) - 1 for i in ids], device=device)
