"""``mathlens corpus …``: the math pre-training corpus pipeline (on datatrove)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import MathlensError
from .common import ConfigDefaults, Quiet, out_console, pct, user_errors

corpus_app = typer.Typer(
    help="Build a math pre-training corpus: recall, expand, deduplicate, decontaminate, rate, synthesize.",
    epilog="Example: mathlens corpus run --config configs/corpus/demo.yaml",
    no_args_is_help=True,
)

Executor = Annotated[Optional[str], typer.Option("--executor", help="local, ray or slurm.", show_default="local")]
Tasks = Annotated[Optional[int], typer.Option(help="Shards each stage splits into.", show_default="2")]
Workers = Annotated[Optional[int], typer.Option(help="Tasks at once.", show_default="all")]


@corpus_app.command("build-demo", epilog="Example: mathlens corpus build-demo --out runs/corpus-demo/data")
@user_errors
def build_demo(
    out: Annotated[Path, typer.Option(help="Folder for pool/, seed/, heldout.jsonl and truth.json.")] = Path(
        "runs/corpus-demo/data"),
    seed: Annotated[int, typer.Option(help="Seeds the shuffle, the splits and what is planted.")] = 0,
    data_dir: Annotated[Optional[Path], typer.Option(help="The benchmark folders to take problems from.",
                                                     show_default="the shared data, or $MATHLENS_BENCHMARKS")] = None,
    config: ConfigDefaults = None,
) -> None:
    """Assemble the offline demo corpus: math and general pages, JSONL shards and a WARC file,
    planted duplicates and contaminated pages, seed data and a labelled held-out part."""
    from ..corpus.sources import DemoCorpusConfig, build_demo_corpus
    from ..evals.problems import benchmarks_dir

    counts = build_demo_corpus(out, benchmarks_dir(data_dir), DemoCorpusConfig(seed=seed))
    out_console.print(" ".join(f"{k}={v}" for k, v in counts.items()))


@corpus_app.command("train-recall", epilog="Example: mathlens corpus train-recall --positive seed/math.jsonl "
                    "--negative seed/general.jsonl --out runs/recall")
@user_errors
def train_recall(
    positive: Annotated[Path, typer.Option(help="Math seed documents (JSONL with `text`).")],
    negative: Annotated[Path, typer.Option(help="General documents (JSONL with `text`).")],
    out: Annotated[Path, typer.Option(help="Folder for model.bin and recall.json.")] = Path("runs/recall"),
    heldout: Annotated[float, typer.Option(help="Share of the seed data held out to choose the threshold.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seeds the split and fastText.")] = 0,
    config: ConfigDefaults = None,
) -> None:
    """Train the fastText recall classifier; the threshold is the held-out part's best F1."""
    from ..corpus.pipeline import read_texts
    from ..corpus.recall import RecallConfig
    from ..corpus.recall import train_recall as fit

    model = fit([r["text"] for r in read_texts(positive)], [r["text"] for r in read_texts(negative)], out,
                RecallConfig(heldout=heldout, seed=seed))
    m = model.metrics
    out_console.print(f"{out}/model.bin: threshold {model.threshold:.3f}; held-out precision {pct(m.get('precision'))} "
                      f"recall {pct(m.get('recall'))} ({m['heldout']} documents)")


@corpus_app.command("recall", epilog="Example: mathlens corpus recall data/pool --model runs/recall --out runs/recalled")
@user_errors
def recall(
    data: Annotated[Path, typer.Argument(help="A folder of JSONL[.gz] documents.")],
    model: Annotated[Path, typer.Option(help="A train-recall folder (recall.json).")],
    out: Annotated[Path, typer.Option(help="Where the kept documents go, with their math_score.")] = Path(
        "runs/recalled"),
    executor: Executor = None,
    tasks: Tasks = None,
    workers: Workers = None,
    config: ConfigDefaults = None,
) -> None:
    """Score every document with the recall classifier; keep those at or above its threshold."""
    from ..corpus.executors import ExecutorConfig, logs_into, run_steps
    from ..corpus.pipeline import count_docs, jsonl_reader, jsonl_writer
    from ..corpus.recall import MathRecall, RecallModel

    if not data.is_dir():
        raise MathlensError(f"{data}: input folder not found")
    found = RecallModel.load(model)
    cfg = ExecutorConfig(kind=executor or "local", tasks=tasks or 2, workers=workers or -1)
    with logs_into(out / "logs" / "datatrove.log"):
        run_steps([jsonl_reader(data, "*.jsonl*"), MathRecall(found.path, found.threshold, drop=True), jsonl_writer(out / "kept")],
                  out / "logs", cfg)
    out_console.print(f"{out}/kept: {count_docs(out / 'kept')} documents at P(math) ≥ {found.threshold:.3f}")


