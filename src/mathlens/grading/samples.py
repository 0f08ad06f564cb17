"""Re-grade saved samples (one JSON line per problem) with the current grader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..records import read_sample_rows, write_sample_rows
from . import grade


@dataclass(frozen=True)
class RegradeSummary:
    problems: int
    samples: int
    correct: int
    changed: int  # verdicts that differ from the ones stored

    @property
    def pass_at_1(self) -> float | None:
        return self.correct / self.samples if self.samples else None


def regrade(path: str | Path, out: str | Path | None = None) -> RegradeSummary:
    """Grade every sample of a ``samples.jsonl`` again (``records.SampleRow`` lines; samples
    need only their ``completion``).

    Writes ``pred``, ``correct`` and ``how`` into each sample, to ``out`` or back in place
    (atomically); everything else in the file is kept as it was.
    """
    rows = read_sample_rows(path, graded=False)
    samples = correct = changed = 0
    for row in rows:
        for sample in row.samples:
            verdict = grade(sample.completion, str(row.gold))
            changed += sample.correct is not None and sample.correct != verdict.correct
            sample.pred, sample.correct, sample.how = verdict.pred, verdict.correct, verdict.how
            samples += 1
            correct += verdict.correct
    write_sample_rows(out or path, rows)
    return RegradeSummary(len(rows), samples, correct, changed)
