"""Metrics from saved samples: per benchmark (or subject, level), pass@1 with its interval,
pass@k, maj@k and, where samples carry rewards, rm@k."""

from __future__ import annotations

from pathlib import Path

from ..errors import MathlensError
from ..grading.summary import summarize_rows
from ..records import SampleRow, read_sample_rows


def read_samples(samples_path: str | Path) -> list[SampleRow]:
    """Graded sample rows (``records.read_sample_rows``: a torn last line is left out and said)."""
    return read_sample_rows(samples_path)


def summarize(samples_path: str | Path, by: str | None = None) -> dict:
    """Per benchmark (or benchmark/``meta[by]``, e.g. subject or level): problems, pass@1 (mean
    over samples), pass@k and maj@k with k = the samples per problem."""
    return summarize_rows(read_samples(samples_path), by)


def loop_rounds(loop_dir: str | Path, by: str | None = None) -> dict:
    """An improvement loop's held-out metrics, one entry per evaluated round (``round-r``; a round
    that ran GRPO also has ``round-r-sft``, its policy before GRPO)."""
    out = {}
    for folder in sorted(Path(loop_dir).glob("round-*"), key=lambda p: int(p.name.split("-")[1])):
        for evaluated, label in (("eval-sft", "-sft"), ("eval", "")):
            samples = folder / evaluated / "samples.jsonl"
            if samples.exists():
                for name, metrics in summarize(samples, by).items():
                    out[folder.name + label + name.removeprefix("heldout")] = metrics
    if not out:
        raise MathlensError(f"{loop_dir}: no round has been evaluated yet")
    return out
