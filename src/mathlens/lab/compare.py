"""Several sweeps side by side: held-out accuracy against square side, one line per sweep.

The paper's size claim ("bigger models do not fill the hole") is two ``sweep`` runs that differ
in the model alone; this reads their ``sweep.json`` files, draws them on one axis with their
intervals over seeds and prints one markdown table, so that the claim is one picture and one
table rather than two folders to read side by side.

    python -m mathlens.lab.compare runs/sweep-sizes/w128 runs/sweep-sizes/w224 --out runs/sweep-sizes/sizes.png
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from ..errors import MathlensError
from ..models import ModelConfig
from .plots import sweep_plot


def model_label(config: dict) -> str:
    """``layers×width`` of a sweep's tiny model (its parameter count depends on the format's
    vocabulary and length as well; the docs state it per experiment)."""
    shape = ModelConfig(**config["model"])
    return f"{shape.n_layer}×{shape.n_embd}"


def load_sweeps(folders: Sequence[str | Path]) -> list[dict]:
    """Every row of every sweep, each with ``group`` naming its model (and its folder where two
    sweeps share a model, its centre where a sweep has several)."""
    loaded = []
    for folder in folders:
        path = Path(folder) / "sweep.json"
        if not path.is_file():
            raise MathlensError(f"{path}: no sweep.json (run `mathlens sweep --out {folder}` first)")
        data = json.loads(path.read_text())
        loaded.append((Path(folder), model_label(data["config"]), data["rows"]))
    labels = [label for _, label, _ in loaded]
    rows = []
    for folder, label, sweep_rows in loaded:
        name = f"{label} ({folder.name})" if labels.count(label) > 1 else label
        several = len({r["center"] for r in sweep_rows}) > 1
        for r in sweep_rows:
            rows.append(r | {"group": f"{name}, centre {r['center']}" if several else name, "sweep": str(folder)})
    return rows


def table(rows: Sequence[dict]) -> str:
    """One markdown row per (model, side): held-out cells, train accuracy, held-out mean [95%] and per seed."""
    lines = ["| model | side (r) | held-out cells | train acc | held-out acc, mean [95%] | per seed |"]
    lines.append("|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["group"], r["side"])):
        held = f"{r['test_acc']:.1%}"
        if r.get("test_lo") is not None and len(r.get("seeds", [])) > 1:
            held += f" [{max(0.0, r['test_lo']):.1%}, {min(1.0, r['test_hi']):.1%}]"
        seeds = ", ".join(f"{v:.1%}" for v in r.get("test_by_seed") or [])
        cells = [r["group"], f"{r['side']} ({r['radius']})", r["n_test"], f"{r['train_acc']:.1%}", held, seeds]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def compare_sweeps(folders: Sequence[str | Path], out: str | Path, title: str = "") -> list[dict]:
    """Draw the sweeps in ``folders`` on one axis (``out``, a PNG) and return their rows."""
    rows = load_sweeps(folders)
    sweep_plot(rows, out, title or "Leave-Square-Out by square size, one line per model")
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m mathlens.lab.compare",
        description="Draw several sweeps (folders with sweep.json) on one axis and print their table.",
        epilog="example: python -m mathlens.lab.compare runs/sweep-sizes/w128 runs/sweep-sizes/w224 "
        "--out runs/sweep-sizes/sizes.png",
    )
    parser.add_argument("folders", nargs="+", help="sweep output folders, each holding sweep.json")
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.add_argument("--title", default="", help="the figure's title")
    args = parser.parse_args(argv)
    try:
        rows = compare_sweeps(args.folders, args.out, args.title)
    except MathlensError as err:
        parser.exit(2, f"mathlens: error: {err}\n")
    print(table(rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
