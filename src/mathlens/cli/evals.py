"""``mathlens eval | report | grade | words | serve``: the evaluation harness and its server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import MathlensError
from .common import (
    ChatTemplateOption,
    FewshotAsTurnsOption,
    ModelArgsOption,
    Quiet,
    SystemOption,
    capability,
    options,
    out_console,
    pct,
    user_errors,
)

app = capability("The evaluation harness.")


@app.command(epilog="Example: mathlens grade runs/eval-7b/samples.jsonl --out regraded.jsonl")
@user_errors
def grade(
    samples: Annotated[
        Path, typer.Argument(help="samples.jsonl: {id, question, gold, samples: [{completion}]} per line.")
    ],
    out: Annotated[Optional[Path], typer.Option(help="Write here instead of rewriting SAMPLES in place.")] = None,
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
def eval_(
    model: Annotated[
        str,
        typer.Option(
            help="Checkpoint (tiny: ckpt.pt); a hub id, HF folder, .gguf file or smollm2-135m-instruct; "
            "or the served model's name."
        ),
    ],
    backend: Annotated[str, typer.Option(help="tiny, hf, vllm or openai.")] = "hf",
    benchmark: Annotated[str, typer.Option(help="Comma-separated: gsm8k, math_test500, … or .jsonl files.")] = "gsm8k",
    data_dir: Annotated[
        Optional[str],
        typer.Option(help="Benchmark folders.", show_default="$MATHLENS_BENCHMARKS, else ../shared/data/benchmarks"),
    ] = None,
    mode: Annotated[str, typer.Option(help="cot or tir (the model's code runs in the sandbox).")] = "cot",
    prompt: Annotated[
        Optional[str],
        typer.Option(help="Template name or YAML file.", show_default="qwen25-math-cot, or -tir with --mode tir"),
    ] = None,
    n: Annotated[int, typer.Option("-n", help="Samples per problem.")] = 1,
    temperature: Annotated[float, typer.Option(help="0 is greedy.")] = 0.0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling.")] = 1.0,
    max_tokens: Annotated[int, typer.Option(help="New tokens per generation call.")] = 1024,
    max_tool_calls: Annotated[int, typer.Option(help="TIR: tool calls per sample.")] = 4,
    limit: Annotated[Optional[int], typer.Option(help="First N problems of each benchmark.")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    chunk: Annotated[int, typer.Option(help="Problems per generate call and per write to samples.jsonl.")] = 32,
    base_url: Annotated[
        str, typer.Option(help="openai backend: the server's /v1 address.")
    ] = "http://127.0.0.1:8000/v1",
    concurrency: Annotated[int, typer.Option(help="openai backend: requests in flight.")] = 16,
    api: Annotated[
        str,
        typer.Option(help="openai backend: completions (prompt rendered here) or chat (the server's chat template)."),
    ] = "completions",
    api_key: Annotated[
        Optional[str], typer.Option(help="openai backend: the API key.", show_default="$OPENAI_API_KEY")
    ] = None,
    model_args: ModelArgsOption = "",
    batch_size: Annotated[int, typer.Option(help="hf backend: prompts per generate call (grouped by length).")] = 8,
    chat_template: ChatTemplateOption = "auto",
    fewshot_as_turns: FewshotAsTurnsOption = False,
    system: SystemOption = None,
    stop: Annotated[
        Optional[list[str]], typer.Option(help="A stop string (repeat for several), besides the template's.")
    ] = None,
    out: Annotated[
        Path,
        typer.Option(help="Run folder: samples.jsonl, metrics.json, metrics_by_subject/level.json; rerun to resume."),
    ] = Path("runs/eval"),
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Start --out over if it holds samples made with other settings.")
    ] = False,
    rm: Annotated[
        Optional[Path], typer.Option(help="Reward model (`mathlens rm train`): score every sample, report rm@k.")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Evaluate a model on math benchmarks (CoT or TIR), resumably; prints the metrics table."""
    flags = options(locals())
    from ..evals.run import EvalConfig, run_eval

    reward_model = flags.pop("rm")
    cfg = EvalConfig(**(flags | {"stop": tuple(flags["stop"] or ())}))
    if reward_model is not None:  # loaded first: a wrong path fails before any sampling
        from ..improve.rm import load_reward_model

        scorer = load_reward_model(reward_model)
    metrics = run_eval(cfg, progress=not quiet)
    if reward_model is not None:
        metrics = _rewarded(out, scorer)
    print_report(metrics, out)


def _rewarded(out: Path, scorer) -> dict:
    """Score the run's samples with the reward model and rewrite its metrics (now with rm@k)."""
    import json

    from ..evals.report import read_samples
    from ..grading.summary import summarize_rows
    from ..improve.rm import score_rows
    from ..records import write_sample_rows

    rows = read_samples(out / "samples.jsonl")
    score_rows(scorer, rows)
    write_sample_rows(out / "samples.jsonl", rows)
    metrics = summarize_rows(rows)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return metrics


@app.command(epilog="Example: mathlens words --out runs/words --steps 1500   (harder: --levels 1-4 --style tir)")
@user_errors
def words(
    out: Annotated[Path, typer.Option(help="Folder for train.jsonl, test.jsonl and ckpt.pt.")] = Path("runs/words"),
    n_train: Annotated[int, typer.Option(help="Training problems.")] = 4000,
    n_test: Annotated[int, typer.Option(help="Test problems (the benchmark for `eval`).")] = 200,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 1500,
    seed: Annotated[int, typer.Option(help="Seed of problems and model.")] = 0,
    levels: Annotated[
        Optional[str], typer.Option(help="The improvement loop's world at these levels (1-4: operations, distractors).")
    ] = None,
    style: Annotated[str, typer.Option(help="With --levels: cot or tir solutions.")] = "cot",
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


@app.command(epilog="Example: mathlens report runs/eval --by subject")
@user_errors
def report(
    run_dir: Annotated[
        Path, typer.Argument(help="A `mathlens eval` run folder (or its samples.jsonl), or a `mathlens improve` folder.")
    ],
    by: Annotated[Optional[str], typer.Option(help="Split each benchmark by a meta field: subject or level.")] = None,
) -> None:
    """Table: benchmark × pass@1, pass@k, maj@k from saved samples (an improve folder: one row per round)."""
    from ..evals.report import loop_rounds, summarize

    if (run_dir / "round-0").is_dir():
        print_report(loop_rounds(run_dir, by), run_dir)
        return
    path = run_dir / "samples.jsonl" if run_dir.is_dir() else run_dir
    if not path.exists():
        raise MathlensError(f"{path}: no samples here")
    print_report(summarize(path, by), path.parent)


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


def print_report(metrics: dict, where: Path) -> None:
    skip = ("problems", "k", "pass@1_ci95")
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
