"""GRPO for the tiny policy, with the reward model in the reward.

Each step draws a few problems that the policy solves sometimes (the report keeps those with 2
to 5 right of 8 samples), samples a group of responses per problem (TIR through the sandbox),
rewards each with σ(0.5·r_m) + (r_v − 1) (``reward.shaped_reward``), normalises the rewards
within each group into advantages, and takes ``updates_per_batch`` optimizer steps on the
clipped-ratio objective with a KL penalty (the k3 estimator) to the policy it started from.
Tokens the tools wrote are masked out of the loss; so is the prompt.

Written by hand for the same reason as the tiny trainer (TRL's ``GRPOTrainer`` takes Hugging
Face models only; ``grpo_hf.py`` uses it for those). Resumable: every ``checkpoint_every``
steps the weights, the optimizer and the log are saved, and a step's problems and samples are
seeded by (seed, step), so a resumed run ends with the weights of one never interrupted.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path

import torch
import torch.nn.functional as F

from ..backends.base import Sampling, generate_keyed
from ..backends.tiny import TinyBackend
from ..backends.tools import ToolSample, generate_with_tools, tool_sandbox
from ..formats.tir import OUTPUT_FENCE
from ..errors import MathlensError
from ..grading import grade
from ..models import CHECKPOINT, GPT, CharTokenizer, GPTConfig, load_checkpoint, load_model, save_checkpoint
from ..provenance import model_record, traced
from ..records import SampleRow
from ..runs import changed_settings
from ..progress import progress_bar
from ..tracking import WATCH_ONLY, Tracker, check_report_to
from ..train.core import write_log
from .policy import user_prompt
from .reward import group_advantages, shaped_reward
from .rm import RewardScorer

STATE = "grpo_state.pt"  # the resumable state, beside the finished ckpt.pt
ROLLOUTS = "rollouts.jsonl"  # a few rollouts of every step, to read what the policy writes as it learns
LOSS_TYPES = ("grpo", "dapo")


@dataclass(frozen=True)
class GRPOConfig:
    steps: int = 60
    problems_per_step: int = 16
    group_size: int = 8  # responses per problem (G)
    temperature: float = 1.0
    max_tokens: int = 96
    max_tool_calls: int = 2
    lr: float = 1e-4
    clip: float = 0.2  # ε of the clipped ratio
    beta: float = 0.04  # KL penalty to the starting policy
    updates_per_batch: int = 2  # optimizer steps on one batch of rollouts (μ); the ratio leaves 1 after the first
    loss_type: str = "grpo"  # grpo: each response's token mean, then the mean; dapo: one mean over all tokens
    grad_clip: float = 1.0
    checkpoint_every: int = 10
    seed: int = 0
    report_to: str = "none"  # the log's scalars as they are made: none | tensorboard (out/tb/) | wandb (tracking.py)
    dump_rollouts: int = 4  # each step's first N rollouts (prompt, completion, reward, …) to out/rollouts.jsonl

    def __post_init__(self) -> None:
        check_report_to(self.report_to)
        if self.dump_rollouts < 0:
            raise MathlensError(f"dump_rollouts {self.dump_rollouts}: 0 (none) or more rollouts a step")
        if self.loss_type not in LOSS_TYPES:
            raise MathlensError(f"loss_type {self.loss_type!r}: choose {' or '.join(LOSS_TYPES)}")
        if self.group_size < 2:
            raise MathlensError("group_size must be at least 2: advantages compare responses within a group")
        if self.steps < 1 or self.problems_per_step < 1 or self.updates_per_batch < 1:
            raise MathlensError("steps, problems_per_step and updates_per_batch must be at least 1")


@dataclass
class Rollout:
    question: str
    completion: str
    injected: list[tuple[int, int]] = field(default_factory=list)  # tool-written stretches of the completion
    verified: bool = False
    rm_score: float = 0.0
    reward: float = 0.0


class RolloutDump:
    """Each step's first ``n`` rollouts, appended to a JSON Lines file as the step ends: what the
    policy writes, beside the numbers the log keeps (rows: step, prompt, completion, reward,
    verified, tool_calls). A run going on from step ``start`` first drops the rows of later steps
    (made after its checkpoint and made again now), so every step is in the file once; a fresh
    run (``start`` 0) starts the file over. TRL's runs (``grpo_hf``) dump through it too."""

    def __init__(self, path: Path, n: int, start: int) -> None:
        self.path, self.n = path, n
        if n and path.exists():
            kept = [line for line in path.read_text().splitlines() if _step_of(line) <= start]
            path.write_text("".join(line + "\n" for line in kept))

    def write(self, step: int, rows: Iterable[dict]) -> None:
        """The first ``n`` of ``rows`` (prompt, completion, reward, verified, tool_calls), each with ``step``."""
        if not self.n:
            return
        with self.path.open("a") as f:
            f.writelines(json.dumps({"step": step, **row}) + "\n" for row in islice(rows, self.n))


