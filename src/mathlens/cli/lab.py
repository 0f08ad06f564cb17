"""``mathlens lso | sweep | lengthgen | climb | export``: the case-or-rule lab."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..formats import FORMATS
from ..formats.rule import RULE_TEXTS, STYLES
from ..lab.climb import ClimbConfig
from ..lab.configs import FinetuneSpec, LengthGenConfig, LSOConfig, PretrainSpec, ProbeConfig
from ..tasks import TASKS
from .common import ConfigDefaults, Quiet, capability, out_console, pct, user_errors
from .options import config_options

app = capability("The case-or-rule lab.")

# The options each verb offers, by config field (cli.options builds them, help and defaults
# included, from lab.configs: nothing here re-declares a field).
SHAPE = ("n_layer", "n_head", "n_embd", "positions")
TRAINING = ("steps", "batch_size", "lr", "weight_decay", "seed", "seeds", "workers", "device", "report_to")
PROBE = tuple(f.name for f in dataclasses.fields(ProbeConfig))
RUN = ("out", "resume")
FINETUNE = tuple(f.name for f in dataclasses.fields(FinetuneSpec))
PRETRAIN = tuple(f.name for f in dataclasses.fields(PretrainSpec))
LSO_FIELDS = ("task", "format", "range", "center", "radius", "modulus", "base", "data", "control", *SHAPE, *TRAINING,
              *FINETUNE, *PROBE, *RUN)  # fmt: skip
SWEEP_FIELDS = ("task", "format", "range", "center", "radius", "modulus", "base", "control", *SHAPE, *TRAINING,
                *FINETUNE, "lattice", *RUN)  # fmt: skip
LENGTHGEN_FIELDS = ("task", "base", "train_digits", "test_digits", "formats", "n_train", "n_test", "n_mixed", *SHAPE,
                    "schemes", *PRETRAIN, *TRAINING, "steps_by_format", *FINETUNE, *PROBE, "rule_style", *RUN)  # fmt: skip
FLAGS = {"backend_model": ("--model",), "base_model": ("--finetune",)}
SWEEP_DEFAULTS = {"radius": "1,2,4,6,8,10,15", "control": False, "out": "runs/sweep"}


@app.command(
    epilog="Example: mathlens lso --task addition --range 0-99 --center 50,50 --radius 10 --out runs/add-r10\n\n"
    "Any model: mathlens lso --backend openai --model M --base-url http://127.0.0.1:8000/v1 --format rule --shots 8 --out runs/lso-M\n\n"
    "A pretrained model, prompted as a completion: mathlens lso --backend hf --model smollm2-135m-instruct --shots 8 --chat-template off --out runs/lso-smol"
)
@user_errors
@config_options(LSOConfig, LSO_FIELDS, flags=FLAGS)
def lso(cfg: LSOConfig, quiet: Quiet = False) -> None:
    """Hold out squares of the operand grid, train a tiny transformer, draw accuracy per cell.

    Writes heatmap.png, metrics.json, examples.jsonl, predictions.jsonl and ckpt.pt to --out;
    with --control also a random-split model in --out/control. With --model, nothing is
    trained: that model answers every cell (after --shots demonstrations from the training
    cells) through --backend, and the same heatmap and metrics are drawn.
    """
    from ..lab.lso import run_lso

    metrics = run_lso(cfg, progress=not quiet)
    print_lso(metrics, Path(cfg.out))


@app.command(epilog="Example: mathlens sweep --task addition --radius 1,2,4,6,8,10,15 --out runs/add-sweep")
@user_errors
@config_options(
    LSOConfig,
    SWEEP_FIELDS,
    defaults=SWEEP_DEFAULTS,
    flags=FLAGS,
    help={"radius": "Half sides to sweep, comma separated.", "control": "Also train a random-split control per size."},
)
def sweep(cfg: LSOConfig, quiet: Quiet = False) -> None:
    """One LSO run per square size and centre (and seed); draws held-out accuracy against size in
    sweep.png, with --lattice the map of held-out accuracy by centre in positions.png."""
    from ..lab.lso import run_sweep

    rows = run_sweep(cfg, progress=not quiet)
    several = len(rows[0]["seeds"]) > 1
    table = Table(title=f"sweep → {cfg.out}" + (f" (mean of seeds {cfg.seeds}, 95% interval)" if several else ""))
    for col in ("centre", "side", "test cells", "train acc", "held-out acc", "random acc"):
        table.add_column(col, justify="right")
    for r in rows:
        held = pct(r["test_acc"]) + (f" [{pct(r['test_lo'])}, {pct(r['test_hi'])}]" if several else "")
        table.add_row(r["center"], str(r["side"]), str(r["n_test"]), pct(r["train_acc"]), held, pct(r["random_acc"]))
    out_console.print(table)
    maps = f"  map: {Path(cfg.out) / 'positions.png'}" if cfg.lattice else ""
    out_console.print(f"plot: {Path(cfg.out) / 'sweep.png'}{maps}")


@app.command(
    epilog="Example: mathlens lengthgen --task addition --train-digits 1-4 --test-digits 1-8 --formats direct,scratchpad,rule,tir --schemes rope,abacus --out runs/lengthgen"
)
@user_errors
@config_options(LengthGenConfig, LENGTHGEN_FIELDS, flags=FLAGS, help={"steps": "Optimizer steps per format."})
def lengthgen(cfg: LengthGenConfig, quiet: Quiet = False) -> None:
    """Train one tiny model per format on short operands, test on longer ones; draws lengthgen.png.

    With --model, evaluates that model (--backend tiny, hf, vllm or openai; --shots demonstrations of
    training lengths) on the same test problems instead.
    """
    from ..lab.lengthgen import run_lengthgen

    result = run_lengthgen(cfg, progress=not quiet)
    digits = sorted({int(d) for curve in result["curves"].values() for d in curve})
    table = Table(title=f"{cfg.task}: accuracy by digits (trained on {min(cfg.train_digits)}-{max(cfg.train_digits)})")
    table.add_column("format", no_wrap=True)
    for d in digits:
        table.add_column(str(d), justify="right")
    table.add_column("seconds", justify="right")
    for name, curve in result["curves"].items():
        table.add_row(name, *(f"{curve[d]:.0%}" if d in curve else "—" for d in digits), str(result["seconds"].get(name, "")))
    out_console.print(table)
    out_console.print(f"plot: {Path(cfg.out) / 'lengthgen.png'}  numbers: {Path(cfg.out) / 'lengthgen.json'}")


@app.command(epilog="Example: mathlens export --task addition --format rule --digits 1-5 --chat --out data/rfft.jsonl")
@user_errors
def export(
    task: Annotated[str, typer.Option(help=f"Task: {', '.join(TASKS)}.")] = "addition",
    format_: Annotated[str, typer.Option("--format", help=f"Format: {', '.join(FORMATS)}.")] = "rule",
    digits: Annotated[str, typer.Option(help="Digit counts per operand: 1-5 or 1-3,5.")] = "1-5",
    n: Annotated[int, typer.Option(help="Problems per digit count.")] = 1000,
    base: Annotated[Optional[int], typer.Option(help="Base of base_addition.", show_default="9")] = None,
    rule: Annotated[Optional[str], typer.Option(help="Your own rule file (.py) instead of the shipped one.", show_default="the shipped rule")] = None,
    rule_style: Annotated[str, typer.Option(help=f"Recitation style (code: the paper's): {', '.join(STYLES)}.")] = "code",
    rule_text: Annotated[
        Optional[str],
        typer.Option(help=f"How the prompt states the rule: {', '.join(RULE_TEXTS)}.", show_default="code"),
    ] = None,
    chat: Annotated[bool, typer.Option("--chat", help="Write chat messages instead of prompt/completion.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the problem draw.")] = 0,
    out: Annotated[Path, typer.Option(help="Output JSONL file.")] = Path("data/export.jsonl"),
    config: ConfigDefaults = None,
) -> None:
    """Write any task in any format as JSONL for fine-tuning a pretrained model."""
    from ..config import parse_digits
    from ..formats import make_format
    from ..lab.export import export_jsonl, export_rows
    from ..tasks import make_task

    options = {"rule": rule, "style": rule_style, "rule_text": rule_text} if format_ == "rule" else {}
    fmt = make_format(format_, **options)
    the_task = make_task(task, **({"base": base} if base is not None else {}))
    rows = export_rows(the_task, fmt, list(parse_digits(digits)), n, seed, chat)
    path = export_jsonl(out, rows)
    out_console.print(f"{len(rows)} rows → {path}")


def print_lso(m: dict, out: Path) -> None:
    table = Table(title=f"{m['task']['task']} · {m['split']} {' '.join(m['squares'])}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    spans = m.get("intervals", {})

    def value(key: str) -> str:
        span = spans.get(key)
        return pct(m[key]) + (f" [{pct(span['lo'])}, {pct(span['hi'])}]" if span and span["n"] > 1 else "")

    if spans:
        table.title += f" · seeds {m['seeds']}: mean [95% interval]"
    table.add_row("train_acc", value("train_acc"))
    table.add_row("test_acc (held out)", value("test_acc"))
    table.add_row("random_acc (control)", value("random_acc"))
    if "test_pass1" in m:
        table.add_row("train / held-out pass@1", f"{pct(m['train_pass1'])} / {pct(m['test_pass1'])}")
    table.add_row("cells train / test", f"{m['n_train']} / {m['n_test']}")
    table.add_row("seconds", f"{m['seconds']}")
    out_console.print(table)
    if m["acc_by_depth"]:
        depth = Table(title="accuracy by cells from the square's edge (0 = edge ring, <0 outside)")
        for d in m["acc_by_depth"]:
            depth.add_column(d, justify="right")
        depth.add_row(*(pct(v) for v in m["acc_by_depth"].values()))
        out_console.print(depth)
    out_console.print(f"heatmap: {out / 'heatmap.png'}  metrics: {out / 'metrics.json'}")


@app.command(epilog="Example: mathlens climb --config configs/climb_addition.yaml --seeds 0 --rounds 2")
@user_errors
@config_options(ClimbConfig, ("out", "seeds", "rounds", "arms", "schemes", "seed_min", "seed_digits", "test_digits",
                              "n_round", "ensemble", "ensemble_agreement", "seed_steps", "steps", "device",
                              "workers", "report_to"))  # fmt: skip
def climb(cfg: ClimbConfig, quiet: Quiet = False) -> None:
    """Easy-to-hard rounds on length: a tiny model labels sums one digit longer than it knows, a
    filter keeps labels (verified, vote, unfiltered; control: short sums), it trains on them.

    --config takes every key of configs/climb_addition.yaml."""
    from ..lab.climb import run_climb

    summary = run_climb(cfg, progress=not quiet)
    longer = range(cfg.test_digits, cfg.seed_digits, -2)[::-1]  # every other length past the seed's, to the last
    table = Table(title=f"{cfg.out}: exact answers by digits (mean over {len(summary['seeds'])} seeds)")
    for column in ("arm", "round", "kept", "labels right", *(f"{d} digits" for d in longer)):
        table.add_column(column, justify="right")
    for arm, rounds in summary["mean"].items():
        for r, by_digits in enumerate(rounds):
            runs = [v["arms"][arm][r] for v in summary["seeds"].values() if arm in v.get("arms", {})]
            kept = sum(x.get("kept", 0) for x in runs)
            labelled = sum(x.get("labelled", 0) for x in runs)
            right = pct(sum(x.get("kept_right", 0) for x in runs) / kept) if kept else "—"
            table.add_row(arm if r == 0 else "", "seed" if r == 0 else str(r), f"{kept}/{labelled}" if r else "—",
                          right if r else "—", *(f"{by_digits[str(d)]['mean']:.0%}" for d in longer))  # fmt: skip
    out_console.print(table)
    out_console.print(f"plot: {Path(cfg.out) / 'climb.png'}; per round: {cfg.out}/seed-S/ARM/round-R/ ({summary['seconds']:.0f} s)")
