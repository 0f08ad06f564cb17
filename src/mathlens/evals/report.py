"""Metrics from saved samples: per benchmark (or subject, level), pass@1 with its interval,
pass@k, maj@k and, where samples carry rewards, rm@k; and one table across runs, with the
paired difference of two runs on the same problems (``compare_runs``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import MathlensError
from ..grading.metrics import bootstrap_ci, pass_at_k
from ..grading.summary import boxed_is_printed, by_k, sample_counts, summarize_rows
from ..provenance import read_provenance
from ..records import SampleRow, read_sample_rows


def read_samples(samples_path: str | Path) -> list[SampleRow]:
    """Graded sample rows (``records.read_sample_rows``: a torn last line is left out and said)."""
    return read_sample_rows(samples_path)


def summarize(samples_path: str | Path, by: str | None = None) -> dict:
    """Per benchmark (or benchmark/``meta[by]``, e.g. subject or level): problems, pass@1 (mean
    over samples), pass@k and maj@k with k = the samples per problem."""
    return summarize_rows(read_samples(samples_path), by)


def curves_by_k(samples_path: str | Path, ks: tuple[int, ...]) -> dict[str, dict]:
    """Per benchmark: maj@k (and with rewards rm@k, rm-vote@k and rm − maj with its paired
    interval) at each k of ``ks`` from the same samples, as ``grading.summary.by_k`` gives them;
    where samples ran programs, also the vote among those whose answer is what they printed."""
    rows = read_samples(samples_path)
    tools = any(s.tool_calls for row in rows for s in row.samples)
    return {name: by_k(group, ks, boxed_is_printed if tools else None) for name, group in by_benchmark(rows).items()}


def loop_samples(loop_dir: str | Path) -> dict[str, Path]:
    """An improvement loop's evaluated samples by name: ``round-r`` (and ``round-r-sft``)."""
    found = {}
    for folder in sorted(Path(loop_dir).glob("round-*"), key=lambda p: int(p.name.split("-")[1])):
        for evaluated, label in (("eval-sft", "-sft"), ("eval", "")):
            if (folder / evaluated / "samples.jsonl").exists():
                found[folder.name + label] = folder / evaluated / "samples.jsonl"
    return found


def loop_rounds(loop_dir: str | Path, by: str | None = None) -> dict:
    """An improvement loop's held-out metrics, one entry per evaluated round (``round-r``; a round
    that ran GRPO also has ``round-r-sft``, its policy before GRPO)."""
    out = {}
    for label, samples in loop_samples(loop_dir).items():
        for name, metrics in summarize(samples, by).items():
            out[label + name.removeprefix("heldout")] = metrics
    if not out:
        raise MathlensError(f"{loop_dir}: no round has been evaluated yet")
    return out


# ---------------------------------------------------------------- across runs


@dataclass
class RunSamples:
    """One run's graded rows and what it says of itself (``provenance.json``, ``config.json``)."""

    label: str
    folder: Path
    rows: list[SampleRow]
    provenance: dict | None = None

    @classmethod
    def load(cls, path: str | Path) -> RunSamples:
        """An eval run folder (or an improve round's ``eval/``), or a ``samples.jsonl``."""
        path = Path(path)
        samples = path / "samples.jsonl" if path.is_dir() else path
        if not samples.is_file():
            raise MathlensError(f"{samples}: no samples here")
        folder = samples.parent
        return cls(_label(folder), folder, read_samples(samples), read_provenance(folder))


def _label(folder: Path) -> str:
    """A run's name in a table: its folder, with the round's folder where it is an improve round's eval."""
    return f"{folder.parent.name}/{folder.name}" if folder.name.startswith("eval") else folder.name


def problem_set(rows: Sequence[SampleRow]) -> dict[str, tuple[str, str]]:
    """A benchmark's problems by id: (question, gold), what two runs must share to be compared."""
    return {row.id: (row.question, str(row.gold)) for row in rows}


def by_benchmark(rows: Sequence[SampleRow]) -> dict[str, list[SampleRow]]:
    groups: dict[str, list[SampleRow]] = {}
    for row in rows:
        groups.setdefault(row.benchmark, []).append(row)
    return groups


