"""``mathlens …``: a thin typer layer over the library; every verb is one library call."""

from __future__ import annotations

import re
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
FormatName = Annotated[Optional[str], typer.Option("--format", help="Answer format: direct, scratchpad, rule or tir [direct].")]
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
    format_: FormatName = None,
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
    format_: FormatName = None,
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


@app.command(epilog="Example: mathlens lengthgen --task addition --train-digits 1-5 --test-digits 1-12 --formats direct,scratchpad,rule,tir --out runs/lengthgen")
@user_errors
def lengthgen(
    task: Task = None,
    base: Base = None,
    train_digits: Annotated[Optional[str], typer.Option(help="Digit counts to train on: 1-3, or with a gap 1-3,5 [1-3].")] = None,
    test_digits: Annotated[Optional[str], typer.Option(help="Digit counts to test on [1-8].")] = None,
    formats: Annotated[Optional[str], typer.Option(help="Formats, one model each [direct,scratchpad,rule,tir].")] = None,
    n_train: Annotated[Optional[int], typer.Option(help="Training problems per digit count [2000].")] = None,
    n_test: Annotated[Optional[int], typer.Option(help="Test problems per digit count [100].")] = None,
    n_layer: NLayer = None,
    n_head: NHead = None,
    n_embd: NEmbd = None,
    positions: Annotated[Optional[str], typer.Option(help="learned or rope [rope].")] = None,
    steps: Annotated[Optional[int], typer.Option(help="Optimizer steps per format [3000].")] = None,
    steps_by_format: Annotated[Optional[str], typer.Option(help="Per-format steps overriding --steps, e.g. direct=1000.")] = None,
    batch_size: BatchSize = None,
    lr: Lr = None,
    weight_decay: WeightDecay = None,
    seed: Seed = None,
    model: Annotated[Optional[str], typer.Option(help="Evaluate this fine-tuned HF model (path or hub id) instead of training.")] = None,
    rule_style: Annotated[Optional[str], typer.Option(help="compact (tiny models) or code (HF models) [by model].")] = None,
    out: Out = None,
    config: ConfigFile = None,
    resume: Resume = None,
    quiet: Quiet = False,
) -> None:
    """Train one tiny model per format on short operands, test on longer ones; draws lengthgen.png.

    With --model, evaluates a fine-tuned Hugging Face model on the same test problems instead.
    """
    flags = dict(locals())
    from .config import resolve
    from .lengthgen import LengthGenConfig, run_lengthgen

    cfg = resolve(LengthGenConfig, flags.pop("config"), **_options(flags))
    result = run_lengthgen(cfg, progress=not quiet)
    digits = sorted({int(d) for curve in result["curves"].values() for d in curve})
    table = Table(title=f"{cfg.task}: accuracy by digits (trained on {cfg.train_digits})")
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
    rule_text: Annotated[Optional[str], typer.Option(help="How the prompt states the rule: code, natural, pseudo or none [code].")] = None,
    chat: Annotated[bool, typer.Option("--chat", help="Write chat messages instead of prompt/completion.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the problem draw.")] = 0,
    out: Annotated[Path, typer.Option(help="Output JSONL file.")] = Path("data/export.jsonl"),
) -> None:
    """Write any task in any format as JSONL for fine-tuning a pretrained model."""
    from .export import export_jsonl, export_rows
    from .formats import make_format
    from .lengthgen import parse_digits
    from .tasks import make_task

    options = {"rule": rule, "style": rule_style, "rule_text": rule_text} if format_ == "rule" else {}
    fmt = make_format(format_, **options)
    the_task = make_task(task, **({"base": base} if base is not None else {}))
    rows = export_rows(the_task, fmt, parse_digits(digits, "digits"), n, seed, chat)
    path = export_jsonl(out, rows)
    out_console.print(f"{len(rows)} rows → {path}")


@app.command(epilog="Example: mathlens finetune --model ./tiny-llama --data data/rfft.jsonl --lora --out runs/ft")
@user_errors
def finetune(
    model: Annotated[str, typer.Option(help="Hugging Face model id or local folder.")],
    data: Annotated[Path, typer.Option(help="JSONL from `mathlens export`.")],
    lora: Annotated[bool, typer.Option("--lora", help="Train LoRA adapters (peft), merged into the saved model.")] = False,
    epochs: Annotated[float, typer.Option(help="Passes over the data.")] = 1.0,
    steps: Annotated[Optional[int], typer.Option(help="Optimizer steps (overrides --epochs).")] = None,
    batch_size: Annotated[int, typer.Option(help="Rows per step.")] = 8,
    lr: Annotated[Optional[float], typer.Option(help="Peak learning rate [2e-5 full, 1e-4 LoRA].")] = None,
    seed: Annotated[int, typer.Option(help="Seed of init and order.")] = 0,
    out: Annotated[Path, typer.Option(help="Output folder for the model.")] = Path("runs/finetune"),
    quiet: Quiet = False,
) -> None:
    """Fine-tune a causal LM on exported data, loss on the completion only; then `lengthgen --model OUT`."""
    from .finetune import FinetuneConfig
    from .finetune import finetune as run

    lr = lr if lr is not None else (1e-4 if lora else 2e-5)
    cfg = FinetuneConfig(str(model), str(data), str(out), lora, epochs=epochs, steps=steps, batch_size=batch_size, lr=lr, seed=seed)
    losses = run(cfg, progress=not quiet)
    out_console.print(f"{len(losses)} steps, loss {losses[0]:.4f} → {losses[-1]:.4f}; model in {out}")


