"""``mathlens lso | sweep | lengthgen | export``: the case-or-rule lab."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..config import resolve
from ..lab.configs import LengthGenConfig, LSOConfig
from .common import (
    ChatTemplateOption,
    FewshotAsTurnsOption,
    ModelArgsOption,
    Quiet,
    SystemOption,
    capability,
    config_defaults,
    options,
    out_console,
    pct,
    user_errors,
)

app = capability("The case-or-rule lab.")
SWEEP_DEFAULTS = {"radius": "1,2,4,6,8,10,15", "control": False, "out": "runs/sweep"}

# Options shared by `lso` and `sweep`; None means "not given", so --config can fill it.
Task = Annotated[
    Optional[str],
    typer.Option(help="addition, subtraction, multiplication, mod_addition, base_addition, linear, chicken_rabbit."),
]
FormatName = Annotated[Optional[str], typer.Option("--format", help="Answer format: direct, scratchpad, rule or tir.")]
Range = Annotated[
    Optional[str],
    typer.Option(
        "--range", help="Operand range low-high, inclusive.", show_default="the task's: 0-99, 0-112 for mod_addition"
    ),
]
Center = Annotated[Optional[str], typer.Option(help="Square centre x,y; several: '20,20;70,70'.")]
Modulus = Annotated[Optional[int], typer.Option(help="Modulus of mod_addition.", show_default="113")]
Base = Annotated[Optional[int], typer.Option(help="Base of base_addition.", show_default="9")]
Data = Annotated[Optional[Path], typer.Option(help="A paper split folder (train.json, test.json) to use as it is.")]
Control = Annotated[
    Optional[bool], typer.Option("--control/--no-control", help="Also train on a random split with as many test cells.")
]
NLayer = Annotated[Optional[int], typer.Option(help="Transformer layers.")]
NHead = Annotated[Optional[int], typer.Option(help="Attention heads.")]
NEmbd = Annotated[Optional[int], typer.Option(help="Width.")]
Positions = Annotated[Optional[str], typer.Option(help="learned or rope.")]
Steps = Annotated[Optional[int], typer.Option(help="Optimizer steps.")]
BatchSize = Annotated[Optional[int], typer.Option(help="Examples per step.")]
Lr = Annotated[Optional[float], typer.Option(help="Peak learning rate.")]
WeightDecay = Annotated[Optional[float], typer.Option(help="AdamW weight decay.")]
Seed = Annotated[Optional[int], typer.Option(help="Seed of init, batches and control split.")]
Out = Annotated[Optional[Path], typer.Option(help="Output folder.")]
Device = Annotated[Optional[str], typer.Option(help="auto, cpu or cuda: where the tiny model trains and decodes.")]
ConfigFile = Annotated[Optional[Path], typer.Option("--config", help="YAML file of any of these options (flags win).")]
Resume = Annotated[
    Optional[bool], typer.Option("--resume", help="Continue from the checkpoints in --out after a kill.")
]
Seeds = Annotated[
    Optional[str], typer.Option(help="Several seeds, e.g. 0,1,2: one run each, mean and 95% interval.")
]
Workers = Annotated[Optional[int], typer.Option(help="Runs in parallel.", show_default="one per core with --seeds")]

# Evaluating a called model instead of training one (lab.configs.ProbeConfig).
Backend = Annotated[Optional[str], typer.Option(help="With --model: tiny, hf, vllm or openai.")]
BackendModel = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        help="Evaluate this model instead of training: a tiny ckpt.pt, an HF folder or id, or the served model's name.",
    ),
]
BaseUrl = Annotated[Optional[str], typer.Option(help="openai backend: the server's /v1 address.")]
Api = Annotated[Optional[str], typer.Option(help="openai backend: completions or chat.")]
Shots = Annotated[Optional[int], typer.Option(help="With --model: solved training examples before each question.")]
RuleText = Annotated[
    Optional[str],
    typer.Option(help="With --model, rule format: the rule in the prompt as code, natural, pseudo or none."),
]
Samples = Annotated[
    Optional[int], typer.Option(help="With --model: answers per question (1 greedy; more: pass@k and pass@1).")
]
Temperature = Annotated[Optional[float], typer.Option(help="With --model and --samples > 1: sampling temperature.")]
MaxTokens = Annotated[
    Optional[int], typer.Option(help="With --model: new tokens per answer.", show_default="longest target + 2")
]
GenBatchSize = Annotated[Optional[int], typer.Option(help="With --backend hf: prompts per generate call.")]
TrainCells = Annotated[
    Optional[int], typer.Option(help="With --model: evaluate at most this many training cells (seeded sample).")
]


@app.command(
    epilog="Example: mathlens lso --task addition --range 0-99 --center 50,50 --radius 10 --out runs/add-r10\n\n"
    "Any model: mathlens lso --backend openai --model M --base-url http://127.0.0.1:8000/v1 --format rule --shots 8 --out runs/lso-M\n\n"
    "A pretrained model, prompted as a completion: mathlens lso --backend hf --model smollm2-135m-instruct --shots 8 --chat-template off --out runs/lso-smol"
)
@user_errors
@config_defaults(LSOConfig())
def lso(
    task: Task = None,
    format_: FormatName = None,
    range_: Range = None,
    center: Center = None,
    radius: Annotated[
        Optional[str], typer.Option(help="Half side r (side 2r+1), one per centre or one for all.")
    ] = None,
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
    seeds: Seeds = None,
    workers: Workers = None,
    device: Device = None,
    backend: Backend = None,
    backend_model: BackendModel = None,
    base_url: BaseUrl = None,
    api: Api = None,
    shots: Shots = None,
    rule_text: RuleText = None,
    samples: Samples = None,
    temperature: Temperature = None,
    max_tokens: MaxTokens = None,
    train_cells: TrainCells = None,
    model_args: ModelArgsOption = None,
    gen_batch_size: GenBatchSize = None,
    chat_template: ChatTemplateOption = None,
    fewshot_as_turns: FewshotAsTurnsOption = None,
    system: SystemOption = None,
    out: Out = None,
    config: ConfigFile = None,
    resume: Resume = None,
    quiet: Quiet = False,
) -> None:
    """Hold out squares of the operand grid, train a tiny transformer, draw accuracy per cell.

    Writes heatmap.png, metrics.json, examples.jsonl, predictions.jsonl and ckpt.pt to --out;
    with --control also a random-split model in --out/control. With --model, nothing is
    trained: that model answers every cell (after --shots demonstrations from the training
    cells) through --backend, and the same heatmap and metrics are drawn.
    """
    flags = dict(locals())  # first, before the imports below add names
    from ..config import resolve
    from ..lab.lso import LSOConfig, run_lso

    cfg = resolve(LSOConfig, flags.pop("config"), **options(flags))
    metrics = run_lso(cfg, progress=not quiet)
    print_lso(metrics, Path(cfg.out))


@app.command(epilog="Example: mathlens sweep --task addition --radius 1,2,4,6,8,10,15 --out runs/add-sweep")
@user_errors
@config_defaults(resolve(LSOConfig, None, SWEEP_DEFAULTS))
def sweep(
    task: Task = None,
    format_: FormatName = None,
    range_: Range = None,
    center: Center = None,
    radius: Annotated[Optional[str], typer.Option(help="Half sides to sweep, comma separated.")] = None,
    modulus: Modulus = None,
    base: Base = None,
    control: Annotated[
        Optional[bool], typer.Option("--control/--no-control", help="Also train a random-split control per size.")
    ] = None,
    n_layer: NLayer = None,
    n_head: NHead = None,
    n_embd: NEmbd = None,
    positions: Positions = None,
    steps: Steps = None,
    batch_size: BatchSize = None,
    lr: Lr = None,
    weight_decay: WeightDecay = None,
    seed: Seed = None,
    seeds: Seeds = None,
    workers: Workers = None,
    lattice: Annotated[
        Optional[int], typer.Option(help="Centres on an n×n lattice over the grid (the position sweep), not --center.")
    ] = None,
    device: Device = None,
    out: Out = None,
    config: ConfigFile = None,
    resume: Resume = None,
    quiet: Quiet = False,
) -> None:
    """One LSO run per square size and centre (and seed); draws held-out accuracy against size in
    sweep.png, with --lattice the map of held-out accuracy by centre in positions.png."""
    flags = dict(locals())  # first, before the imports below add names
    from ..config import resolve
    from ..lab.lso import LSOConfig, run_sweep

    cfg = resolve(LSOConfig, flags.pop("config"), SWEEP_DEFAULTS, **options(flags))
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
@config_defaults(LengthGenConfig())
def lengthgen(
    task: Task = None,
    base: Base = None,
    train_digits: Annotated[
        Optional[str], typer.Option(help="Digit counts to train on: 1-3, or with a gap 1-3,5.")
    ] = None,
    test_digits: Annotated[Optional[str], typer.Option(help="Digit counts to test on.")] = None,
    formats: Annotated[Optional[str], typer.Option(help="Formats, one model each.")] = None,
    n_train: Annotated[Optional[int], typer.Option(help="Training problems per digit count.")] = None,
    n_test: Annotated[Optional[int], typer.Option(help="Test problems per digit count.")] = None,
    n_layer: NLayer = None,
    n_head: NHead = None,
    n_embd: NEmbd = None,
    positions: Annotated[Optional[str], typer.Option(help="learned, rope or none.")] = None,
    schemes: Annotated[
        Optional[str],
        typer.Option(
            help="Position schemes, each with every format: rope, nope, random (offsets), abacus (with reversed "
            "direct answers), hints (index hints).",
            show_default="none: the model as --positions sets it",
        ),
    ] = None,
    steps: Annotated[Optional[int], typer.Option(help="Optimizer steps per format.")] = None,
    steps_by_format: Annotated[
        Optional[str], typer.Option(help="Per-format steps overriding --steps, e.g. direct=1000.")
    ] = None,
    batch_size: BatchSize = None,
    lr: Lr = None,
    weight_decay: WeightDecay = None,
    seed: Seed = None,
    seeds: Seeds = None,
    workers: Workers = None,
    device: Device = None,
    backend: Backend = None,
    backend_model: BackendModel = None,
    base_url: BaseUrl = None,
    api: Api = None,
    shots: Shots = None,
    rule_text: RuleText = None,
    samples: Samples = None,
    temperature: Temperature = None,
    max_tokens: MaxTokens = None,
    model_args: ModelArgsOption = None,
    gen_batch_size: GenBatchSize = None,
    chat_template: ChatTemplateOption = None,
    fewshot_as_turns: FewshotAsTurnsOption = None,
    system: SystemOption = None,
    rule_style: Annotated[
        Optional[str],
        typer.Option(
            help="compact (tiny models) or code (pretrained ones).", show_default="compact; code with --model"
        ),
    ] = None,
    out: Out = None,
    config: ConfigFile = None,
    resume: Resume = None,
    quiet: Quiet = False,
) -> None:
    """Train one tiny model per format on short operands, test on longer ones; draws lengthgen.png.

    With --model, evaluates that model (--backend tiny, hf, vllm or openai; --shots demonstrations of
    training lengths) on the same test problems instead.
    """
    flags = dict(locals())
    from ..config import resolve
    from ..lab.lengthgen import LengthGenConfig, run_lengthgen

    cfg = resolve(LengthGenConfig, flags.pop("config"), **options(flags))
    result = run_lengthgen(cfg, progress=not quiet)
    digits = sorted({int(d) for curve in result["curves"].values() for d in curve})
    table = Table(title=f"{cfg.task}: accuracy by digits (trained on {min(cfg.train_digits)}-{max(cfg.train_digits)})")
    table.add_column("format")
    for d in digits:
        table.add_column(str(d), justify="right")
    table.add_column("seconds", justify="right")
    for name, curve in result["curves"].items():
        table.add_row(name, *(f"{curve[d]:.0%}" if d in curve else "—" for d in digits), str(result["seconds"][name]))
    out_console.print(table)
    out_console.print(f"plot: {Path(cfg.out) / 'lengthgen.png'}  numbers: {Path(cfg.out) / 'lengthgen.json'}")


@app.command(epilog="Example: mathlens export --task addition --format rule --digits 1-5 --chat --out data/rfft.jsonl")
@user_errors
def export(
    task: Annotated[str, typer.Option(help="Task name.")] = "addition",
    format_: Annotated[str, typer.Option("--format", help="direct, scratchpad, rule or tir.")] = "rule",
    digits: Annotated[str, typer.Option(help="Digit counts per operand: 1-5 or 1-3,5.")] = "1-5",
    n: Annotated[int, typer.Option(help="Problems per digit count.")] = 1000,
    base: Base = None,
    rule: Annotated[Optional[str], typer.Option(help="Your own rule file (.py) instead of the shipped one.")] = None,
    rule_style: Annotated[str, typer.Option(help="Recitation style: code (the paper's) or compact.")] = "code",
    rule_text: Annotated[
        Optional[str],
        typer.Option(help="How the prompt states the rule: code, natural, pseudo or none.", show_default="code"),
    ] = None,
    chat: Annotated[bool, typer.Option("--chat", help="Write chat messages instead of prompt/completion.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the problem draw.")] = 0,
    out: Annotated[Path, typer.Option(help="Output JSONL file.")] = Path("data/export.jsonl"),
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