def run_table(run: RunSamples, ks: Sequence[int] = (1, 4, 16),
              average_over: Sequence[str] | None = None) -> dict[str, dict]:  # fmt: skip
    """Per benchmark: problems, samples per problem, pass@k for each k the samples allow (pass@1
    with its interval), the counts of unanswered, truncated and timed-out samples; and
    ``average``: each pass@k averaged over the benchmarks (those of ``average_over`` where given)
    that have it, each benchmark counting once."""
    table: dict[str, dict] = {}
    for name, rows in by_benchmark(run.rows).items():
        n = min(len(r.samples) for r in rows)
        rates = [r.pass_rate or 0.0 for r in rows]
        cells: dict = {"problems": len(rows), "n": n, "pass@1_ci95": list(bootstrap_ci(rates))}
        for k in (k for k in ks if k <= n):
            cells[f"pass@{k}"] = sum(pass_at_k(len(r.samples), sum(bool(s.correct) for s in r.samples), k)
                                     for r in rows) / len(rows)  # fmt: skip
        table[name] = cells | sample_counts(rows)
    averaged = [table[b] for b in (average_over if average_over is not None else list(table)) if b in table]
    keys = dict.fromkeys(k for cells in averaged for k in cells if k.startswith("pass@") and "ci" not in k)
    table["average"] = {k: sum(c[k] for c in averaged if k in c) / sum(k in c for c in averaged) for k in keys}
    return table


def paired_difference(a: RunSamples, b: RunSamples, on_shared: bool = False, seed: int = 0) -> list[dict]:
    """Per benchmark both runs have: b's pass@1 minus a's over the same problems, with a 95%
    paired bootstrap interval (problems resampled, each keeping its two rates).

    Runs on different problem sets (a problem missing from one, or a question or answer that
    differs) are refused, unless ``on_shared``: then only the problems both hold, and each
    comparison says how many of each run's problems it left out."""
    out = []
    rows_a, rows_b = by_benchmark(a.rows), by_benchmark(b.rows)
    for name in [n for n in rows_a if n in rows_b]:
        set_a, set_b = problem_set(rows_a[name]), problem_set(rows_b[name])
        shared = [i for i in set_a if set_b.get(i) == set_a[i]]
        if len(shared) != len(set_a) or len(shared) != len(set_b):
            if not on_shared:
                raise MathlensError(
                    f"{name}: {a.label} and {b.label} hold different problems ({len(set_a)} and {len(set_b)}, "
                    f"{len(shared)} the same); pass --on-shared to compare only those")  # fmt: skip
        rate_a = {r.id: r.pass_rate or 0.0 for r in rows_a[name]}
        rate_b = {r.id: r.pass_rate or 0.0 for r in rows_b[name]}
        diffs = [rate_b[i] - rate_a[i] for i in shared]
        if not diffs:
            continue
        out.append({"benchmark": name, "a": a.label, "b": b.label, "problems": len(diffs),
                    "left_out": [len(set_a) - len(shared), len(set_b) - len(shared)],
                    "diff": sum(diffs) / len(diffs), "ci95": list(bootstrap_ci(diffs, seed=seed))})  # fmt: skip
    return out


def compare_runs(paths: Sequence[str | Path], ks: Sequence[int] = (1, 4, 16), on_shared: bool = False) -> dict:
    """One table across runs: per run, per benchmark and on average, pass@k at each k the samples
    allow; each later run's paired difference from the first on the problems they share; and
    each run's provenance in short (model, weights, commit, device, wall time, data)."""
    runs = [RunSamples.load(p) for p in paths]
    labels = [r.label for r in runs]
    for i, run in enumerate(runs):  # two folders of one name: told apart by their place in the command
        if labels.count(run.label) > 1:
            run.label = f"{run.label}#{i + 1}"
    covered = [list(by_benchmark(r.rows)) for r in runs]
    shared = [b for b in covered[0] if all(b in c for c in covered)]
    if any(len(c) != len(shared) for c in covered) and not on_shared:
        said = "; ".join(f"{r.label}: {', '.join(c)}" for r, c in zip(runs, covered))
        raise MathlensError(f"the runs cover different benchmarks ({said}); pass --on-shared to compare and average "
                            "only those all of them have")  # fmt: skip
    return {
        "runs": {r.label: run_table(r, ks, shared) for r in runs},
        "average_over": shared,
        "paired": [d for r in runs[1:] for d in paired_difference(runs[0], r, on_shared)],
        "provenance": {r.label: provenance_summary(r) for r in runs},
    }


