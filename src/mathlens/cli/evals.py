"""``mathlens eval | report | grade | words | serve``: the evaluation harness and its server."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import MathlensError
from ..evals.config import EvalConfig
from .common import ConfigDefaults, ModelArgsOption, Quiet, capability, out_console, pct, user_errors
from .options import config_options

app = capability("The evaluation harness.")


@app.command(epilog="Example: mathlens grade runs/eval-7b/samples.jsonl --out regraded.jsonl")
@user_errors
def grade(
    samples: Annotated[
        Path, typer.Argument(help="samples.jsonl: {id, question, gold, samples: [{completion}]} per line.")
    ],
    out: Annotated[Optional[Path], typer.Option(help="Write here instead of rewriting SAMPLES in place.", show_default="SAMPLES")] = None,
    config: ConfigDefaults = None,
) -> None:
    """Re-grade saved samples with the current grader (extraction + math-verify equivalence)."""
    from ..grading.samples import regrade

    summary = regrade(samples, out)
    out_console.print(
        f"{summary.problems} problems, {summary.samples} samples: pass@1 {pct(summary.pass_at_1)}, "
        f"{summary.changed} verdicts changed → {out or samples}"
    )


@app.command(
    "eval",
    epilog="Example: mathlens eval --backend hf --model ./checkpoint --benchmark gsm8k,math_test500 --mode tir -n 4 --temperature 0.7 --out runs/eval\n\n"
    "The packaged real model: mathlens eval --backend hf --model smollm2-135m-instruct --benchmark gsm8k --limit 20 --max-tokens 256 --out runs/smol-gsm8k",
)
@user_errors
@config_options(EvalConfig, tuple(f.name for f in dataclasses.fields(EvalConfig)), flags={"n": ("--n", "-n")},
                required=("model",))  # fmt: skip
def eval_(cfg: EvalConfig, quiet: Quiet = False) -> None:
    """Evaluate a model on math benchmarks (CoT or TIR), resumably; prints the metrics table.

    With --rm every sample is scored by that reward model as its chunk is written, and the
    metrics (per subject and level too) include rm@k."""
    from ..evals.run import run_eval

    scorer = None
    if cfg.rm is not None:  # loaded first: a wrong path fails before any sampling
        from ..improve.rm import load_reward_model

        scorer = load_reward_model(cfg.rm)
    if not cfg.out:
        cfg = dataclasses.replace(cfg, out=cfg.named_out())
        out_console.print(f"run folder: {cfg.out} (resume with --out {cfg.out})")
    metrics = run_eval(cfg, progress=not quiet, scorer=scorer)
    print_report(metrics, Path(cfg.out))


@app.command(epilog="Example: mathlens words --out runs/words --steps 1500   (harder: --levels 1-4 --style tir)")
@user_errors
def words(
    out: Annotated[Path, typer.Option(help="Folder for train.jsonl, test.jsonl and ckpt.pt.")] = Path("runs/words"),
    n_train: Annotated[int, typer.Option(help="Training problems.")] = 4000,
    n_test: Annotated[int, typer.Option(help="Test problems (the benchmark for `eval`).")] = 200,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 1500,
    seed: Annotated[int, typer.Option(help="Seed of problems and model.")] = 0,
    levels: Annotated[
        Optional[str], typer.Option(help="The improvement loop's world at these levels (1-4: operations, distractors).", show_default="none: plain word sums")
    ] = None,
    style: Annotated[str, typer.Option(help="With --levels: cot or tir solutions.")] = "cot",
    config: ConfigDefaults = None,
    quiet: Quiet = False,
) -> None:
    """Make a word-arithmetic set and train a tiny model on it, to try `eval --backend tiny`."""
    from ..config import parse_digits
    from ..evals.words import WordsConfig, train_word_model

    chosen = parse_digits(levels) if levels else ()
    config = WordsConfig(str(out), n_train, n_test, steps, seed=seed, levels=chosen, style=style)
    ckpt = train_word_model(config, progress=not quiet)
    out_console.print(
        f"model {ckpt}; evaluate it with:\n  mathlens eval --backend tiny --model {ckpt} "
        f"--benchmark {out / 'test.jsonl'} --prompt plain --max-tokens {100 if levels else 40}"
        f"{' --mode tir' if levels and style == 'tir' else ''} --out {out / 'eval'}"
    )


@app.command(epilog="Example: mathlens report runs/eval --by subject\n\n"
             "Across runs: mathlens report runs/eval-base runs/eval-sft --format md\n\n"
             "Best of k: mathlens report runs/improve-bestof --by-k 4,8,16,32")  # fmt: skip
@user_errors
def report(
    runs: Annotated[list[Path], typer.Argument(
        help="`mathlens eval` run folders (or samples.jsonl files; an improve round's eval/), or one `mathlens improve` "
        "folder. Several runs: one table, with each later run's paired difference from the first.")],
    by: Annotated[Optional[str], typer.Option(help="Split each benchmark by a meta field: subject or level (one run).", show_default="none: one row per benchmark")] = None,
    by_k: Annotated[Optional[str], typer.Option(
        help="Also a table of maj@k, rm@k, rm-vote@k (and rm − maj with its paired interval) at these k, e.g. 4,8,16,32.",
        show_default="none")] = None,  # fmt: skip
    k: Annotated[str, typer.Option("--k", help="Across runs: pass@k at these k (those the samples allow).")] = "1,4,16",
    fmt: Annotated[str, typer.Option("--format", help="Across runs: table (the terminal), md, csv or json.")] = "table",
    on_shared: Annotated[bool, typer.Option(
        help="Compare runs on different problem sets on the problems they share (refused otherwise).")] = False,
    config: ConfigDefaults = None,
) -> None:
    """Table: benchmark × pass@1, pass@k, maj@k from saved samples (an improve folder: one row per
    round); several runs: pass@k per run and benchmark with an average column, the paired
    difference with its bootstrap interval, and where each run came from."""
    from ..evals.report import compare_runs, curves_by_k, format_comparison, loop_rounds, loop_samples, summarize

    ks = _ks(by_k) if by_k else ()
    if len(runs) > 1 or fmt != "table":
        if by or ks:
            raise MathlensError("--by and --by-k read one run; across runs, report each run on its own for them")
        compared = compare_runs(runs, _ks(k, "--k"), on_shared)
        if fmt == "table":
            print_comparison(compared)
        else:
            typer.echo(format_comparison(compared, fmt), nl=False)
        return
    run_dir = runs[0]
    if (run_dir / "round-0").is_dir():
        print_report(loop_rounds(run_dir, by), run_dir)
        if ks:
            curves = {}
            for label, samples in loop_samples(run_dir).items():
                curves |= {f"{label}{name.removeprefix('heldout')}": c for name, c in curves_by_k(samples, ks).items()}
            print_curves(curves, run_dir)
        return
    path = run_dir / "samples.jsonl" if run_dir.is_dir() else run_dir
    if not path.exists():
        raise MathlensError(f"{path}: no samples here")
    print_report(summarize(path, by), path.parent)
    if ks:
        print_curves(curves_by_k(path, ks), path.parent)


def _ks(text: str, flag: str = "--by-k") -> tuple[int, ...]:
    try:
        ks = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise MathlensError(f"{flag} {text!r}: comma-separated whole numbers, e.g. 4,8,16,32") from None
    if not ks or min(ks) < 1:
        raise MathlensError(f"{flag} {text!r}: each k at least 1")
    return ks


@app.command(
    epilog="Example: mathlens serve --backend hf --model ./checkpoint --port 8000\n\n"
    "A real model from a .gguf file: mathlens serve --backend hf --model SmolLM2-135M-Instruct.Q4_1.gguf"
)
@user_errors
def serve(
    model: Annotated[
        str, typer.Option(help="Checkpoint (tiny: ckpt.pt), hub id, HF folder, .gguf file or smollm2-135m-instruct.")
    ],
    backend: Annotated[str, typer.Option(help="tiny or hf.")] = "tiny",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    name: Annotated[
        Optional[str], typer.Option(help="Model name clients use.", show_default="the --model value")
    ] = None,
    model_args: ModelArgsOption = "",
    batch_size: Annotated[int, typer.Option(help="hf backend: prompts per generate call.")] = 16,
    chat_template: Annotated[
        str,
        typer.Option(
            "--chat-template",
            help="/v1/completions prompts: off (the text as sent, as OpenAI does), on or auto (as one user turn "
            "through the model's chat template).",
        ),
    ] = "off",
    max_request_work: Annotated[
        int, typer.Option(min=1, help="Most completions (prompts × n) one request may ask for; more is a 400.")
    ] = 256,  # serve_handlers.MAX_REQUEST_WORK
    config: ConfigDefaults = None,
) -> None:
    """Serve a local model over an OpenAI-compatible API (/v1/completions, /v1/chat/completions)."""
    from ..backends import make_backend
    from ..backends.chat import check_mode
    from ..backends.serve import make_server

    check_mode(chat_template)
    if backend == "tiny":
        options: dict = {"mix_lengths": True}  # concurrent requests rarely share a length
    else:
        options = {"batch_size": batch_size, "model_args": model_args}
    server = make_server(lambda: make_backend(backend, model, **options), name or model, host, port,
                         completion_template=chat_template,
                         max_request_work=max_request_work)  # fmt: skip  (binds, then loads)
    out_console.print(f"serving {model} at http://{host}:{server.server_port}/v1 (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def print_curves(curves: dict[str, dict], where: Path) -> None:
    """One row per benchmark (or round) and k: how each way of picking an answer does."""
    table = Table(title=f"{where}: picking one answer of k samples")
    for column in ("benchmark", "k", "maj@k", "rm@k", "rm-vote@k", "rm − maj [95% paired]", "rule-vote@k"):
        table.add_column(column, justify="left" if column == "benchmark" else "right")
    for name, by_k in curves.items():
        for k, m in by_k.items():
            diff = m.get(f"rm-maj@{k}")
            shown = f"{diff[0]:+.1%} [{diff[1]:+.1%}, {diff[2]:+.1%}]" if diff else "—"
            picks = [pct(m.get(f"{pick}@{k}")) for pick in ("maj", "rm", "rm-vote")]
            table.add_row(name, str(k), *picks, shown, pct(m.get(f"rule-vote@{k}")))
    if not any(curves.values()):
        table.caption = "no k is at most the samples every problem has"
    out_console.print(table)


def print_comparison(compared: dict) -> None:
    """The runs' table, then where each run came from."""
    from ..evals.report import comparison_rows

    header, lines = comparison_rows(compared)
    table = Table(title="pass@k (%) across runs; pass@1 with its 95% interval")
    for column in header:
        table.add_column(column, justify="left" if column in ("run", "metric") else "right")
    for line in lines:
        table.add_row(*line)
    out_console.print(table)
    for label, p in compared["provenance"].items():
        wall = f", {p['wall_s']:.0f} s" if p.get("wall_s") is not None else ""
        out_console.print(f"{label}: {p['model']} (weights {p['weights_sha256'] or 'not recorded'}), commit "
                          f"{p['commit'] or 'not recorded'}, {p['device'] or 'device not recorded'}{wall}")  # fmt: skip
        for d in p["data"]:
            out_console.print(f"  {d}")


