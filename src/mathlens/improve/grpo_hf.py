"""GRPO for Hugging Face policies through TRL's ``GRPOTrainer``, with our shaped reward.

One reward function computes σ(0.5·r_m) + (r_v − 1): TRL hands it the completions and every
other dataset column as keyword arguments, so the reference ``answer`` reaches it and it
verifies each completion with the grader; the reward model (any ``RewardScorer``, tiny or
Hugging Face) scores the same (question, completion) pairs. ``loss_type``, ``beta``,
``num_generations`` and the clip ε come from our config; the trainer is accelerate's, so
``accelerate launch`` spreads it over GPUs unchanged.

TIR goes through TRL's own multi-turn tool support (``tools=``): one ``python`` tool runs the
model's code in our sandbox and TRL masks the tool's output out of the loss. It needs a chat
template that renders tool calls (Qwen's do) and a model tuned to make them.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

from ..backends.tools import tool_sandbox
from ..errors import MathlensError
from ..grading import grade
from ..provenance import model_record, traced
from ..tracking import check_report_to
from ..models.hf import load_causal_lm, prompt_text
from .reward import shaped_reward
from .grpo import ROLLOUTS, RolloutDump
from .rm import RewardScorer


@dataclass(frozen=True)
class HFGRPOConfig:
    steps: int = 60
    problems_per_step: int = 4  # prompts per optimizer step, each with group_size completions
    group_size: int = 8  # TRL's num_generations
    temperature: float = 1.0
    max_tokens: int = 256
    lr: float = 1e-6
    beta: float = 0.04
    loss_type: str = "grpo"  # TRL's names: grpo, dapo, dr_grpo, bnpo, …
    clip: float = 0.2  # TRL's epsilon
    num_iterations: int = 1  # TRL's μ: optimizer passes per generation batch
    save_steps: int = 50
    tools: bool = False  # TIR: the model may call a `python` tool (our sandbox) through TRL's tool loop
    max_tool_calls: int = 2
    chat_template: str = "auto"  # how a question is rendered (tools: always the chat template, TRL's way)
    use_vllm: bool = False  # sample rollouts with vLLM inside the trainer (TRL's colocate mode; a GPU)
    model_args: str = ""  # loading options (models.hf.ModelArgs); dtype auto trains fp32 weights
    seed: int = 0
    report_to: str = "none"  # TRL's report_to: none | tensorboard | wandb
    dump_rollouts: int = 4  # each generation batch's first N completions to out/rollouts.jsonl, as the tiny loop's

    def __post_init__(self) -> None:
        check_report_to(self.report_to)
        if self.dump_rollouts < 0:
            raise MathlensError(f"dump_rollouts {self.dump_rollouts}: 0 (none) or more rollouts a step")


def shaped_reward_function(
    scorer: RewardScorer | None, dump: RolloutDump | None = None
) -> Callable[..., list[float]]:
    """The reward function TRL calls: the dataset's ``answer`` (and ``question``) arrive as keyword
    lists, and the trainer's state as ``trainer_state``. ``dump``: where the first completions of
    each call (one per generation batch) are written, by the main process."""

    def shaped(prompts: Sequence, completions: Sequence, answer: Sequence[str], question: Sequence[str],
               trainer_state=None, **_: object) -> list[float]:  # fmt: skip
        texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
        verified = [grade(t, a).correct for t, a in zip(texts, answer)]
        if scorer is None:
            rewards = [float(v) for v in verified]
        else:
            scores = scorer.score(list(question), texts)
            rewards = [shaped_reward(s, v) for s, v in zip(scores, verified)]
        if dump is not None and int(os.environ.get("RANK", "0")) == 0:
            step = trainer_state.global_step + 1 if trainer_state is not None else 0
            rows = zip(prompts, completions, rewards, verified)
            dump.write(step, (completion_row(p, c, r, v) for p, c, r, v in rows))
        return rewards

    shaped.__name__ = "shaped_reward"  # TRL logs each reward function under its name
    return shaped


def completion_row(prompt, completion, reward: float, verified: bool) -> dict:
    """A dumped rollout from TRL's prompt and completion: texts, or conversations (with tools:
    the assistant's turns and the tool's answers, each tool message one call)."""
    turns = completion if isinstance(completion, list) else [{"content": completion}]
    return {"prompt": prompt if isinstance(prompt, str) else "\n".join(str(m.get("content", "")) for m in prompt),
            "completion": "\n".join(str(m.get("content") or "") for m in turns), "reward": round(reward, 5),
            "verified": verified, "tool_calls": sum(m.get("role") == "tool" for m in turns)}  # fmt: skip


def python_tool(sandbox) -> Callable[[str], str]:
    """The tool TRL offers the model: its name, type hints and docstring are the schema it sees."""

    def python(code: str) -> str:
        """Run a Python program and return what it prints.

        Args:
            code: The Python program to run; print the result.

        Returns:
            The program's output, or the last line of its error.
        """
        return sandbox.run(code).output

    return python


def grpo_arguments(cfg: HFGRPOConfig, out: Path, progress: bool = True) -> dict:
    """``trl.GRPOConfig``'s arguments from ours: each of our settings reaches the trainer."""
    from ..train.hf import trainer_args

    if cfg.use_vllm and importlib.util.find_spec("vllm") is None:
        raise MathlensError("use_vllm: vLLM is not installed (pip install vllm, on a CUDA machine)")
    vllm = {"use_vllm": True, "vllm_mode": "colocate"} if cfg.use_vllm else {}
    return dict(
        max_steps=cfg.steps,
        per_device_train_batch_size=cfg.problems_per_step * cfg.group_size,
        num_generations=cfg.group_size,
        max_completion_length=cfg.max_tokens,
        temperature=cfg.temperature,
        learning_rate=cfg.lr,
        beta=cfg.beta,
        loss_type=cfg.loss_type,
        epsilon=cfg.clip,
        num_iterations=cfg.num_iterations,
        max_tool_calling_iterations=cfg.max_tool_calls if cfg.tools else None,
        **vllm,
        **trainer_args(out, cfg.seed, cfg.save_steps, progress, report_to=cfg.report_to),
    )


