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
from ..provenance import traced
from ..runs import RunFolder
from ..records import Example, read_jsonl, write_jsonl
from ..tasks import Task, make_task
from ..tracking import WATCH_ONLY
from ..train import train
from .configs import LSOConfig
from .examples import make_examples
from .metrics import accuracy, lso_metrics
from .paper_data import load_paper_split
from .plots import heatmap, mean_heatmap, position_map, sweep_plot
from .predict import complete
from .probe import open_backend, probe_examples, probe_format, probed_model, prompting
from .seeds import default_workers, interval, run_parallel
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


def task_and_split(cfg: LSOConfig) -> tuple[Task, Split]:
    if cfg.data:
        paper = load_paper_split(cfg.data)
        return paper.task, paper.split
    task = build_task(cfg)
    return task, leave_square_out(task, build_squares(cfg))


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
            "correct": c["correct"] if "correct" in c else c["pred"] == e.answer,
            "split": e.split,
            "depth": e.meta.get("depth"),
        }
        for e, c in zip(examples, done)
    ]


def run_probe(cfg: LSOConfig, out: Path, progress: bool) -> tuple[Task, Split, list[dict]]:
    """The grid answered by a called model: every held-out cell and (up to ``train_cells``)
    the training cells, demonstrations drawn from the training cells."""
    probe = cfg.probe
    task, split = task_and_split(cfg)
    fmt = probe_format(cfg.format, probe)
    fmt.check(task)
    examples = make_examples(task, split, fmt)
    train_cells = [e for e in examples if e.split == "train"]
    if probe.train_cells is not None and probe.train_cells < len(train_cells):
        train_cells = random.Random(cfg.train.seed).sample(train_cells, probe.train_cells)
    asked = sorted(train_cells + [e for e in examples if e.split == "test"], key=lambda e: e.id)
    write_jsonl(out / "examples.jsonl", (e.to_dict() for e in asked))
    pool = [tuple(e.operands) for e in examples if e.split == "train"]
    backend = open_backend(probe, cfg.device)
    (out / "prompting.json").write_text(json.dumps(prompting(backend, probe), indent=1))
    with progress_bar(progress) as bar:
        bar.add_task(f"{probe.backend} {probe.backend_model}: {len(asked)} cells", total=None, info="")
        done = probe_examples(backend, task, fmt, asked, pool, probe, cfg.train.seed)
    return task, split, cell_rows(asked, done)


def fit_and_predict(
    examples: list[Example], cfg: LSOConfig, out: Path, extra: dict, progress: bool, label: str
) -> list[dict]:
    if cfg.finetune.active:  # a pretrained model, fine-tuned (lab.finetuned), instead of a tiny one
        from .finetuned import finetune_and_predict

        done = finetune_and_predict(examples, examples, make_format(cfg.format), cfg, cfg.train, out, progress)
        return cell_rows(examples, done)
    train_rows = [e for e in examples if e.split == "train"]
    test_rows = [e for e in examples if e.split == "test"]
    model, tokenizer = build_model([e.prompt + e.target for e in examples], cfg.model, cfg.train.seed)
    model.to(resolve_device(cfg.device))
    evals = {"train": train_rows, "test": test_rows}
    train(model, tokenizer, train_rows, cfg.train, out, evals, cfg.resume, extra, progress, label)
    return predict(TinyBackend(model, tokenizer), examples, cfg.format)


def seeded(cfg: LSOConfig, seed: int, out: Path) -> LSOConfig:
    return replace(cfg, seeds=(), train=replace(cfg.train, seed=seed), out=str(out))


@traced("lso", lambda a: a["cfg"].out, lambda a: probed_model(a["cfg"]))
def run_lso(cfg: LSOConfig, progress: bool = True) -> dict:
    """Train on the cells outside the squares, predict every cell, write all artefacts.

    With ``seeds``: one run per seed in ``out/seed-N`` (in parallel), and in ``out`` the
    metrics as mean and 95% interval and a heatmap of the share of seeds right per cell."""
    if cfg.seeds:
        return run_lso_seeds(cfg, progress)
    t0 = time.perf_counter()
    resolve_device(cfg.device)  # a device that is not there fails before any work
    out = Path(cfg.out)
    done = finished(out, cfg)
    if done is not None:
        return done
    run_folder(out, cfg).open(overwrite=not cfg.resume)
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
    k = f" (pass@{cfg.probe.n})" if cfg.probe.active and cfg.probe.n > 1 else ""
    title = f"{who}{task.name}, {cfg.format}{k}: train {_pct(metrics['train_acc'])}, held out {_pct(metrics['test_acc'])}"
    heatmap(rows, task, split.squares, out / "heatmap.png", title)
    metrics.update(
        task=task.params(),
        split=split.kind,
        squares=[s.label() for s in split.squares],
        square_specs=[asdict(s) for s in split.squares],
        seconds=round(time.perf_counter() - t0, 1),
        config=asdict(cfg),
    )
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def run_folder(out: Path, cfg: LSOConfig) -> RunFolder:
    """The run's folder guard: its work is the predictions and metrics of one config (training
    settings one by one, less those that only watch the run)."""
    settings = asdict(cfg)
    compared = [k for k in settings if k not in ("resume", "out", "workers", "train")]
    compared += [f"train.{k}" for k in settings["train"] if k not in WATCH_ONLY]
    return RunFolder(out, settings, compared, ("metrics.json", "predictions.jsonl"))