def rollout_row(r: Rollout) -> dict:
    return {"prompt": user_prompt(r.question), "completion": r.completion, "reward": round(r.reward, 5),
            "verified": r.verified, "tool_calls": len(r.injected)}  # fmt: skip


def _step_of(line: str) -> float:
    """A dumped row's step; a torn or foreign line counts as later than any (it is dropped)."""
    try:
        return json.loads(line)["step"]
    except (ValueError, KeyError, TypeError):
        return float("inf")


def eligible_problems(rows: Sequence[SampleRow], min_correct: int = 2, max_correct: int = 5) -> list[dict]:
    """Graded sample records whose count of right samples lies in [min_correct, max_correct]:
    as problems (id, question, answer)."""
    out = []
    for row in rows:
        right = sum(bool(s.correct) for s in row.samples)
        if row.gold and min_correct <= right <= max_correct:
            out.append({"id": row.id, "question": row.question, "answer": row.gold})
    return out


def grpo_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    ref_logp: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip: float,
    beta: float,
    loss_type: str = "grpo",
) -> tuple[torch.Tensor, dict]:
    """The clipped-ratio objective with a k3 KL penalty, over (B, T) token log-probabilities.

    ``mask`` (B, T) is True on tokens the policy sampled: everything else (prompt, padding, tool
    output) is replaced by zeros before any exponential, so it adds nothing and gets no gradient."""
    mask = mask.bool()
    ratio = torch.exp(torch.where(mask, logp - old_logp, 0.0))
    adv = advantages[:, None]
    surrogate = torch.minimum(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv)
    to_ref = torch.where(mask, ref_logp - logp, 0.0)
    kl = torch.exp(to_ref) - to_ref - 1  # ≥ 0, unbiased for KL(π‖π_ref) under π's samples
    per_token = torch.where(mask, -(surrogate - beta * kl), 0.0)
    m = mask.float()
    if loss_type == "grpo":
        loss = (per_token.sum(1) / m.sum(1).clamp(min=1)).mean()
    else:
        loss = per_token.sum() / m.sum().clamp(min=1)
    tokens = m.sum().clamp(min=1)
    stats = {"kl": float((kl.detach() * m).sum() / tokens), "clipped": float((((ratio - 1).abs() > clip) & mask).sum() / tokens)}
    return loss, stats


def token_logprobs(model: GPT, idx: torch.Tensor, targets: torch.Tensor, temperature: float) -> torch.Tensor:
    """log π(target | prefix) at every position, at the temperature the rollouts were sampled at."""
    logits, _ = model(idx)
    return torch.gather(F.log_softmax(logits.float() / temperature, dim=-1), 2, targets[..., None]).squeeze(-1)