@traced("grpo", lambda a: a["out"], lambda a: model_record(str(a["policy"]), "hf"))
def train_grpo_hf(
    policy: str,
    problems: Sequence[dict],
    cfg: HFGRPOConfig,
    out: str | Path,
    scorer: RewardScorer | None = None,
    progress: bool = True,
    callbacks: list | None = None,
) -> dict:
    """GRPO from ``policy`` (folder or hub id) on ``problems`` (question, answer) into ``out``;
    resumes from the last checkpoint under ``out/checkpoints``."""
    if not problems:
        raise MathlensError("GRPO has no problems: none has a pass rate between the bounds (all right or all wrong)")
    try:
        import trl
        from datasets import Dataset
    except ImportError:
        raise MathlensError("GRPO on Hugging Face models needs TRL and datasets: pip install 'mathlens[finetune]'") from None
    from ..train.hf import last_checkpoint, quiet_datasets, quiet_trainer, training_args

    if not progress:
        quiet_datasets()
    from ..backends.vllm import release_engine

    release_engine()  # a sampling engine of the loop's would hold the GPU the trainer needs
    model, tokenizer = load_causal_lm(policy, device="cpu", args=training_args(cfg.model_args))  # the trainer places it
    if cfg.tools and not getattr(tokenizer, "chat_template", None):
        raise MathlensError(f"{policy}: tools need a chat template that renders tool calls; this tokenizer has none")
    # With tools, prompts are conversations: TRL renders them with the tools' schema in the template.
    dataset = Dataset.from_list(
        [{"prompt": [{"role": "user", "content": p["question"]}] if cfg.tools
          else prompt_text(tokenizer, p["question"], cfg.chat_template),
          "question": p["question"], "answer": p["answer"]} for p in problems]  # fmt: skip
    )
    out = Path(out)
    args = trl.GRPOConfig(**grpo_arguments(cfg, out, progress))
    last = last_checkpoint(out)
    out.mkdir(parents=True, exist_ok=True)
    dump = RolloutDump(out / ROLLOUTS, cfg.dump_rollouts, int(Path(last).name.split("-")[-1]) if last else 0)
    with tool_sandbox() if cfg.tools else nullcontext() as box:
        trainer = trl.GRPOTrainer(
            model=model,
            reward_funcs=[shaped_reward_function(scorer, dump)],
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            callbacks=callbacks,
            tools=[python_tool(box)] if cfg.tools else None,
        )
        if not progress:
            quiet_trainer(trainer)
        trainer.train(resume_from_checkpoint=last)
    log = [e for e in trainer.state.log_history if "loss" in e or "reward" in e]
    if trainer.is_world_process_zero():
        trainer.model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        (out / "grpo_log.json").write_text(json.dumps({"config": asdict(cfg), "log": log, "resumed_from": last}, indent=1))
    return {"problems": len(problems), "log": log}
