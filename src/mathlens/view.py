"""``mathlens view``: one self-contained HTML page over one or more run folders.

Why one file and no server: a run is looked at far from where it was made (a cluster, a laptop,
an attachment to an issue), so the page carries its data as JSON, its plots as base64 PNGs and
its script and styles inline; it opens from disk with no network and no install.

This module reads runs into ``RunView`` records (what kind of run, its metrics, plots, training
curves, the samples to browse, the lab grids); ``view_page`` turns them into the page. Three kinds
are known: an eval run (``samples.jsonl``), a lab run (``predictions.jsonl`` here or in
subfolders) and an improve run (``improve.json`` with ``round-r/eval/samples.jsonl``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from .curves import QUANTITIES, read_log
from .errors import MathlensError
from .evals.report import loop_samples
from .records import Sample, SampleRow, read_jsonl, read_sample_rows

# Caps that keep a page small enough to mail: what is left out is said on the page.
MAX_PROBLEMS = 2000  # problems embedded per run, over all its rounds
MAX_SAMPLES = 16000  # samples embedded per run (best-of-32 on 300 problems, two rounds, fits)
MAX_TEXT = 6000  # characters kept of one prompt, completion or tool output
MAX_GRIDS = 8
MAX_CELLS = 40000  # cells of one lab grid (a 200 × 200 operand square)
MAX_CURVES = 8
MAX_PLOTS = 12
MAX_PLOT_BYTES = 3_000_000
# What `mathlens plot` reads, less finetune_log.json (the train_log.jsonl beside it holds the same).
LOGS = ("train_log.jsonl", "grpo_log.jsonl", "grpo_log.json")
DEPTHS = ("", "*/", "*/*/", "*/*/*/")  # how deep a run's plots, logs and lab subfolders are looked for


@dataclass
class Plot:
    name: str  # the PNG's path inside the run
    png: bytes


@dataclass
class Curve:
    name: str  # the log's path inside the run
    series: dict[str, list[tuple[float, float]]]  # key (loss, reward, kl) → (step, value) points


@dataclass
class SampleSet:
    """The problems the sample browser shows for one evaluation (a run, or one round of a loop)."""

    label: str
    problems: list[dict]
    total: int  # problems in the file; more than ``len(problems)`` when capped


@dataclass
class RunView:
    """Everything the page shows of one run."""

    path: Path
    kind: str  # "eval", "lab" or "improve"
    name: str
    metrics: dict[str, dict] = field(default_factory=dict)  # table row name → metric → value
    plots: list[Plot] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    sets: list[SampleSet] = field(default_factory=list)  # the browser's default first
    grids: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was capped or missing


@dataclass(frozen=True)
class CompareRow:
    """One problem both runs answered: its pass rate in each."""

    key: str
    benchmark: str
    id: str
    a: float | None
    b: float | None

    @property
    def diff(self) -> float:
        return 0.0 if self.a is None or self.b is None else self.b - self.a


# ---------------------------------------------------------------- finding what a folder holds


def eval_rounds(path: Path) -> list[tuple[str, Path]]:
    """An improve run's evaluated samples, (``round-r`` or ``round-r-sft``, file), in round order."""
    return list(loop_samples(path).items())


def lab_folders(path: Path) -> list[Path]:
    """The folder itself and its subfolders (three deep) that hold ``predictions.jsonl``."""
    found = [hit.parent for depth in DEPTHS for hit in sorted(path.glob(depth + "predictions.jsonl"))]
    return found[:MAX_GRIDS]


def detect_kind(path: Path) -> str:
    """``improve``, ``eval`` or ``lab``; a folder that is none of them is a user error."""
    if path.is_file() and path.suffix == ".jsonl":
        return "eval"  # a samples file named directly
    if not path.is_dir():
        raise MathlensError(f"{path}: no such folder")
    if (path / "improve.json").exists() or eval_rounds(path):
        return "improve"
    if (path / "samples.jsonl").exists():
        return "eval"
    if lab_folders(path):
        return "lab"
    raise MathlensError(f"{path}: not a run folder (no samples.jsonl, predictions.jsonl or improve.json)")


# ---------------------------------------------------------------- records for the page