COUNTS = ("samples", "unanswered", "truncated", "tool_timeouts")  # said under the table, not as columns


def print_report(metrics: dict, where: Path) -> None:
    skip = ("problems", "k", "pass@1_ci95", *COUNTS)
    columns = sorted({k for m in metrics.values() for k in m if k not in skip}, key=lambda c: (c[:3] != "pas", c))
    table = Table(title=f"{where}")
    for column in ["benchmark", "problems", *columns]:
        table.add_column(column, justify="left" if column == "benchmark" else "right")
    for name, m in metrics.items():
        cells = [pct(m.get(c)) for c in columns]
        if "pass@1_ci95" in m and "pass@1" in columns:  # pass@1 with its 95% bootstrap interval
            lo, hi = m["pass@1_ci95"]
            cells[columns.index("pass@1")] += f" [{lo:.0%}, {hi:.0%}]"
        table.add_row(name, str(m["problems"]), *cells)
    out_console.print(table)
    for name, m in metrics.items():  # the failures a pass rate hides
        if any(m.get(c) for c in COUNTS[1:]):
            out_console.print(f"{name}: of {m['samples']} samples, {m['unanswered']} gave no answer, "
                              f"{m['truncated']} ran out of tokens; {m['tool_timeouts']} tool calls timed out")  # fmt: skip
