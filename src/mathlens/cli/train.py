"""``mathlens finetune``: Hugging Face models through TRL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (
    ChatTemplateOption,
    ConfigDefaults,
    ModelArgsOption,
    Quiet,
    ReportToOption,
    capability,
    out_console,
    user_errors,
)

app = capability("Training pretrained models.")


@app.command(
    epilog="Example: mathlens finetune --model ./tiny-llama --data data/rfft.jsonl --lora --out runs/ft\n\n"
    "The packaged real model: mathlens finetune --model smollm2-135m-instruct --data data/rfft.jsonl --lora --steps 20"
)
@user_errors
def finetune(
    model: Annotated[
        str, typer.Option(help="Hub id, Hugging Face folder, .gguf file or smollm2-135m-instruct.")
    ],
    data: Annotated[Path, typer.Option(help="JSONL from `mathlens export`.")],
    lora: Annotated[
        bool, typer.Option("--lora", help="Train LoRA adapters (peft), merged into the saved model.")
    ] = False,
    epochs: Annotated[float, typer.Option(help="Passes over the data.")] = 1.0,
    steps: Annotated[Optional[int], typer.Option(help="Optimizer steps (overrides --epochs).", show_default="from --epochs")] = None,
    batch_size: Annotated[int, typer.Option(help="Rows per device per micro-batch.")] = 8,
    grad_accum: Annotated[int, typer.Option(help="Micro-batches per optimizer step.")] = 1,
    bf16: Annotated[str, typer.Option(help="auto (where the GPU has it), on or off.")] = "auto",
    checkpointing: Annotated[
        bool,
        typer.Option(
            "--gradient-checkpointing/--no-gradient-checkpointing",
            help="Recompute activations: less memory, ~30% slower.",
        ),
    ] = True,
    save_steps: Annotated[int, typer.Option(help="Steps between resumable checkpoints (OUT/checkpoints).")] = 500,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the last checkpoint in OUT/checkpoints.")
    ] = False,
    lr: Annotated[
        Optional[float], typer.Option(help="Peak learning rate.", show_default="2e-5 full, 1e-4 with --lora")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of init and order.")] = 0,
    model_args: ModelArgsOption = "",
    chat_template: ChatTemplateOption = "auto",
    out: Annotated[Path, typer.Option(help="Output folder for the model.")] = Path("runs/finetune"),
    report_to: ReportToOption = "none",
    config: ConfigDefaults = None,
    quiet: Quiet = False,
) -> None:
    """Fine-tune a causal LM on exported data through TRL, loss on the completion only; then `lengthgen --model OUT`.

    Several GPUs: accelerate launch -m mathlens finetune … (the same flags).
    """
    from ..train.hf import FinetuneConfig
    from ..train.hf import finetune as run

    lr = lr if lr is not None else (1e-4 if lora else 2e-5)
    cfg = FinetuneConfig(
        str(model),
        str(data),
        str(out),
        lora,
        epochs=epochs,
        steps=steps,
        batch_size=batch_size,
        grad_accum=grad_accum,
        lr=lr,
        bf16=bf16,
        gradient_checkpointing=checkpointing,
        save_steps=save_steps,
        resume=resume,
        seed=seed,
        chat_template=chat_template,
        model_args=model_args,
        report_to=report_to,
    )
    losses = run(cfg, progress=not quiet).losses
    out_console.print(f"{len(losses)} logged steps, loss {losses[0]:.4f} → {losses[-1]:.4f}; model in {out}")


@app.command(
    epilog="Example: mathlens plot runs/lso/train_log.jsonl runs/lso/control/train_log.jsonl --out runs/lso/curves.png"
    "\n\n"
    "GRPO: mathlens plot runs/grpo/grpo_log.jsonl (loss, reward, verified share and KL, each a panel)"
)
@user_errors
def plot(
    logs: Annotated[
        list[Path],
        typer.Argument(
            metavar="LOG",
            help="Training logs: train_log.jsonl (tiny trainer, finetune), grpo_log.jsonl (tiny GRPO), "
            "grpo_log.json (GRPO through TRL) or finetune_log.json; several are overlaid, each named by its folder."
        ),
    ],
    out: Annotated[
        Optional[Path], typer.Option(help="The PNG to write.", show_default="curves.png beside the first log")
    ] = None,
    config: ConfigDefaults = None,
) -> None:
    """Draw loss, reward, verified share and KL (whichever the logs hold) against step, one panel each."""
    from ..curves import plot_logs

    drawn = plot_logs(logs, out)
    out_console.print(f"{drawn.path}: {', '.join(drawn.panels)} of {len(logs)} log{'s' if len(logs) > 1 else ''}")
