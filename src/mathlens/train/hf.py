"""Fine-tune a Hugging Face causal LM on exported JSONL through TRL's ``SFTTrainer``.

Loss on the completion only, full or LoRA (peft), bf16 where the device has it, gradient
accumulation, checkpoints every ``save_steps`` and resume from the last one; several GPUs
through ``accelerate launch -m mathlens finetune …`` with no change here, as the trainer is
accelerate's. transformers, TRL and peft are imported lazily: ``pip install 'mathlens[finetune]'``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import MathlensError
from ..models.hf import ModelArgs, load_causal_lm, prompt_text
from ..provenance import file_record, model_record, traced
from ..records import read_jsonl
from ..tracking import check_report_to
from .core import TrainConfig, write_log

CHECKPOINTS = "checkpoints"  # the trainer's resumable state, under the output folder


@dataclass(frozen=True)
class FinetuneConfig:
    model: str  # hub id, local folder, .gguf file or a packaged model's name
    data: str  # JSONL from `mathlens export` (prompt/completion or messages)
    out: str = "runs/finetune"
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    epochs: float = 1.0
    steps: int | None = None  # overrides epochs
    batch_size: int = 8  # rows per device per micro-batch
    grad_accum: int = 1  # micro-batches per optimizer step
    lr: float = 2e-5  # full fine-tuning; LoRA usually wants ~1e-4
    warmup_steps: int = 10
    max_length: int = 2048
    bf16: str = "auto"  # auto (where the GPU supports it), on, off
    gradient_checkpointing: bool = True  # TRL's default: recompute activations, ~30% slower, far less memory
    save_steps: int = 500
    resume: bool = False
    seed: int = 0
    chat_template: str = "auto"  # how a prompt is rendered: auto | on | off (backends.chat)
    model_args: str = ""  # loading options (models.hf.ModelArgs); dtype auto trains fp32 weights
    # Full fine-tuning of the top N transformer blocks (and the final norm) only, the rest and the
    # embeddings frozen: on a CPU the backward pass and the optimizer's state shrink with N.
    train_layers: int | None = None
    report_to: str = "none"  # none | tensorboard | wandb: the trainer's own reporting (tracking.py)

    def __post_init__(self) -> None:
        check_report_to(self.report_to)

    def schedule(self, rows: int, processes: int = 1) -> TrainConfig:
        """The shared schedule this run follows (warm-up, then cosine to zero)."""
        per_step = self.batch_size * self.grad_accum * processes
        steps = self.steps or max(1, math.ceil(self.epochs * rows / per_step))
        return TrainConfig(steps=steps, batch_size=per_step, lr=self.lr, warmup_steps=self.warmup_steps, seed=self.seed)


@dataclass
class FinetuneResult:
    losses: list[float]
    out: Path
    model: Any  # the trained model (LoRA merged), as this process holds it


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


def _use_bf16(setting: str) -> bool:
    import torch

    if setting not in ("auto", "on", "off"):
        raise MathlensError(f"bf16 {setting!r}: choose auto, on or off")
    if setting == "auto":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return setting == "on"


@traced("finetune", lambda a: a["cfg"].out, lambda a: model_record(a["cfg"].model, "hf"),
        lambda a: [file_record("train", a["cfg"].data)])
def finetune(cfg: FinetuneConfig, progress: bool = True, callbacks: list | None = None) -> FinetuneResult:
    """Train; the main process saves model and tokenizer to ``cfg.out`` with ``finetune_log.json``.
    ``callbacks``: extra ``transformers.TrainerCallback``s (meters, early stops)."""
    pairs = read_pairs(cfg.data)  # local inputs first: a typo fails in a second, not after a download
    try:
        import trl
        from datasets import Dataset
    except ImportError:
        raise MathlensError("fine-tuning needs TRL and datasets: pip install 'mathlens[finetune]'") from None
    peft_config = None
    if cfg.lora:
        try:
            import peft
        except ImportError:
            raise MathlensError("--lora needs peft: pip install 'mathlens[finetune]'") from None
        peft_config = peft.LoraConfig(
            r=cfg.lora_r, lora_alpha=cfg.lora_alpha, target_modules="all-linear", task_type="CAUSAL_LM"
        )
    if not progress:
        quiet_datasets()
    model, tokenizer = load_causal_lm(cfg.model, device="cpu", args=training_args(cfg.model_args))  # the trainer places it
    tokenizer.padding_side = "right"
    if cfg.train_layers is not None:
        if cfg.lora:
            raise MathlensError("train_layers trains the top blocks in full: drop --lora, or train_layers")
        freeze_below(model, cfg.train_layers)
    rows = [{"prompt": prompt_text(tokenizer, u, cfg.chat_template), "completion": c} for u, c in pairs]
    dataset = Dataset.from_list(rows)
    out = Path(cfg.out)
    # under `accelerate launch` each process takes its own micro-batch: an epoch is fewer steps
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    args = trl.SFTConfig(
        max_steps=cfg.schedule(len(pairs), processes).steps,
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr,
        warmup_steps=cfg.warmup_steps,
        lr_scheduler_type="cosine",
        weight_decay=0.0,
        max_grad_norm=1.0,
        gradient_checkpointing=cfg.gradient_checkpointing,
        completion_only_loss=True,
        max_length=cfg.max_length,
        data_seed=cfg.seed,
        **trainer_args(out, cfg.seed, cfg.save_steps, progress, cfg.bf16, cfg.report_to),
    )
    trainer = trl.SFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=callbacks,
    )
    if not progress:
        quiet_trainer(trainer)
    last = last_checkpoint(out) if cfg.resume else None
    trainer.train(resume_from_checkpoint=last)
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    trained = trainer.model.merge_and_unload() if cfg.lora else trainer.model  # one checkpoint that loads without peft
    if trainer.is_world_process_zero():
        trained.save_pretrained(out)
        tokenizer.save_pretrained(out)
        log = {"config": asdict(cfg), "losses": losses, "resumed_from": last, "processes": processes}
        (out / "finetune_log.json").write_text(json.dumps(log, indent=2) + "\n")
        write_log(out / "train_log.jsonl", trainer.state.log_history)  # every logged row, for `mathlens plot`
    return FinetuneResult(losses, out, trained)


def blocks(model: Any) -> Any:
    """The model's stack of transformer blocks: its longest ``ModuleList`` (Llama's
    ``model.layers``, GPT-2's ``transformer.h``), found rather than named per architecture."""
    import torch

    lists = [m for m in model.modules() if isinstance(m, torch.nn.ModuleList)]
    if not lists:
        raise MathlensError(f"{type(model).__name__}: no stack of blocks found to freeze")
    return max(lists, key=len)