def finished(out: Path, cfg: LSOConfig) -> dict | None:
    """A finished run's metrics when resuming with the same config (a sweep restarts where it
    stopped). Resuming a folder made with other settings is refused: it would mix two runs.
    Without ``resume`` the folder starts over."""
    folder = run_folder(out, cfg)
    if not cfg.resume:
        return None
    if folder.holds_work() and (changes := folder.changes()):
        raise MathlensError(f"{out}: made with other settings ({', '.join(changes)}); "
                            "drop --resume to start it over, or use another --out")  # fmt: skip
    path = out / "metrics.json"
    return json.loads(path.read_text()) if path.exists() and folder.saved() is not None else None


def _jsonable(value):
    return json.loads(json.dumps(value))


SEED_METRICS = ("train_acc", "test_acc", "random_acc", "train_pass1", "test_pass1")


def run_lso_seeds(cfg: LSOConfig, progress: bool) -> dict:
    out = Path(cfg.out)
    runs = [seeded(cfg, s, out / f"seed-{s}") for s in cfg.seeds]
    if not cfg.data:  # a bad square fails before any process starts
        leave_square_out(build_task(cfg), build_squares(cfg))
    results = run_parallel(run_lso, [(r,) for r in runs], cfg.workers, progress, "seeds")
    summary = {k: interval([m.get(k) for m in results]) for k in SEED_METRICS if any(k in m for m in results)}
    task = task_and_split(cfg)[0]
    rows_by_seed = [[row for _, row in read_jsonl(Path(r.out) / "predictions.jsonl")] for r in runs]
    first = results[0]
    m = summary["test_acc"]
    title = f"{task.name}, {cfg.format}, {len(runs)} seeds: held out {_pct(m['mean'])} [{_pct(m['lo'])}, {_pct(m['hi'])}]"
    squares = [Square(tuple(s["center"]), s["radius"]) for s in first["square_specs"]]
    mean_heatmap(rows_by_seed, task, squares, out / "heatmap.png", title)
    metrics = {
        "seeds": list(cfg.seeds),
        **{k: v["mean"] for k, v in summary.items()},
        "intervals": summary,
        "n_train": first["n_train"],
        "n_test": first["n_test"],
        "acc_by_depth": {
            d: interval([r["acc_by_depth"].get(d) for r in results])["mean"] for d in first["acc_by_depth"]
        },
        "task": first["task"],
        "split": first["split"],
        "squares": first["squares"],
        "runs": [Path(r.out).name for r in runs],
        "seconds": round(sum(r["seconds"] for r in results), 1),
        "config": asdict(cfg),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def lattice_centers(task: Task, n: int, radius: int) -> tuple[tuple[int, int], ...]:
    """n×n centres spread evenly over the grid, each square of ``radius`` inside it."""
    xs, ys = task.extent()

    def spread(axis: range) -> list[int]:
        low, high = axis.start + radius, axis.stop - 1 - radius
        if high < low:
            raise MathlensError(f"a square of radius {radius} does not fit the grid {axis.start}-{axis.stop - 1}")
        return [round(low + (high - low) * i / max(1, n - 1)) for i in range(n)] if n > 1 else [(low + high) // 2]

    return tuple((x, y) for y in spread(ys) for x in spread(xs))


@traced("sweep", lambda a: a["cfg"].out, lambda a: probed_model(a["cfg"]))
def run_sweep(cfg: LSOConfig, progress: bool = True) -> list[dict]:
    """One LSO run per (centre, radius) — per seed with ``seeds``, in parallel — and each
    size's held-out accuracy as mean and 95% interval; writes sweep.json and sweep.png, and
    with ``lattice`` (centres over the whole grid) the map of accuracy by centre, positions.png."""
    if cfg.data:
        raise MathlensError("a sweep generates its splits: use --task, --center and --radius, not --data")
    out = Path(cfg.out)
    centers = lattice_centers(build_task(cfg), cfg.lattice, max(cfg.radius)) if cfg.lattice else cfg.center
    runs = [
        (center, radius, replace(cfg, center=(center,), radius=(radius,), seeds=(), out=str(out / f"c{center[0]}-{center[1]}_r{radius}")))
        for center in centers
        for radius in cfg.radius
    ]
    for _, _, run in runs:  # every run's square is valid before the first one trains
        leave_square_out(build_task(run), build_squares(run))
    seeds = cfg.seeds or (cfg.train.seed,)
    jobs = [(seeded(run, s, Path(run.out) / f"seed-{s}") if cfg.seeds else run,) for _, _, run in runs for s in seeds]
    workers = cfg.workers or (default_workers(len(jobs)) if cfg.seeds else 1)  # one seed: as it always ran
    results = run_parallel(run_lso, jobs, workers, progress, "sweep")
    rows = []
    for i, (center, radius, run) in enumerate(runs):
        group = results[i * len(seeds) : (i + 1) * len(seeds)]
        test = interval([m["test_acc"] for m in group])
        rows.append(
            {
                "center": f"{center[0]},{center[1]}",
                "radius": radius,
                "side": 2 * radius + 1,
                "n_test": group[0]["n_test"],
                "train_acc": interval([m["train_acc"] for m in group])["mean"],
                "test_acc": test["mean"],
                "test_lo": test["lo"],
                "test_hi": test["hi"],
                "test_by_seed": test["values"],
                "random_acc": interval([m["random_acc"] for m in group])["mean"],
                "seeds": list(seeds),
                "run": Path(run.out).name,
            }
        )
    (out / "sweep.json").write_text(json.dumps({"rows": rows, "config": asdict(cfg)}, indent=2) + "\n")
    name = build_task(cfg).name
    sweep_plot(rows, out / "sweep.png", f"{name}: Leave-Square-Out by square size ({len(seeds)} seed{'s' * (len(seeds) > 1)})")
    if cfg.lattice:
        position_map(rows, build_task(cfg), out / "positions.png", f"{name}, {cfg.format}: held-out accuracy by centre")
    return rows