def cut(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n… [{len(text) - MAX_TEXT} more characters not shown]"


def _said(record: Sample | SampleRow, name: str):
    """A field the record may have as an attribute (newer records) or in ``extra`` (older)."""
    value = getattr(record, name, None)
    return record.extra.get(name) if value is None else value


def verdict(sample: Sample) -> str:
    """right, wrong, none (no answer extracted) or ungraded."""
    if sample.correct is None:
        return "ungraded"
    if sample.correct:
        return "right"
    return "none" if sample.pred is None else "wrong"


def sample_record(sample: Sample) -> dict:
    calls = [{"code": cut(str(c.get("code", ""))), "output": cut(str(c.get("output", "")))}
             for c in sample.tool_calls or [] if isinstance(c, dict)]  # fmt: skip
    record = {"completion": cut(sample.completion), "pred": sample.pred, "verdict": verdict(sample),
              "finish": _said(sample, "finish_reason"), "tokens": _said(sample, "tokens"), "reward": sample.reward,
              "how": sample.how, "tools": calls}  # fmt: skip
    return {k: v for k, v in record.items() if v not in (None, "", []) or k in ("completion", "pred")}


def problem_record(row: SampleRow) -> dict:
    prompt = _said(row, "prompt")
    if prompt is not None and not isinstance(prompt, str):  # a chat API's messages
        prompt = json.dumps(prompt, indent=1, ensure_ascii=False)
    level = row.meta.get("level")
    return {"key": f"{row.benchmark}::{row.id}", "benchmark": row.benchmark, "id": row.id,
            "question": cut(row.question), "gold": row.gold, "prompt": cut(prompt),
            "level": None if level is None else str(level), "rate": row.pass_rate,
            "samples": [sample_record(s) for s in row.samples]}  # fmt: skip


def sample_sets(sources: list[tuple[str, Path]], notes: list[str]) -> list[SampleSet]:
    """Each source's problems, in the order given: the first up to the run's caps, each later one
    only if it fits whole (a round cut short would compare badly with the others)."""
    sets: list[SampleSet] = []
    problems_left, samples_left = MAX_PROBLEMS, MAX_SAMPLES
    spent = f" (a page holds {MAX_PROBLEMS} problems, {MAX_SAMPLES} samples per run)"
    for label, path in sources:
        if sets and (problems_left <= 0 or samples_left <= 0):  # spent: not even read
            notes.append(f"{label}: not embedded{spent}")
            continue
        rows = read_sample_rows(path, graded=False, quiet=True)
        kept: list[SampleRow] = []
        for row in rows:
            if len(kept) >= problems_left or (kept and len(row.samples) > samples_left):
                break
            kept.append(row)
            samples_left -= len(row.samples)
        if sets and len(kept) < len(rows):
            samples_left += sum(len(row.samples) for row in kept)
            notes.append(f"{label}: not embedded{spent}")
            continue
        if len(kept) < len(rows):
            notes.append(f"{label}: the first {len(kept)} of {len(rows)} problems embedded (the page's cap)")
        problems_left -= len(kept)
        sets.append(SampleSet(label, [problem_record(row) for row in kept], len(rows)))
    return sets


def grid_record(folder: Path, name: str) -> dict | None:
    """One lab folder's predictions as columns: operands, verdict, split and the texts a cell shows."""
    cols: dict[str, list] = {k: [] for k in ("a", "b", "ok", "test", "prompt", "target", "completion", "pred")}
    for _, row in read_jsonl(folder / "predictions.jsonl", torn_tail=True):
        ops = row.get("operands")
        if not (isinstance(ops, list) and len(ops) == 2):
            continue
        if len(cols["a"]) >= MAX_CELLS:
            return cols | {"name": name, "capped": True}
        cols["a"].append(ops[0])
        cols["b"].append(ops[1])
        cols["ok"].append(row.get("correct"))
        cols["test"].append({"test": 1, "train": 0}.get(row.get("split")))  # None: the run has no split
        for key in ("prompt", "target", "completion", "pred"):
            value = row.get(key, row.get("answer") if key == "target" else None)  # length runs say only "answer"
            cols[key].append(None if value is None else cut(str(value)))
    return cols | {"name": name, "capped": False} if cols["a"] else None


# ---------------------------------------------------------------- files around the records


def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def find_plots(path: Path, notes: list[str]) -> list[Plot]:
    plots = []
    for depth in DEPTHS:
        for png in sorted(path.glob(depth + "*.png")):
            if len(plots) >= MAX_PLOTS:
                notes.append(f"more plots than {MAX_PLOTS}: the rest are not shown")
                return plots
            if png.stat().st_size <= MAX_PLOT_BYTES:
                plots.append(Plot(str(png.relative_to(path)), png.read_bytes()))
    return plots


def read_curve(log: Path, name: str) -> Curve | None:
    """A log's quantities as ``mathlens plot`` reads them (``curves.read_log``), finite values only;
    None for a file that is not a log (or is still being written)."""
    try:
        rows = read_log(log)
    except MathlensError:
        return None
    series: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        for key in QUANTITIES:
            value = row.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                series.setdefault(key, []).append((float(row["step"]), float(value)))
    return Curve(name, series) if series else None


def find_curves(path: Path) -> list[Curve]:
    curves = []
    for depth in DEPTHS:
        for log in sorted(p for name in LOGS for p in path.glob(depth + name)):
            if len(curves) < MAX_CURVES and (curve := read_curve(log, str(log.relative_to(path)))):
                curves.append(curve)
    return curves


def eval_metrics(folder: Path, name: str) -> dict[str, dict]:
    """metrics.json's rows: one per benchmark (an eval run), or the one dict a round writes; plus
    metrics_by_level.json's ``benchmark/level`` rows."""
    rows: dict[str, dict] = {}
    for file in ("metrics.json", "metrics_by_level.json"):
        data = read_json(folder / file)
        if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
            rows |= data
        elif isinstance(data, dict) and data:
            rows[name] = data
    return rows


# ---------------------------------------------------------------- one run, several runs


def load_run(path: Path, name: str | None = None) -> RunView:
    """Read one run folder (or a samples.jsonl) into what the page shows."""
    path = Path(path)
    kind = detect_kind(path)
    run = RunView(path, kind, name or path.name)
    folder = path.parent if path.is_file() else path
    if kind == "eval":
        samples = path if path.is_file() else path / "samples.jsonl"
        run.metrics = eval_metrics(folder, run.name)
        run.sets = sample_sets([(run.name, samples)], run.notes)
    elif kind == "improve":
        rounds = read_json(path / "improve.json")
        if not isinstance(rounds, list):  # a loop still running: each round's own metrics
            rounds = [{"round": int(label[6:])} | (read_json(f.parent / "metrics.json") or {})
                      for label, f in eval_rounds(path) if label[6:].isdigit()]  # fmt: skip
        run.metrics = {f"round {r.get('round', i)}": r for i, r in enumerate(rounds) if isinstance(r, dict)}
        sources = eval_rounds(path)[::-1]  # the last evaluated round first: the browser's default
        run.sets = sample_sets(sources, run.notes)
        if not sources:
            run.notes.append("no round has evaluated samples yet")
    else:
        for sub in lab_folders(path):
            label = str(sub.relative_to(path)) if sub != path else run.name
            if isinstance(metrics := read_json(sub / "metrics.json"), dict):
                run.metrics[label] = metrics
            if grid := grid_record(sub, label):
                run.grids.append(grid)
                if grid["capped"]:
                    run.notes.append(f"{label}: the grid shows the first {MAX_CELLS} cells")
    if path.is_dir():
        run.plots = find_plots(path, run.notes)
        run.curves = find_curves(path)
    return run


def run_names(paths: list[Path]) -> list[str]:
    """The shortest path endings that tell the runs apart (two ``eval`` folders: ``round-0/eval``)."""
    parts = [Path(p).resolve().parts for p in paths]
    for n in range(1, max(len(p) for p in parts) + 1):
        names = ["/".join(p[-n:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [str(p) for p in paths]


def compare_rows(a: list[dict], b: list[dict]) -> list[CompareRow]:
    """Problems in both sets, the largest change in pass rate first (ties in A's order)."""
    in_b = {p["key"]: p for p in b}
    rows = [CompareRow(p["key"], p["benchmark"], p["id"], p["rate"], in_b[p["key"]]["rate"])
            for p in a if p["key"] in in_b]  # fmt: skip
    return sorted(rows, key=lambda r: -abs(r.diff))


def default_out(runs: list[Path]) -> Path:
    """``RUN/view.html`` for one run (beside a samples file named directly), else ``view.html`` here."""
    if len(runs) == 1:
        run = Path(runs[0])
        return (run.parent if run.is_file() else run) / "view.html"
    return Path("view.html")


def write_view(runs: list[Path], out: Path | None = None) -> Path:
    """Write one self-contained HTML page over ``runs`` (the first two side by side when their
    problems overlap) to ``out`` (``default_out`` when None); returns the path written."""
    from .view_page import render_page

    if not runs:
        raise MathlensError("name at least one run folder")
    paths = [Path(r) for r in runs]
    views = [load_run(p, name) for p, name in zip(paths, run_names(paths))]
    compared = None
    with_samples = [v for v in views if v.sets]
    if len(with_samples) >= 2:
        a, b = with_samples[:2]
        rows = compare_rows(a.sets[0].problems, b.sets[0].problems)
        if rows:
            compared = {"a": views.index(a), "b": views.index(b), "rows": rows}
    out = Path(out) if out is not None else default_out(paths)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_page(views, compared), encoding="utf-8")
    return out
