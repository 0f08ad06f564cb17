"""Metrics from saved samples: per benchmark (or subject, level), pass@1 with its interval,
pass@k, maj@k and, where samples carry rewards, rm@k."""

from __future__ import annotations

from pathlib import Path

from ..errors import MathlensError
from ..grading.summary import boxed_is_printed, by_k, summarize_rows
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
    groups: dict[str, list[SampleRow]] = {}
    for row in rows:
        groups.setdefault(row.benchmark, []).append(row)
    tools = any(s.tool_calls for row in rows for s in row.samples)
    return {name: by_k(group, ks, boxed_is_printed if tools else None) for name, group in groups.items()}


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