def provenance_summary(run: RunSamples) -> dict:
    """What a table needs to say of a run's origin, from its provenance (or its config for a
    run from before provenance was written)."""
    p = run.provenance or {}
    model = p.get("model") or {}
    weights = model.get("weights") or {}
    hashes = [weights.get("sha256")] if weights.get("sha256") else list((weights.get("files") or {}).values())
    commit = p.get("commit") or {}
    config = _config(run.folder)
    return {
        "folder": str(run.folder),
        "model": model.get("id") or config.get("model"),
        "weights_sha256": ",".join(h for h in hashes if h) or None,
        "chat_template_sha256": model.get("chat_template_sha256"),
        "commit": (commit.get("sha", "")[:10] + ("+dirty" if commit.get("dirty") else "")) or None,
        "device": ", ".join((p.get("device") or {}).get("cuda") or []) or (p.get("device") or {}).get("cpu"),
        "wall_s": sum(r.get("wall_s") or 0 for r in [p, *p.get("resumed", [])]) if "wall_s" in p else None,
        "data": [f"{d.get('name')}: {d.get('source', d.get('error'))} ({d.get('sha256')})" for d in p.get("data") or []],
        "settings": {k: config.get(k) for k in ("mode", "n", "temperature", "max_tokens", "seed") if k in config},
    }


def _config(folder: Path) -> dict:
    try:
        return json.loads((folder / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def comparison_rows(compared: dict) -> tuple[list[str], list[list[str]]]:
    """The table as strings: one row per run and pass@k, one column per benchmark and the
    average; then one row per paired difference. What the md and csv formats print."""
    benchmarks = list(dict.fromkeys(b for table in compared["runs"].values() for b in table if b != "average"))
    header = ["run", "metric", *benchmarks, "average"]
    lines = []
    for label, table in compared["runs"].items():
        metrics = list(dict.fromkeys(k for b in table.values() for k in b if k.startswith("pass@") and "ci" not in k))
        for metric in metrics:
            cells = []
            for b in [*benchmarks, "average"]:
                value = table.get(b, {}).get(metric)
                cell = "" if value is None else f"{100 * value:.1f}"
                if metric == "pass@1" and b != "average" and value is not None:
                    lo, hi = table[b]["pass@1_ci95"]
                    cell += f" [{100 * lo:.1f}, {100 * hi:.1f}]"
                cells.append(cell)
            lines.append([label, metric, *cells])
    for d in compared["paired"]:
        cells = ["" for _ in benchmarks] + [""]
        lo, hi = d["ci95"]
        cells[benchmarks.index(d["benchmark"])] = f"{100 * d['diff']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]"
        lines.append([f"{d['b']} − {d['a']}", f"pass@1, paired, {d['problems']} problems", *cells])
    return header, lines


def format_comparison(compared: dict, fmt: str) -> str:
    """The comparison as ``md`` (tables, then each run's provenance), ``csv`` or ``json``."""
    if fmt == "json":
        return json.dumps(compared, indent=1)
    header, lines = comparison_rows(compared)
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([header, *lines])
        return buffer.getvalue()
    if fmt != "md":
        raise MathlensError(f"--format {fmt!r}: one of table, md, csv, json")
    table = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"] + [f"| {' | '.join(line)} |" for line in lines]
    said = ["", "| run | model | weights | commit | device | wall | data |", "|---|---|---|---|---|---|---|"]
    for label, p in compared["provenance"].items():
        wall = f"{p['wall_s']:.0f} s" if p.get("wall_s") is not None else ""
        said.append(f"| {label} | {p['model'] or ''} | {p['weights_sha256'] or ''} | {p['commit'] or ''} | "
                    f"{p['device'] or ''} | {wall} | {'; '.join(p['data'])} |")  # fmt: skip
    return "\n".join(table + said) + "\n"
