"""Chickens and rabbits: from legs and heads, say how many of each animal there are."""

from __future__ import annotations

from dataclasses import dataclass

from .base import Cell, Task

QUESTION = (
    "Rabbits have 4 legs and 1 head. Chickens have 2 legs and 1 head. "
    "There are {legs} legs and {heads} heads on the farm. How many rabbits and chickens are there?"
)
ANSWER = "There are {rabbits} rabbits and {chickens} chickens."


@dataclass(frozen=True)
class ChickenRabbit(Task):
    """Operands are (legs, heads) for every farm with ``low``..``high`` heads.

    The grid is the paper's: x = legs / 2 (= 2·rabbits + chickens), y = heads, so a grid
    step is one animal more; only the triangle heads ≤ x ≤ 2·heads holds farms, and a
    square that reaches past it simply holds fewer cells (as in the paper's files).
    """

    name = "chicken_rabbit"

    def operand_grid(self) -> list[tuple[int, int]]:
        # Heads major, rabbits minor: the order of the paper's ids.
        return [(4 * r + 2 * (h - r), h) for h in range(self.low, self.high + 1) for r in range(h + 1)]

    def coord(self, operands: tuple[int, int]) -> Cell:
        legs, heads = operands
        return legs // 2, heads

    def extent(self) -> tuple[range, range]:
        return range(self.low, 2 * self.high + 1), range(self.low, self.high + 1)

    @staticmethod
    def animals(legs: int, heads: int) -> tuple[int, int]:
        rabbits = legs // 2 - heads
        return rabbits, heads - rabbits

    def prompt(self, a: int, b: int) -> str:
        return QUESTION.format(legs=a, heads=b)

    def answer(self, a: int, b: int) -> str:
        rabbits, chickens = self.animals(a, b)
        return ANSWER.format(rabbits=rabbits, chickens=chickens)
