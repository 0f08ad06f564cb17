"""The policy the loop improves: how it is trained from SFT rows and how it is sampled.

The tiny GPT trains in its own loop (``train.tiny``, resumable mid-run) and samples through
the tiny backend; a Hugging Face checkpoint trains through TRL (``train.hf.finetune``) and
samples through the ``hf`` or ``vllm`` backend. Everything the loop does with a model goes
through these three functions, so the same config runs a laptop's tiny world and a GPU's
real checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..backends import as_text, make_backend
from ..records import Example, read_jsonl
from .config import LoopConfig


def user_prompt(question: str, tokenizer=None, chat_template: str = "auto") -> str:
    """The text a policy reads for a question: one user turn, by default through the chat template if any."""
    return as_text([{"role": "user", "content": question}], tokenizer, chat_template)


def load_policy(cfg: LoopConfig, model_dir: str | Path):
    """A backend sampling from the model in ``model_dir`` (or the hub id the loop starts from)."""
    if cfg.backend == "tiny":
        # Problems of every length in one batch (left-padded): a pool's prompts rarely share a length.
        return make_backend("tiny", str(Path(model_dir) / "ckpt.pt"), device=cfg.device, mix_lengths=True)
    if cfg.backend == "hf":
        return make_backend("hf", str(model_dir), batch_size=cfg.sampling.hf_sample_batch, model_args=cfg.model_args)
    return make_backend(cfg.backend, str(model_dir), model_args=cfg.model_args)


def train_tiny(
    cfg: LoopConfig, texts: Sequence[str], rows: Sequence[dict], out: Path, start: Path | None, round_: int,
    progress: bool,
) -> None:
    """Train the tiny GPT on SFT rows into ``out/ckpt.pt``; from ``start``'s weights, or a fresh
    model whose alphabet and block cover ``texts`` (the whole world, so every round's model reads
    every problem). A killed run resumes from its own checkpoint."""
    import torch

    from ..models import ModelConfig, build_model, load_model
    from ..models.device import resolve_device
    from ..train import TrainConfig, train

    t = cfg.training
    if start is None:
        shape = ModelConfig(t.n_layer, t.n_head, t.n_embd, t.positions)
        model, tokenizer = build_model(texts, shape, cfg.seed, block_multiple=64, margin=cfg.sampling.max_tokens)
        model.to(resolve_device(cfg.device))
        lr, steps = t.lr, t.seed_steps
    else:
        model, tokenizer, _ = load_model(start / "ckpt.pt", cfg.device)
        lr, steps = t.lr * t.later_lr_frac, t.steps
    examples = [
        Example(i, "words", (0, 0), user_prompt(r["prompt"]), r["completion"], "", "train") for i, r in enumerate(rows)
    ]
    config = TrainConfig(
        steps=steps, batch_size=t.batch_size, lr=lr, warmup_steps=min(50, steps // 10), weight_decay=0.0,
        eval_every=0, checkpoint_every=100, seed=cfg.seed + round_, report_to=cfg.report_to,
    )  # fmt: skip
    torch.manual_seed(cfg.seed + round_)
    train(model, tokenizer, examples, config, out, resume=True, extra={"round": round_}, progress=progress,
          description=f"round {round_}: train")  # fmt: skip


def train_hf(cfg: LoopConfig, data: Path, out: Path, start: str, progress: bool) -> None:
    """Supervised fine-tuning through TRL from ``start`` (a folder or hub id) into ``out``."""
    from ..backends.vllm import release_engine
    from ..train.hf import FinetuneConfig, finetune

    release_engine()  # a vLLM engine from sampling would hold the GPU the trainer needs

    t = cfg.training
    run = FinetuneConfig(
        model=start, data=str(data), out=str(out), epochs=t.hf_epochs, batch_size=t.hf_batch_size, lr=t.hf_lr,
        warmup_steps=0, max_length=1024, gradient_checkpointing=False, resume=True, seed=cfg.seed,
        chat_template=cfg.chat_template, model_args=cfg.model_args, report_to=cfg.report_to,
    )  # fmt: skip
    finetune(run, progress=progress)


def read_rows(path: Path) -> list[dict]:
    return [row for _, row in read_jsonl(path)]
