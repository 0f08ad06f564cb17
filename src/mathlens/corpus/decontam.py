"""Decontamination of corpus documents as a datatrove step: the improvement loop's check (a
shared 13-gram and a word LCS over 0.6 of the evaluation problem) against named benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

from datatrove.pipeline.base import PipelineStep

from ..improve import EvalText, Index


def benchmark_index(names: Sequence[str], data_dir: str | Path | None = None) -> Index:
    from ..evals.problems import load_benchmark

    return Index([EvalText(Path(n).stem, p.question) for n in names for p in load_benchmark(n, data_dir)])


class Decontaminate(PipelineStep):
    """Drops documents that contain an evaluation problem; counts them per benchmark."""

    type = "🔢 - MATH"
    name = "🧼 decontaminate"

    def __init__(self, benchmarks: Sequence[str], data_dir: str | None = None, exclusion_writer=None) -> None:
        super().__init__()
        self.benchmarks, self.data_dir, self.exclusion_writer = list(benchmarks), data_dir, exclusion_writer
        self._index: Index | None = None  # built in the worker, once

    def run(self, data, rank: int = 0, world_size: int = 1):
        if self._index is None:
            self._index = benchmark_index(self.benchmarks, self.data_dir)
        with self.exclusion_writer or nullcontext() as removed:
            for doc in data:
                self.stat_update("total")
                source = self._index.match(doc.text)
                if source is None:
                    yield doc
                    continue
                self.stat_update("dropped", f"dropped_{source}")
                doc.metadata["contaminated_by"] = source
                if self.exclusion_writer:
                    removed.write(doc, rank)