def encode_rollouts(
    tokenizer: CharTokenizer, rollouts: Sequence[Rollout], block: int, max_tokens: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded inputs, next-token targets, and the loss mask (sampled completion tokens only).

    A response that stopped by itself (its last stretch shorter than ``max_tokens``) ends with the
    end-of-answer token, which the policy sampled too; sequences are cut to the model's block."""
    keep = set(tokenizer.chars)

    def encode(text: str) -> list[int]:
        return tokenizer.encode("".join(c for c in text if c in keep))

    rows = []
    for r in rollouts:
        prompt = encode(user_prompt(r.question))
        ids, sampled = ToolSample(r.question, r.completion, injected=r.injected).token_mask(encode)
        tail = len(r.completion) - (r.injected[-1][1] if r.injected else 0)
        if tail < max_tokens and not r.completion.endswith(OUTPUT_FENCE):  # it stopped by itself
            ids, sampled = ids + [tokenizer.eos_id], sampled + [True]
        full, mask = (prompt + ids)[: block + 1], ([False] * len(prompt) + sampled)[: block + 1]
        rows.append((full, mask))
    width = max(len(f) for f, _ in rows) - 1
    x = torch.full((len(rows), width), tokenizer.pad_id, dtype=torch.long)
    y = torch.full((len(rows), width), tokenizer.pad_id, dtype=torch.long)
    m = torch.zeros((len(rows), width), dtype=torch.bool)
    for i, (full, mask) in enumerate(rows):
        n = len(full) - 1
        x[i, :n], y[i, :n], m[i, :n] = torch.tensor(full[:-1]), torch.tensor(full[1:]), torch.tensor(mask[1:])
    return x, y, m


def sample_rollouts(
    model: GPT, tokenizer: CharTokenizer, problems: Sequence[dict], cfg: GRPOConfig, mode: str, sandbox,
    scorer: RewardScorer | None, seed: int,
) -> list[Rollout]:  # fmt: skip
    """A group of ``cfg.group_size`` graded, rewarded responses per problem, problem after problem."""
    backend = TinyBackend(model, tokenizer, mix_lengths=True)
    sampling = Sampling(cfg.group_size, cfg.temperature, 1.0, cfg.max_tokens, seed=seed)
    prompts = [user_prompt(p["question"]) for p in problems]
    keys = [f"grpo/{p['id']}" for p in problems]
    if mode == "tir":
        groups = generate_with_tools(backend, prompts, sampling, sandbox, cfg.max_tool_calls, groups=2, keys=keys)
        made = [[(s.completion, s.injected) for s in g] for g in groups]
    else:
        made = [[(c, []) for c in g] for g in generate_keyed(backend, prompts, sampling, keys)]
    rollouts = [Rollout(p["question"], text, injected, grade(text, p["answer"]).correct)
                for p, group in zip(problems, made) for text, injected in group]  # fmt: skip
    scores = scorer.score([r.question for r in rollouts], [r.completion for r in rollouts]) if scorer else None
    for i, r in enumerate(rollouts):
        r.rm_score = scores[i] if scores else 0.0
        r.reward = shaped_reward(r.rm_score, r.verified) if scorer else float(r.verified)
    return rollouts


@traced("grpo", lambda a: a["out"], lambda a: model_record(str(a["policy"]), "tiny"))
def train_grpo(
    policy: str | Path,
    problems: Sequence[dict],
    cfg: GRPOConfig,
    out: str | Path,
    scorer: RewardScorer | None = None,
    mode: str = "tir",
    device: str = "cpu",
    progress: bool = True,
    sandbox=None,
) -> dict:
    """GRPO from the tiny policy in ``policy`` on ``problems`` (id, question, answer); the result
    goes to ``out/ckpt.pt`` (a tiny checkpoint like any other) with ``out/grpo_log.jsonl``.
    Without ``scorer`` the reward is verification alone (1 or 0)."""
    if not problems:
        raise MathlensError("GRPO has no problems: none has a pass rate between the bounds (all right or all wrong)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model, tokenizer, extra = load_model(Path(policy) / CHECKPOINT if Path(policy).is_dir() else policy, device)
    reference = copy.deepcopy(model).eval().requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.99), weight_decay=0.0)
    start, log = 0, []
    if (out / STATE).exists():
        start, log = _restore(out / STATE, model, optimizer, cfg)
    problems = sorted(problems, key=lambda p: p["id"])
    block = model.config.block_size
    dev = model.wte.weight.device
    dump = RolloutDump(out / ROLLOUTS, cfg.dump_rollouts, start)
    with (nullcontext(sandbox) if sandbox is not None or mode != "tir" else tool_sandbox()) as box, \
            progress_bar(progress) as bar, Tracker(cfg.report_to, out, config=asdict(cfg)) as tracker:  # fmt: skip
        task = bar.add_task("grpo", total=cfg.steps, completed=start, info="")
        for step in range(start, cfg.steps):
            rng = random.Random(cfg.seed * 1_000_003 + step)
            chosen = rng.sample(problems, min(cfg.problems_per_step, len(problems)))
            t0 = time.perf_counter()
            model.eval()
            rollouts = sample_rollouts(model, tokenizer, chosen, cfg, mode, box, scorer, seed=cfg.seed * 1000 + step)
            t1 = time.perf_counter()
            rewards = torch.tensor([r.reward for r in rollouts])
            adv = group_advantages(rewards, [cfg.group_size] * len(chosen)).to(dev)
            x, y, m = (t.to(dev) for t in encode_rollouts(tokenizer, rollouts, block, cfg.max_tokens))
            with torch.no_grad():
                old = token_logprobs(model, x, y, cfg.temperature)
                ref = token_logprobs(reference, x, y, cfg.temperature)
            model.train()
            for _ in range(cfg.updates_per_batch):
                loss, stats = grpo_loss(token_logprobs(model, x, y, cfg.temperature), old, ref, adv, m,
                                        cfg.clip, cfg.beta, cfg.loss_type)  # fmt: skip
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                optimizer.step()
            t2 = time.perf_counter()
            verified = sum(r.verified for r in rollouts) / len(rollouts)
            entry = {"step": step + 1, "loss": round(loss.item(), 5), "reward": round(float(rewards.mean()), 5),
                     "verified": round(verified, 4), "kl": round(stats["kl"], 6), "clipped": round(stats["clipped"], 5),
                     "tokens": int(m.sum()), "rollouts": len(rollouts),
                     "sample_s": round(t1 - t0, 3), "update_s": round(t2 - t1, 3)}  # fmt: skip
            log.append(entry)
            tracker.log(step + 1, entry)
            dump.write(step + 1, map(rollout_row, rollouts))
            bar.update(task, completed=step + 1, info=f"verified {verified:.0%}  kl {stats['kl']:.4f}")
            if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
                _save_state(out / STATE, model, optimizer, tokenizer, cfg, step + 1, log)
    state = {"model": model.state_dict(), "model_config": model.config.to_dict(), "tokenizer": tokenizer.to_dict(),
             "extra": {**extra, "grpo": asdict(cfg), "start": str(policy)}}  # fmt: skip
    save_checkpoint(out / CHECKPOINT, state)
    write_log(out / "grpo_log.jsonl", log)
    return {"problems": len(problems), "log": log}


def _save_state(path: Path, model, optimizer, tokenizer, cfg: GRPOConfig, step: int, log: list) -> None:
    save_checkpoint(path, {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                           "log": log, "grpo": asdict(cfg), "model_config": model.config.to_dict()})  # fmt: skip


def _restore(path: Path, model, optimizer, cfg: GRPOConfig) -> tuple[int, list]:
    state = load_checkpoint(path)
    changed = changed_settings(state["grpo"], asdict(cfg), ignore=("steps", *WATCH_ONLY))  # more steps may follow
    if changed or GPTConfig.from_dict(state["model_config"]) != model.config:
        raise MathlensError(f"{path}: GRPO settings changed since this run began ({', '.join(changed) or 'model'}); "
                            "use another folder")  # fmt: skip
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return state["step"], list(state["log"])
