"""Re-grade saved samples (one JSON line per problem) with the current grader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import MathlensError
from ..records import read_jsonl, write_jsonl
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
    """Grade every sample of ``{id, question, gold, samples: [{completion, ...}]}`` lines again.

    Writes ``pred``, ``correct`` and ``how`` into each sample, to ``out`` or back in place
    (atomically); everything else in the file is kept as it was.
    """
    rows, samples, correct, changed = [], 0, 0, 0
    for where, row in read_jsonl(path):
        if "gold" not in row or not isinstance(row.get("samples"), list):
            raise MathlensError(f"{where}: a sample line needs 'gold' and a list 'samples'")
        for i, sample in enumerate(row["samples"]):
            if not isinstance(sample, dict) or "completion" not in sample:
                raise MathlensError(f"{where}: samples[{i}] needs a 'completion'")
            verdict = grade(sample["completion"], str(row["gold"]))
            changed += "correct" in sample and sample["correct"] != verdict.correct
            sample.update(pred=verdict.pred, correct=verdict.correct, how=verdict.how)
            samples += 1
            correct += verdict.correct
        rows.append(row)
    write_jsonl(out or path, rows)
    return RegradeSummary(len(rows), samples, correct, changed)
