"""Which cells of a task's grid are trained on and which are held out.

Leave-Square-Out holds out squares (centre and half side r: cells c−r..c+r inclusive,
as in the paper's files); the controls hold out random cells instead, so every test
cell keeps training neighbours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .errors import MathlensError
from .tasks import Cell, Task


@dataclass(frozen=True)
class Square:
    center: Cell
    radius: int  # half side: the square spans center ± radius, side 2r+1

    def contains(self, cell: Cell) -> bool:
        return self.depth(cell) >= 0

    def depth(self, cell: Cell) -> int:
        """Cells from the square's edge: 0 on the edge ring, r at the centre, negative outside."""
        return self.radius - max(abs(cell[0] - self.center[0]), abs(cell[1] - self.center[1]))

    def label(self) -> str:
        return f"({self.center[0]},{self.center[1]}) r={self.radius}"


@dataclass(frozen=True)
class Split:
    """Grid operands assigned to train or test; ``squares`` is empty for random splits."""

    kind: str
    train: tuple[tuple[int, int], ...]
    test: tuple[tuple[int, int], ...]
    squares: tuple[Square, ...] = ()
    meta: dict = field(default_factory=dict, compare=False)

    def depth(self, cell: Cell) -> int | None:
        return square_depth(self.squares, cell)


def square_depth(squares: tuple[Square, ...], cell: Cell) -> int | None:
    """Signed distance (in cells) from the nearest square's edge; None with no squares."""
    return max((sq.depth(cell) for sq in squares), default=None)


def leave_square_out(task: Task, squares: list[Square]) -> Split:
    """Hold out every grid cell inside any of ``squares``."""
    if not squares:
        raise MathlensError("leave-square-out needs at least one square")
    xs, ys = task.extent()
    for sq in squares:
        (cx, cy), r = sq.center, sq.radius
        if r < 0:
            raise MathlensError(f"square {sq.label()}: the half side must be 0 or more")
        if 2 * r + 1 >= min(len(xs), len(ys)):
            raise MathlensError(f"square {sq.label()} is as large as the grid: nothing around it to learn from")
        if cx - r < xs.start or cx + r > xs.stop - 1 or cy - r < ys.start or cy + r > ys.stop - 1:
            raise MathlensError(
                f"square {sq.label()} spans x {cx - r}..{cx + r}, y {cy - r}..{cy + r}: "
                f"outside the grid x {xs.start}..{xs.stop - 1}, y {ys.start}..{ys.stop - 1}"
            )
    for i, s in enumerate(squares):
        for t in squares[i + 1 :]:
            if max(abs(s.center[0] - t.center[0]), abs(s.center[1] - t.center[1])) <= s.radius + t.radius:
                raise MathlensError(f"squares {s.label()} and {t.label()} overlap")
    train, test = [], []
    for ops in task.operand_grid():
        cell = task.coord(ops)
        (test if any(sq.contains(cell) for sq in squares) else train).append(ops)
    return _checked(Split("lso", tuple(train), tuple(test), tuple(squares)))


def random_split(task: Task, n_test: int, seed: int = 0) -> Split:
    """Hold out ``n_test`` cells drawn uniformly: the control for a square of that size."""
    grid = task.operand_grid()
    if not 0 < n_test < len(grid):
        raise MathlensError(f"cannot hold out {n_test} of the grid's {len(grid)} cells")
    held = set(random.Random(seed).sample(range(len(grid)), n_test))
    train = tuple(ops for i, ops in enumerate(grid) if i not in held)
    test = tuple(ops for i, ops in enumerate(grid) if i in held)
    return _checked(Split("random", train, test, meta={"seed": seed}))


def fraction_split(task: Task, test_fraction: float = 0.3, seed: int = 0) -> Split:
    """The paper's random 70/30 control: a fraction of the whole grid held out."""
    if not 0.0 < test_fraction < 1.0:
        raise MathlensError(f"test fraction must be between 0 and 1, not {test_fraction}")
    n_cells = len(task.operand_grid())
    split = random_split(task, round(n_cells * test_fraction), seed)
    return Split("fraction", split.train, split.test, meta={"seed": seed, "test_fraction": test_fraction})


def _checked(split: Split) -> Split:
    if not split.train:
        raise MathlensError("the split leaves no training data")
    if not split.test:
        raise MathlensError("the split holds out no cells")
    return split
