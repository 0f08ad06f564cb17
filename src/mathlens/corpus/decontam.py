"""Decontamination of corpus documents as a datatrove step: the improvement loop's check (a
shared 13-gram and a word LCS over 0.6 of the evaluation problem). The evaluation problems come
in as texts (the CLI reads the named benchmarks), so the corpus needs no other capability."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext

from datatrove.pipeline.base import PipelineStep

from ..decontam import EvalText, Index


class Decontaminate(PipelineStep):
    """Drops documents that contain an evaluation problem; counts them per benchmark."""

    type = "🔢 - MATH"
    name = "🧼 decontaminate"

    def __init__(self, problems: Sequence[EvalText], exclusion_writer=None) -> None:
        super().__init__()
        self.problems, self.exclusion_writer = list(problems), exclusion_writer
        self._index: Index | None = None  # built in the worker, once

    def run(self, data, rank: int = 0, world_size: int = 1):
        if self._index is None:
            self._index = Index(self.problems)
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

