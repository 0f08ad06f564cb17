"""What every arithmetic task is: a grid of operand pairs, a prompt and an answer for each."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

from ..errors import MathlensError

Cell = tuple[int, int]  # a point of the grid, in grid coordinates (x, y)
TASKS: dict[str, type[Task]] = {}  # every concrete task class by name, filled as each is defined


@dataclass(frozen=True)
class Task(ABC):
    """An operand grid over [low, high] (inclusive) plus how to ask and answer.

    ``operands`` are what the prompt shows; ``coord`` places them on the grid that
    squares and heatmaps are drawn on. For most tasks the two are the same pair.
    """

    low: int = 0
    high: int = 99

    name = "task"
    # What answer formats need to know, stated by each task so that no format checks a name:
    base = 10  # the base operands and answers are written in
    modulus = None  # int: the answer is reduced modulo this, when set
    is_sum = False  # the answer is a + b (in ``base``, mod ``modulus``): the scratchpad applies
    rule = None  # str: the shipped rule program (formats/rules/) that computes the answer
    single_digit_b = False  # b is one digit (multiply-by-digit): length splits grow a only

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:  # a concrete task: known by name from now on
            TASKS[cls.name] = cls

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

    def expression(self, a: int, b: int) -> str | None:
        """A Python expression of the operands that evaluates to the answer; None: there is none."""
        return None

    def program(self, a: int, b: int) -> str | None:
        """A program that prints the answer from the operands as the prompt shows them (TIR)."""
        expr = self.expression(a, b)
        return None if expr is None else f"print({expr})"

    def params(self) -> dict:
        """Everything that defines the task, for records and configs."""
        return {"task": self.name, **asdict(self)}