def freeze_below(model: Any, top: int) -> None:
    """Train only the last ``top`` blocks and the final norm (``model.norm``, GPT-2's ``ln_f``);
    the embeddings, the (often tied) head and the lower blocks stay as pretrained."""
    stack = blocks(model)
    if not 1 <= top <= len(stack):
        raise MathlensError(f"train_layers={top}: between 1 and the model's {len(stack)} blocks")
    model.requires_grad_(False)
    for block in list(stack)[len(stack) - top :]:
        block.requires_grad_(True)
    in_blocks = {id(p) for p in stack.parameters()}
    for name, param in model.named_parameters():
        owner = name.split(".")[-2] if "." in name else ""
        if id(param) not in in_blocks and ("norm" in owner or owner.startswith("ln")):
            param.requires_grad_(True)


def training_args(model_args: str) -> ModelArgs:
    """Loading options for a model about to be trained: fp32 weights unless a dtype is given
    (the optimizer keeps its state in the weights' dtype; bf16 compute comes from ``bf16``)."""
    args = ModelArgs.parse(model_args)
    return args if args.dtype != "auto" else replace(args, dtype="float32")


def trainer_args(
    out: Path, seed: int, save_steps: int, progress: bool, bf16: str = "auto", report_to: str = "none"
) -> dict:
    """What every TRL run here sets alike (SFT and GRPO): resumable checkpoints under
    ``out/checkpoints``, a log entry per step, reporting as chosen (TensorBoard's event files
    under ``out/checkpoints/runs/``; W&B named after the folder), seeded, bars only when asked,
    bf16 where the GPU has it, and the CPU said where there is no GPU (several gloo processes need it)."""
    import torch

    return dict(output_dir=str(out / CHECKPOINTS), logging_steps=1, save_steps=save_steps, save_total_limit=2,
                report_to=check_report_to(report_to), run_name=out.name, seed=seed, disable_tqdm=not progress,
                dataloader_num_workers=0, use_cpu=not torch.cuda.is_available(), bf16=_use_bf16(bf16))  # fmt: skip


def quiet_datasets() -> None:
    """datasets draws a bar per preprocessing pass."""
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()


def quiet_trainer(trainer) -> None:
    """No printed log dict per step either."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def last_checkpoint(out: Path) -> str | None:
    """The newest resumable checkpoint under ``out/checkpoints``, if any."""
    folder = out / CHECKPOINTS
    if not folder.is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(folder))
