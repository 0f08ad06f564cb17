"""``mathlens plot``: training curves from the logs the trainers already write, several runs overlaid.

Every loop here keeps its own log on disk (the tiny trainer's ``train_log.jsonl``, tiny GRPO's
``grpo_log.jsonl``, the Hugging Face trainers' ``train_log.jsonl`` / ``grpo_log.json`` with
the trainer's log rows, ``finetune_log.json``'s losses), so curves need no tracker running
while the run went (``--report-to`` is for watching live). One PNG, one panel per quantity any
of the logs holds, each run a line labelled by its folder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import MathlensError
from .records import read_json, read_jsonl

# The quantities drawn, in panel order: the key a log row holds it under, and the panel's title.
QUANTITIES = {"loss": "loss", "reward": "mean reward", "verified": "verified share of rollouts",
              "kl": "KL to the start"}  # fmt: skip
DEFAULT_NAME = "curves.png"


@dataclass(frozen=True)
class Curves:
    """What ``plot_logs`` drew: the PNG and its panels' quantities, in order."""

    path: Path
    panels: tuple[str, ...]


def read_log(path: str | Path) -> list[dict]:
    """A log's rows (dicts with a ``step``): JSON Lines rows, or a JSON file holding them under
    ``log`` (TRL's GRPO), as a list, or as ``losses`` (a fine-tune's summary; steps from 1).
    A file that is none of these is a one-line error naming it (and the line, where one is bad)."""
    path = Path(path)
    if path.suffix == ".json":
        data = read_json(path)
        if isinstance(data, dict) and "log" not in data and isinstance(data.get("losses"), list):
            rows = [{"step": i, "loss": v} for i, v in enumerate(data["losses"], 1)]
        else:
            rows = data.get("log") if isinstance(data, dict) else data
        if not (isinstance(rows, list) and all(isinstance(r, dict) for r in rows)):
            raise MathlensError(f"{path}: not a training log (rows under 'log', a list of rows, or 'losses')")
    else:
        rows = [row for _, row in read_jsonl(path)]
    rows = [{"step": i, **row} for i, row in enumerate(rows, 1)]  # a row's own step wins
    if not any(key in row for row in rows for key in QUANTITIES):
        raise MathlensError(f"{path}: not a training log (no row has {', '.join(QUANTITIES)})")
    return rows


def labels(paths: Sequence[Path]) -> list[str]:
    """Each log's folder name; where two share one, the folder above too (round-1/grpo, round-2/grpo)."""
    names = [p.resolve().parent.name for p in paths]
    if len(set(names)) == len(names):
        return names
    return ["/".join(p.resolve().parent.parts[-2:]) for p in paths]


def plot_logs(paths: Sequence[str | Path], out: str | Path | None = None) -> Curves:
    """Draw every quantity of ``QUANTITIES`` that any log holds, a panel each, the logs overlaid;
    to ``out`` (default: ``curves.png`` beside the first log)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and CI
    import matplotlib.pyplot as plt

    if not paths:
        raise MathlensError("no log to plot")
    paths = [Path(p) for p in paths]
    logs = [read_log(p) for p in paths]
    panels = tuple(key for key in QUANTITIES if any(key in row for log in logs for row in log))
    out = Path(out) if out is not None else paths[0].parent / DEFAULT_NAME
    cols = len(panels) if len(panels) <= 3 else 2  # four panels as a square
    rows = math.ceil(len(panels) / cols)
    fig, grid = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    axes = list(grid.flat)
    for ax, key in zip(axes, panels):
        values = []
        for name, log in zip(labels(paths), logs):
            points = [(row["step"], row[key]) for row in log if _number(row.get(key))]
            if points:
                ax.plot(*zip(*points), label=name, linewidth=1.2, marker="." if len(points) < 40 else None)
                values += [v for _, v in points]
        if key == "loss" and values and min(values) > 0 and max(values) / min(values) > 20:
            ax.set_yscale("log")  # a tiny model's loss falls by orders of magnitude
        ax.set(title=QUANTITIES[key], xlabel="step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return Curves(out, panels)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
