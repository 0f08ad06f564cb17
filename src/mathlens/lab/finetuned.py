"""An LSO grid learned by a pretrained model: fine-tune it on the training cells, answer every cell.

The paper's LSO figures fine-tune GPT-2 and Llama-2 on the cells outside the square and read
the hole off a greedy pass over the whole grid; this is that run for any Hugging Face causal
LM, through the same TRL fine-tuning as ``mathlens finetune`` (loss on the target only, full,
LoRA, or the top blocks in full) and the same ``hf`` backend as ``mathlens eval``. The
fine-tuned model stays in ``out/model`` (a checkpoint every ``train.checkpoint_every`` steps
under it, so ``--resume`` continues a killed run), its budget in ``out/finetune.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from ..backends import make_backend
from ..errors import MathlensError
from ..formats import Format
from ..records import Example, write_jsonl
from ..train.core import TrainConfig
from ..train.hf import FinetuneConfig, finetune
from ..train.launch import launch_finetune
from .configs import FinetuneSpec, LengthGenConfig, LSOConfig
from .predict import complete


def finetune_config(spec: FinetuneSpec, train: TrainConfig, data: Path, out: Path, resume: bool,
                    model_args: str) -> FinetuneConfig:  # fmt: skip
    """The fine-tune a lab config asks for: its ``finetune`` choices on its ``train`` budget
    (``train.batch_size`` the global batch, split among ``spec.processes``), the prompt as it is
    (no chat template: the paper's ``a+b=``)."""
    if train.batch_size % spec.processes:
        raise MathlensError(f"batch_size {train.batch_size} does not split among {spec.processes} processes")
    return FinetuneConfig(
        model=spec.base_model,
        data=str(data),
        out=str(out),
        lora=spec.lora,
        lora_r=spec.lora_r,
        lora_alpha=2 * spec.lora_r,
        epochs=spec.epochs or 1.0,
        steps=None if spec.epochs else train.steps,
        batch_size=train.batch_size // spec.processes,
        lr=train.lr,
        warmup_steps=train.warmup_steps,
        max_length=2048,
        bf16=spec.bf16,
        gradient_checkpointing=False,  # rows of tens of tokens: recomputing saves little memory, costs time
        save_steps=train.checkpoint_every,
        resume=resume,
        seed=train.seed,
        chat_template="off",
        model_args=model_args,
        train_layers=spec.train_layers,
        report_to=train.report_to,
    )


def finetune_and_predict(
    examples: Sequence[Example],
    asked: Sequence[Example],
    fmt: Format,
    cfg: LSOConfig | LengthGenConfig,
    train: TrainConfig,
    out: Path,
    progress: bool = True,
) -> list[dict]:
    """Fine-tune ``cfg.finetune.base_model`` on the training ``examples`` (prompt, then target)
    with the ``train`` budget, then one greedy answer per ``asked`` example (``complete``'s rows,
    in order); the budget spent goes to ``out/finetune.json``. Loading and generation follow
    ``cfg.probe``'s model args and batch size, as an evaluated model's do."""
    spec, model_args = cfg.finetune, cfg.probe.model_args
    train_rows = [e for e in examples if e.split == "train"]
    data = out / "finetune.jsonl"
    write_jsonl(data, ({"prompt": e.prompt, "completion": e.target} for e in train_rows))
    ft = finetune_config(spec, train, data, out / "model", cfg.resume, model_args)
    t0 = time.perf_counter()
    if spec.processes > 1:  # accelerate launch trains; this process keeps the run folder
        losses = launch_finetune(ft, spec.processes, progress)
    else:
        result = finetune(ft, progress=progress)
        losses = result.losses
        del result  # the saved checkpoint is what is evaluated: the run's artefact, as a user reloads it
    trained_s = time.perf_counter() - t0
    backend = make_backend("hf", str(out / "model"), batch_size=cfg.probe.gen_batch_size, model_args=model_args)
    count = lambda text: len(backend.tokenizer(text)["input_ids"])  # noqa: E731
    tokens = [count(e.prompt + e.target) + 1 for e in train_rows]  # + the end of text
    steps = ft.schedule(len(train_rows), spec.processes).steps
    t1 = time.perf_counter()
    done = complete(backend, [e.prompt for e in asked], fmt, max(count(e.target) for e in asked) + 2)
    budget = {
        "base_model": spec.base_model,
        "device": str(backend.model.device),
        "processes": spec.processes,
        "steps": steps,
        "rows": len(train_rows),
        "epochs": round(steps * train.batch_size / len(train_rows), 2),
        "train_tokens": round(sum(tokens) / len(tokens) * steps * train.batch_size),
        "train_seconds": round(trained_s, 1),
        "predict_seconds": round(time.perf_counter() - t1, 1),
        "losses": [round(x, 4) for x in losses],
    }
    (out / "finetune.json").write_text(json.dumps(budget, indent=1) + "\n")
    return done