@corpus_app.command("run", epilog="Example: mathlens corpus run --config configs/corpus/demo.yaml --executor ray")
@user_errors
def run(
    config: Annotated[Optional[Path], typer.Option(help="YAML config (keys as in configs/corpus/demo.yaml).")] = None,
    out: Annotated[Optional[str], typer.Option(help="Run folder; the same folder again resumes.", show_default="the config's, else runs/corpus")] = None,
    cycles: Annotated[Optional[int], typer.Option(help="Recall cycles.", show_default="the config's, else 2")] = None,
    executor: Executor = None,
    tasks: Tasks = None,
    workers: Workers = None,
    quiet: Quiet = False,
) -> None:
    """The whole pipeline: read → recall cycles → expansion → dedup → decontaminate → rate → synthesize."""
    from ..config import resolve
    from ..corpus.pipeline import CorpusConfig, run_corpus

    runner = {k: v for k, v in dict(kind=executor, tasks=tasks, workers=workers).items() if v is not None}
    cfg = resolve(CorpusConfig, config, out=out, cycles=cycles, executor=runner or None)
    run_corpus(cfg, evaluation_problems(cfg.decontaminate, cfg.data_dir), progress=not quiet)
    show_report(Path(cfg.out))


@corpus_app.command("report", epilog="Example: mathlens corpus report runs/corpus-demo --truth runs/corpus-demo/data/truth.json")
@user_errors
def report(
    out: Annotated[Path, typer.Argument(help="A corpus run folder.")],
    truth: Annotated[Optional[Path], typer.Option(help="The demo's truth.json: also score the run against it.", show_default="none")] = None,
    config: ConfigDefaults = None,
) -> None:
    """Per-stage documents in and out, bytes, seconds and documents/s; the funnel picture."""
    show_report(out)
    if truth is not None:
        from ..corpus.evaluate import evaluate

        figures = evaluate(out, truth)
        (out / "evaluation.json").write_text(json.dumps(figures, indent=2) + "\n")
        out_console.print_json(json.dumps(figures))


def evaluation_problems(names, data_dir=None) -> list:
    """The named benchmarks' (or JSONL files') problems, for decontamination."""
    from ..decontam import EvalText
    from ..evals.problems import load_benchmark

    return [EvalText(Path(n).stem, p.question) for n in names for p in load_benchmark(n, data_dir)]


def show_report(out: Path) -> None:
    from ..corpus.report import funnel, funnel_plot, load_stats

    stats = load_stats(out)
    table = Table(title=f"{out}: stages")
    for column in ("stage", "docs in", "docs out", "MB in", "seconds", "docs/s"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for name, s in stats.items():
        mb = f"{s['bytes_in'] / 1e6:.2f}" if "bytes_in" in s else ""
        table.add_row(name, str(s.get("docs_in", "")), str(s.get("docs_out", "")), mb, str(s.get("seconds", "")),
                      str(s.get("docs_per_s", "")))
    out_console.print(table)
    picture = funnel_plot(funnel(stats), out / "funnel.png")
    out_console.print(f"funnel: {picture}  numbers: {out / 'stats.json'}")


@corpus_app.command("toy-model", epilog="Example: mathlens corpus toy-model --seed-dir runs/corpus-demo/data/seed "
                    "--out runs/corpus-demo/toy")
@user_errors
def toy_model(
    seed_dir: Annotated[Path, typer.Option(help="Folder with positives.jsonl and negatives.jsonl (labelled).")],
    out: Annotated[Path, typer.Option(help="Where ckpt.pt goes.")] = Path("runs/corpus-toy"),
    steps: Annotated[int, typer.Option(help="Training steps.")] = 600,
    config: ConfigDefaults = None,
    quiet: Quiet = False,
) -> None:
    """Train the demo's stand-in curator (a tiny GPT) for rating and synthesis through the tiny backend."""
    from ..corpus.pipeline import read_texts
    from ..corpus.rate import Template
    from ..corpus.synth import SynthTemplates
    from ..corpus.toy import train_toy_model

    pages = read_texts(seed_dir / "positives.jsonl") + read_texts(seed_dir / "negatives.jsonl")
    path = train_toy_model(pages, Template.load("configs/corpus/tiny_rate.yaml"),
                           SynthTemplates.load("configs/corpus/tiny_synth.yaml"), out, steps, progress=not quiet)
    out_console.print(f"{path}")
