"""Curves while a run goes: a loop's scalars to TensorBoard or Weights & Biases (``--report-to``).

The JSON logs the loops write (``train_log.jsonl``, ``grpo_log.jsonl``) stay the record and
``mathlens plot`` draws them afterwards; a tracker shows the same numbers as they are made, in
the tools people already watch runs with. Our own loops (the tiny trainer, tiny GRPO, the
reward model's) log through a ``Tracker``; the Hugging Face trainers get the choice as their
``report_to``. Watching changes nothing a run computes, so the choice is never a setting a
resumed run is compared on (``WATCH_ONLY``).
"""

from __future__ import annotations

import importlib.util
import os
from numbers import Real
from pathlib import Path
from typing import Any

from .errors import MathlensError

REPORT_TO = ("none", "tensorboard", "wandb")
TB_FOLDER = "tb"  # a tiny loop's TensorBoard event files, under its run folder
# Config fields that only watch a run: a run resumed with other values of them is the same run.
WATCH_ONLY = ("report_to", "dump_rollouts")


def check_report_to(report_to: str) -> str:
    """The choice, or a one-line error naming the allowed values; the chosen library must be installed."""
    if report_to not in REPORT_TO:
        raise MathlensError(f"report_to {report_to!r}: choose {', '.join(REPORT_TO)}")
    if report_to != "none" and importlib.util.find_spec(report_to) is None:
        raise MathlensError(f"--report-to {report_to} needs {report_to}: pip install {report_to}")
    return report_to


class Tracker:
    """Scalars by step to the chosen sink: nothing (``none``), TensorBoard event files under
    ``out/tb/``, or a W&B run in project ``mathlens`` kept under ``out/wandb/`` (``WANDB_MODE``
    picks online or offline, as wandb reads it). Use it as a context manager, or ``close()`` it."""

    def __init__(self, report_to: str, out: str | Path, name: str | None = None, config: dict | None = None) -> None:
        self.report_to = check_report_to(report_to)
        self.out = Path(out)
        self._writer: Any = None  # a SummaryWriter
        self._run: Any = None  # a wandb Run
        if report_to == "tensorboard":
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.out / TB_FOLDER))
        elif report_to == "wandb":
            self._run = _wandb_run(self.out, name or self.out.name, config)

    def log(self, step: int, scalars: dict[str, Any]) -> None:
        """Every real number of ``scalars`` (its ``step`` and anything else left out) at ``step``."""
        numbers = {k: float(v) for k, v in scalars.items()
                   if k != "step" and isinstance(v, Real) and not isinstance(v, bool)}  # fmt: skip
        if not numbers:
            return
        if self._writer is not None:
            for key, value in numbers.items():
                self._writer.add_scalar(key, value, step)
        if self._run is not None:
            self._run.log(numbers, step=step)

    def close(self) -> None:
        """Write out what is buffered and end the run (safe to call twice)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._run is not None:
            self._run.finish()
            self._run = None

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _wandb_run(out: Path, name: str, config: dict | None) -> Any:
    import wandb

    out.mkdir(parents=True, exist_ok=True)
    try:  # a run of its own, even where another is open in this process (lso's control, a loop's rounds)
        return wandb.init(project="mathlens", dir=str(out), name=name, config=config or {},
                          mode=os.environ.get("WANDB_MODE"), reinit="create_new")  # fmt: skip
    except wandb.errors.UsageError as err:  # not logged in, and online
        raise MathlensError(f"--report-to wandb: {err} (run `wandb login`, or set WANDB_MODE=offline)") from None
