"""What every arithmetic task is: a grid of operand pairs, a prompt and an answer for each."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

from ..errors import MathlensError

Cell = tuple[int, int]  # a point of the grid, in grid coordinates (x, y)


@dataclass(frozen=True)
class Task(ABC):
    """An operand grid over [low, high] (inclusive) plus how to ask and answer.

    ``operands`` are what the prompt shows; ``coord`` places them on the grid that
    squares and heatmaps are drawn on. For most tasks the two are the same pair.
    """

    low: int = 0
    high: int = 99

    name = "task"

    def __post_init__(self) -> None:
        if self.low < 0 or self.high < self.low:
            raise MathlensError(f"range {self.low}-{self.high} is empty or negative")

    def operand_grid(self) -> list[tuple[int, int]]:
        """Every operand pair, in the order of the paper's ids (a major, b minor)."""
        return [(a, b) for a in range(self.low, self.high + 1) for b in range(self.low, self.high + 1)]

    def coord(self, operands: tuple[int, int]) -> Cell:
        return operands

    def extent(self) -> tuple[range, range]:
        """The x and y values a grid cell can take (a bounding box for squares and plots)."""
        span = range(self.low, self.high + 1)
        return span, span

    @abstractmethod
    def prompt(self, a: int, b: int) -> str: ...

    @abstractmethod
    def answer(self, a: int, b: int) -> str: ...

    def params(self) -> dict:
        """Everything that defines the task, for records and configs."""
        return {"task": self.name, **asdict(self)}
