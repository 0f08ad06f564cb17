"""The Leave-Square-Out experiment: split, train, predict every cell, score, draw.

``run_lso`` is the whole job behind ``mathlens lso``; ``run_sweep`` repeats it over square
sizes (and centres) for ``mathlens sweep``. Every artefact lands in the output folder.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, replace
from pathlib import Path

from ..backends.tiny import TinyBackend
from ..errors import MathlensError
from ..formats import make_format
from ..models import build_model, resolve_device
from ..progress import progress_bar
from ..records import Example, write_jsonl
from ..tasks import Task, make_task
from ..train import train
from .configs import LSOConfig
from .examples import make_examples
from .metrics import accuracy, lso_metrics
from .paper_data import load_paper_split
from .plots import heatmap, sweep_plot
from .predict import complete
from .probe import open_backend, probe_examples, probe_format
from .splits import Split, Square, leave_square_out, random_split


def build_task(cfg: LSOConfig) -> Task:
    params = {k: v for k, v in (("modulus", cfg.modulus), ("base", cfg.base)) if v is not None}
    if cfg.range is not None:
        params["low"], params["high"] = cfg.range
    return make_task(cfg.task, **params)


def build_squares(cfg: LSOConfig) -> list[Square]:
    centers, radii = list(cfg.center), list(cfg.radius)
    if len(radii) == 1:
        radii = radii * len(centers)
    if len(radii) != len(centers):
        raise MathlensError(f"{len(centers)} centres need 1 or {len(centers)} radii, not {len(radii)}")
    return [Square(c, r) for c, r in zip(centers, radii)]


def build_split(cfg: LSOConfig) -> tuple[Task, Split, list[Example]]:
    """The task, its split and one example per cell: from the paper's folder or generated."""
    fmt = make_format(cfg.format)
    if cfg.data:
        paper = load_paper_split(cfg.data)
        if cfg.format == "direct":  # the folder's own targets (a _cot folder's are scratchpads)
            return paper.task, paper.split, paper.examples
        return paper.task, paper.split, make_examples(paper.task, paper.split, fmt)
    task = build_task(cfg)
    split = leave_square_out(task, build_squares(cfg))
    return task, split, make_examples(task, split, fmt)


def predict(backend: TinyBackend, examples: list[Example], fmt_name: str) -> list[dict]:
    """One row per example: the completion, the answer it gives, and whether that is right."""
    max_new = max(len(e.target) for e in examples) + 2
    done = complete(backend, [e.prompt for e in examples], make_format(fmt_name), max_new)
    for c in done:
        c["correct"] = None
    return cell_rows(examples, done)


def cell_rows(examples: list[Example], done: list[dict]) -> list[dict]:
    """Prediction rows as predictions.jsonl stores them; ``correct`` computed where not given."""
    return [
        {
            "id": e.id,
            "operands": list(e.operands),
            "prompt": e.prompt,
            "target": e.target,
            "answer": e.answer,
            **c,
            "correct": c["pred"] == e.answer if c.get("correct") is None else c["correct"],
            "split": e.split,
            "depth": e.meta.get("depth"),
        }
        for e, c in zip(examples, done)
    ]


def run_probe(cfg: LSOConfig, out: Path, progress: bool) -> tuple[Task, Split, list[dict]]:
    """The grid answered by a called model: every held-out cell and (up to ``train_cells``)
    the training cells, demonstrations drawn from the training cells."""
    probe = cfg.probe
    task = build_task(cfg) if not cfg.data else load_paper_split(cfg.data).task
    fmt = probe_format(cfg.format, probe)
    fmt.check(task)
    split = load_paper_split(cfg.data).split if cfg.data else leave_square_out(task, build_squares(cfg))
    examples = make_examples(task, split, fmt)
    train_cells = [e for e in examples if e.split == "train"]
    if probe.train_cells is not None and probe.train_cells < len(train_cells):
        train_cells = random.Random(cfg.train.seed).sample(train_cells, probe.train_cells)
    asked = sorted(train_cells + [e for e in examples if e.split == "test"], key=lambda e: e.id)
    write_jsonl(out / "examples.jsonl", (e.to_dict() for e in asked))
    pool = [tuple(e.operands) for e in examples if e.split == "train"]
    backend = open_backend(probe, cfg.device)
    with progress_bar(progress) as bar:
        bar.add_task(f"{probe.backend} {probe.backend_model}: {len(asked)} cells", total=None, info="")
        done = probe_examples(backend, task, fmt, asked, pool, probe, cfg.train.seed)
    return task, split, cell_rows(asked, done)