@app.command(epilog="Example: mathlens grade runs/eval-7b/samples.jsonl --out regraded.jsonl")
@user_errors
def grade(
    samples: Annotated[Path, typer.Argument(help="samples.jsonl: {id, question, gold, samples: [{completion}]} per line.")],
    out: Annotated[Optional[Path], typer.Option(help="Write here instead of rewriting SAMPLES in place.")] = None,
) -> None:
    """Re-grade saved samples with the current grader (extraction + math-verify equivalence)."""
    from .grading.samples import regrade

    summary = regrade(samples, out)
    out_console.print(
        f"{summary.problems} problems, {summary.samples} samples: pass@1 {_pct(summary.pass_at_1)}, "
        f"{summary.changed} verdicts changed → {out or samples}"
    )


@app.command("eval", epilog="Example: mathlens eval --backend hf --model ./checkpoint --benchmark gsm8k,math_test500 --mode tir -n 4 --temperature 0.7 --out runs/eval")
@user_errors
def eval_(
    model: Annotated[str, typer.Option(help="Checkpoint (tiny: ckpt.pt), HF id or folder, or the served model's name.")],
    backend: Annotated[str, typer.Option(help="tiny, hf, vllm or openai.")] = "hf",
    benchmark: Annotated[str, typer.Option(help="Comma-separated: gsm8k, math_test500, … or .jsonl files.")] = "gsm8k",
    data_dir: Annotated[Optional[str], typer.Option(help="Benchmark folders [$MATHLENS_BENCHMARKS or ../shared/data/benchmarks].")] = None,
    mode: Annotated[str, typer.Option(help="cot or tir (the model's code runs in the sandbox).")] = "cot",
    prompt: Annotated[Optional[str], typer.Option(help="Template name or YAML file [qwen25-math-cot / -tir].")] = None,
    n: Annotated[int, typer.Option("-n", help="Samples per problem.")] = 1,
    temperature: Annotated[float, typer.Option(help="0 is greedy.")] = 0.0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling.")] = 1.0,
    max_tokens: Annotated[int, typer.Option(help="New tokens per generation call.")] = 1024,
    max_tool_calls: Annotated[int, typer.Option(help="TIR: tool calls per sample.")] = 4,
    limit: Annotated[Optional[int], typer.Option(help="First N problems of each benchmark.")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    chunk: Annotated[int, typer.Option(help="Problems per generate call and per write to samples.jsonl.")] = 32,
    base_url: Annotated[str, typer.Option(help="openai backend: the server's /v1 address.")] = "http://127.0.0.1:8000/v1",
    concurrency: Annotated[int, typer.Option(help="openai backend: requests in flight.")] = 16,
    api: Annotated[str, typer.Option(help="openai backend: completions (prompt rendered here) or chat (the server's chat template).")] = "completions",
    out: Annotated[Path, typer.Option(help="Run folder: samples.jsonl, metrics.json, metrics_by_subject/level.json; rerun to resume.")] = Path("runs/eval"),
    quiet: Quiet = False,
) -> None:
    """Evaluate a model on math benchmarks (CoT or TIR), resumably; prints the metrics table."""
    flags = _options(locals())
    from .evaluate import EvalConfig, run_eval

    cfg = EvalConfig(**flags)
    _print_report(run_eval(cfg, progress=not quiet), out)


@app.command(epilog="Example: mathlens words --out runs/words --steps 1500")
@user_errors
def words(
    out: Annotated[Path, typer.Option(help="Folder for train.jsonl, test.jsonl and ckpt.pt.")] = Path("runs/words"),
    n_train: Annotated[int, typer.Option(help="Training problems.")] = 4000,
    n_test: Annotated[int, typer.Option(help="Test problems (the benchmark for `eval`).")] = 200,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 1500,
    seed: Annotated[int, typer.Option(help="Seed of problems and model.")] = 0,
    quiet: Quiet = False,
) -> None:
    """Make a word-arithmetic set and train a tiny CoT model on it, to try `eval --backend tiny`."""
    from .wordproblems import WordsConfig, train_word_model

    ckpt = train_word_model(WordsConfig(str(out), n_train, n_test, steps, seed=seed), progress=not quiet)
    out_console.print(
        f"model {ckpt}; evaluate it with:\n  mathlens eval --backend tiny --model {ckpt} "
        f"--benchmark {out / 'test.jsonl'} --prompt plain --max-tokens 40 --out {out / 'eval'}"
    )


@app.command(epilog="Example: mathlens report runs/eval --by subject")
@user_errors
def report(
    run_dir: Annotated[Path, typer.Argument(help="A `mathlens eval` run folder (or its samples.jsonl).")],
    by: Annotated[Optional[str], typer.Option(help="Split each benchmark by a meta field: subject or level.")] = None,
) -> None:
    """Table: benchmark × pass@1, pass@k, maj@k from saved samples."""
    from .evaluate import summarize

    path = run_dir / "samples.jsonl" if run_dir.is_dir() else run_dir
    if not path.exists():
        raise MathlensError(f"{path}: no samples here")
    _print_report(summarize(path, by), path.parent)


@app.command(epilog="Example: mathlens serve --backend hf --model ./checkpoint --port 8000")
@user_errors
def serve(
    model: Annotated[str, typer.Option(help="Checkpoint (tiny: ckpt.pt) or HF id or folder.")],
    backend: Annotated[str, typer.Option(help="tiny or hf.")] = "tiny",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    name: Annotated[Optional[str], typer.Option(help="Model name clients use [the --model value].")] = None,
) -> None:
    """Serve a local model over an OpenAI-compatible API (/v1/completions, /v1/chat/completions)."""
    from .backends import make_backend
    from .serve import make_server

    server = make_server(make_backend(backend, model), name or model, host, port)
    out_console.print(f"serving {model} at http://{host}:{server.server_port}/v1 (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _print_report(metrics: dict, where: Path) -> None:
    skip = ("problems", "k", "pass@1_ci95")
    columns = sorted({k for m in metrics.values() for k in m if k not in skip}, key=lambda c: (c[:3] != "pas", c))
    table = Table(title=f"{where}")
    for column in ["benchmark", "problems", *columns]:
        table.add_column(column, justify="left" if column == "benchmark" else "right")
    for name, m in metrics.items():
        cells = [_pct(m.get(c)) for c in columns]
        if "pass@1_ci95" in m and "pass@1" in columns:  # pass@1 with its 95% bootstrap interval
            lo, hi = m["pass@1_ci95"]
            cells[columns.index("pass@1")] += f" [{lo:.0%}, {hi:.0%}]"
        table.add_row(name, str(m["problems"]), *cells)
    out_console.print(table)


sandbox_app = typer.Typer(
    help="Run Python safely: the sandbox that TIR decoding uses.",
    epilog="Example: mathlens sandbox run solution.py",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("run", epilog="Example: mathlens sandbox run solution.py --timeout 5 --cells")
@user_errors
def sandbox_run(
    files: Annotated[list[Path], typer.Argument(help="Python files; each runs in its own sandboxed process.")],
    timeout: Annotated[float, typer.Option(help="Wall-clock seconds per file.")] = 5.0,
    memory_mb: Annotated[int, typer.Option(help="Memory a file may use on top of the warm interpreter.")] = 512,
    cells: Annotated[bool, typer.Option("--cells", help="Split each file at '# %%' lines and run it as notebook cells.")] = False,
    isolation: Annotated[str, typer.Option(help="auto (the strongest available), namespaces or rlimits.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON result per file.")] = False,
) -> None:
    """Run files as a TIR model's code runs: what a notebook cell shows, limits, no network."""
    import json

    from .sandbox import Sandbox

    snippets = []
    for path in files:
        try:
            text = path.read_text()
        except OSError as exc:
            raise MathlensError(f"{path}: cannot read ({exc.strerror})") from None
        snippets.append([c for c in re.split(r"(?m)^# %%.*$", text) if c.strip()] or [""] if cells else text)
    with Sandbox(workers=min(len(files), 4), timeout=timeout, memory_mb=memory_mb, isolation=isolation) as box:
        results = box.run_many(snippets)
        level = box.level
    for path, result in zip(files, results):
        if as_json:
            print(json.dumps({"file": str(path), "level": level, **result.to_dict()}))
            continue
        if len(files) > 1:
            out_console.rule(str(path))
        print(result.output)
        if result.stderr.strip():
            print(result.stderr.rstrip(), file=sys.stderr)
        status = "ok" if result.ok else "error"
        print(f"[{status} in {result.seconds:.3f} s · isolation {level}]", file=sys.stderr)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


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
