"""Grid examples: one record per operand cell, labelled by a split and written in a format."""

from __future__ import annotations

from ..formats import Direct, Format
from ..records import Example
from ..tasks import Task
from .splits import Split


def make_examples(task: Task, split: Split, fmt: Format | None = None) -> list[Example]:
    """One example per grid cell, in grid order, labelled train or test, written in ``fmt``."""
    fmt = fmt or Direct()
    fmt.check(task)
    test = set(split.test)
    examples = []
    for i, ops in enumerate(task.operand_grid()):
        label = "test" if ops in test else "train"
        depth = split.depth(task.coord(ops))
        meta = {} if depth is None else {"depth": depth}
        examples.append(
            Example(i, task.name, ops, fmt.prompt(task, *ops), fmt.target(task, *ops), task.answer(*ops), label, meta)
        )
    return examples