def fit_and_predict(
    examples: list[Example], cfg: LSOConfig, out: Path, extra: dict, progress: bool, label: str
) -> list[dict]:
    train_rows = [e for e in examples if e.split == "train"]
    test_rows = [e for e in examples if e.split == "test"]
    model, tokenizer = build_model([e.prompt + e.target for e in examples], cfg.model, cfg.train.seed)
    model.to(resolve_device(cfg.device))
    evals = {"train": train_rows, "test": test_rows}
    train(model, tokenizer, train_rows, cfg.train, out, evals, cfg.resume, extra, progress, label)
    return predict(TinyBackend(model, tokenizer), examples, cfg.format)


def run_lso(cfg: LSOConfig, progress: bool = True) -> dict:
    """Train on the cells outside the squares, predict every cell, write all artefacts."""
    t0 = time.perf_counter()
    resolve_device(cfg.device)  # a device that is not there fails before any work
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.probe.active:
        task, split, rows = run_probe(cfg, out, progress)
    else:
        task, split, examples = build_split(cfg)
        write_jsonl(out / "examples.jsonl", (e.to_dict() for e in examples))
        extra = {"task": task.params(), "split": split.kind, "squares": [asdict(s) for s in split.squares]}
        rows = fit_and_predict(examples, cfg, out, extra, progress, "lso")
    write_jsonl(out / "predictions.jsonl", rows)
    metrics = lso_metrics(rows)
    metrics["random_acc"] = None
    if cfg.control and not cfg.probe.active:
        control = random_split(task, len(split.test), seed=cfg.train.seed)
        control_examples = make_examples(task, control, make_format(cfg.format))
        control_rows = fit_and_predict(
            control_examples, cfg, out / "control", {"task": task.params(), "split": "random"}, progress, "control"
        )
        write_jsonl(out / "control" / "predictions.jsonl", control_rows)
        metrics["random_acc"] = accuracy(r for r in control_rows if r["split"] == "test")
    who = f"{cfg.probe.backend_model}, {cfg.probe.shots}-shot " if cfg.probe.active else ""
    k = f" (pass@{cfg.probe.samples})" if cfg.probe.active and cfg.probe.samples > 1 else ""
    title = f"{who}{task.name}, {cfg.format}{k}: train {_pct(metrics['train_acc'])}, held out {_pct(metrics['test_acc'])}"
    heatmap(rows, task, split.squares, out / "heatmap.png", title)
    metrics.update(
        task=task.params(),
        split=split.kind,
        squares=[s.label() for s in split.squares],
        seconds=round(time.perf_counter() - t0, 1),
        config=asdict(cfg),
    )
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def run_sweep(cfg: LSOConfig, progress: bool = True) -> list[dict]:
    """One LSO run per (centre, radius); writes sweep.json and sweep.png."""
    if cfg.data:
        raise MathlensError("a sweep generates its splits: use --task, --center and --radius, not --data")
    out = Path(cfg.out)
    runs = [
        (
            center,
            radius,
            replace(cfg, center=(center,), radius=(radius,), out=str(out / f"c{center[0]}-{center[1]}_r{radius}")),
        )
        for center in cfg.center
        for radius in cfg.radius
    ]
    for _, _, run in runs:  # every run's square is valid before the first one trains
        leave_square_out(build_task(run), build_squares(run))
    rows = []
    for center, radius, run in runs:
        name = Path(run.out).name
        m = run_lso(run, progress)
        rows.append(
            {
                "center": f"{center[0]},{center[1]}",
                "radius": radius,
                "side": 2 * radius + 1,
                "n_test": m["n_test"],
                "train_acc": m["train_acc"],
                "test_acc": m["test_acc"],
                "random_acc": m["random_acc"],
                "run": name,
            }
        )
        (out / "sweep.json").write_text(json.dumps({"rows": rows, "config": asdict(cfg)}, indent=2) + "\n")
    sweep_plot(rows, out / "sweep.png", f"{build_task(cfg).name}: Leave-Square-Out by square size")
    return rows
