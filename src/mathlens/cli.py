"""``mathlens …``: a thin typer layer over the library; every verb is one library call."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import MathlensError

app = typer.Typer(
    help="mathlens: do transformers do math by case or by rule? Train, probe and draw.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out_console = Console()


def user_errors(fn: Callable) -> Callable:
    """Turn a MathlensError into one line on stderr and exit code 2, no traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MathlensError as err:
            print(f"mathlens: error: {err}", file=sys.stderr)
            raise typer.Exit(2) from None

    return wrapper


# Options shared by `lso` and `sweep`; None means "not given", so --config can fill it.
Task = Annotated[Optional[str], typer.Option(help="addition, subtraction, multiplication, mod_addition, base_addition, linear, chicken_rabbit.")]
Range = Annotated[Optional[str], typer.Option("--range", help="Operand range low-high, inclusive [task default: 0-99].")]
Center = Annotated[Optional[str], typer.Option(help="Square centre x,y; several: '20,20;70,70' [default: 50,50].")]
Modulus = Annotated[Optional[int], typer.Option(help="Modulus of mod_addition [113].")]
Base = Annotated[Optional[int], typer.Option(help="Base of base_addition [9].")]
Data = Annotated[Optional[Path], typer.Option(help="A paper split folder (train.json, test.json) to use as it is.")]
Control = Annotated[Optional[bool], typer.Option("--control/--no-control", help="Also train on a random split with as many test cells.")]
NLayer = Annotated[Optional[int], typer.Option(help="Transformer layers [2].")]
NHead = Annotated[Optional[int], typer.Option(help="Attention heads [4].")]
NEmbd = Annotated[Optional[int], typer.Option(help="Width [128].")]
Positions = Annotated[Optional[str], typer.Option(help="learned or rope [learned].")]
Steps = Annotated[Optional[int], typer.Option(help="Optimizer steps [2500].")]
BatchSize = Annotated[Optional[int], typer.Option(help="Examples per step [128].")]
Lr = Annotated[Optional[float], typer.Option(help="Peak learning rate [3e-3].")]
WeightDecay = Annotated[Optional[float], typer.Option(help="AdamW weight decay [0].")]
Seed = Annotated[Optional[int], typer.Option(help="Seed of init, batches and control split [0].")]
Out = Annotated[Optional[Path], typer.Option(help="Output folder.")]
ConfigFile = Annotated[Optional[Path], typer.Option("--config", help="YAML file of any of these options (flags win).")]
Resume = Annotated[Optional[bool], typer.Option("--resume", help="Continue from the checkpoints in --out after a kill.")]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bars.")]


@app.command(epilog="Example: mathlens lso --task addition --range 0-99 --center 50,50 --radius 10 --out runs/add-r10")
@user_errors
def lso(
    task: Task = None,
    range_: Range = None,
    center: Center = None,
    radius: Annotated[Optional[str], typer.Option(help="Half side r (side 2r+1), one per centre or one for all [10].")] = None,
    modulus: Modulus = None,
    base: Base = None,
    data: Data = None,
    control: Control = None,
    n_layer: NLayer = None,
    n_head: NHead = None,
    n_embd: NEmbd = None,
    positions: Positions = None,
    steps: Steps = None,
    batch_size: BatchSize = None,
    lr: Lr = None,
    weight_decay: WeightDecay = None,
    seed: Seed = None,
    out: Out = None,
    config: ConfigFile = None,
    resume: Resume = None,
    quiet: Quiet = False,
) -> None:
    """Hold out squares of the operand grid, train a tiny transformer, draw accuracy per cell.

    Writes heatmap.png, metrics.json, examples.jsonl, predictions.jsonl and ckpt.pt to --out;
    with --control also a random-split model in --out/control.
    """
    flags = dict(locals())  # first, before the imports below add names
    from .config import resolve
    from .lso import LSOConfig, run_lso

    cfg = resolve(LSOConfig, flags.pop("config"), **_options(flags))
    metrics = run_lso(cfg, progress=not quiet)
    _print_lso(metrics, Path(cfg.out))


@app.command(epilog="Example: mathlens sweep --task addition --radius 1,2,4,6,8,10,15 --out runs/add-sweep")
@user_errors
def sweep(
    task: Task = None,
    range_: Range = None,
    center: Center = None,
    radius: Annotated[Optional[str], typer.Option(help="Half sides to sweep, comma separated [1,2,4,6,8,10,15].")] = None,
    modulus: Modulus = None,
    base: Base = None,
    control: Annotated[Optional[bool], typer.Option("--control/--no-control", help="Also train a random-split control per size [off].")] = None,
    n_layer: NLayer = None,
    n_head: NHead = None,
    n_embd: NEmbd = None,
    positions: Positions = None,
    steps: Steps = None,
    batch_size: BatchSize = None,
    lr: Lr = None,
    weight_decay: WeightDecay = None,
    seed: Seed = None,
    out: Out = None,
    config: ConfigFile = None,
    resume: Resume = None,
    quiet: Quiet = False,
) -> None:
    """One LSO run per square size (and centre); draws held-out accuracy against size in sweep.png."""
    flags = dict(locals())  # first, before the imports below add names
    from .config import resolve
    from .lso import LSOConfig, run_sweep

    defaults = {"radius": "1,2,4,6,8,10,15", "control": False, "out": "runs/sweep"}
    cfg = resolve(LSOConfig, flags.pop("config"), defaults, **_options(flags))
    rows = run_sweep(cfg, progress=not quiet)
    table = Table(title=f"sweep → {cfg.out}")
    for col in ("centre", "side", "test cells", "train acc", "held-out acc", "random acc"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["center"], str(r["side"]), str(r["n_test"]), _pct(r["train_acc"]), _pct(r["test_acc"]), _pct(r["random_acc"]))
    out_console.print(table)
    out_console.print(f"plot: {Path(cfg.out) / 'sweep.png'}")


def _options(flags: dict) -> dict:
    """CLI parameters as config keys: drop UI-only ones, strip typer's trailing underscores."""
    skip = {"quiet", "config"}
    return {k.rstrip("_"): (str(v) if isinstance(v, Path) else v) for k, v in flags.items() if k not in skip}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def _print_lso(m: dict, out: Path) -> None:
    table = Table(title=f"{m['task']['task']} · {m['split']} {' '.join(m['squares'])}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("train_acc", _pct(m["train_acc"]))
    table.add_row("test_acc (held out)", _pct(m["test_acc"]))
    table.add_row("random_acc (control)", _pct(m["random_acc"]))
    table.add_row("cells train / test", f"{m['n_train']} / {m['n_test']}")
    table.add_row("seconds", f"{m['seconds']}")
    out_console.print(table)
    if m["acc_by_depth"]:
        depth = Table(title="accuracy by cells from the square's edge (0 = edge ring, <0 outside)")
        for d in m["acc_by_depth"]:
            depth.add_column(d, justify="right")
        depth.add_row(*(_pct(v) for v in m["acc_by_depth"].values()))
        out_console.print(depth)
    out_console.print(f"heatmap: {out / 'heatmap.png'}  metrics: {out / 'metrics.json'}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
