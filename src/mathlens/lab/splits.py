"""Which cells of a task's grid are trained on and which are held out.

Leave-Square-Out holds out squares (centre and half side r: cells c−r..c+r inclusive,
as in the paper's files); the controls hold out random cells instead, so every test
cell keeps training neighbours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..errors import MathlensError
from ..tasks import Cell, Task


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


def numbers_with_digits(digits: int, base: int = 10) -> range:
    """Every non-negative integer written with exactly ``digits`` digits (0 counts as one)."""
    if digits < 1:
        raise MathlensError(f"a digit count must be at least 1, not {digits}")
    return range(0 if digits == 1 else base ** (digits - 1), base**digits)


def length_split(
    train_digits: list[int],
    test_digits: list[int],
    n_train: int,
    n_test: int,
    seed: int = 0,
    base: int = 10,
    single_digit_b: bool = False,
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """Length generalization: ``(a, b, digits)`` to train on and to test on, per digit count.

    Both operands have the digit count (``single_digit_b``: b is one digit, for the
    multiply-by-digit rule). A count may be in both lists (in-distribution test points),
    in only the test list (longer or a held-out count in the middle) or only in training;
    the same pair is never in both. Counts with few pairs (one digit: 100) give what they have,
    test first.
    """
    rng = random.Random(seed)
    train, test = [], []
    for d in sorted(set(train_digits) | set(test_digits)):
        a_pool = numbers_with_digits(d, base)
        b_pool = numbers_with_digits(1, base) if single_digit_b else a_pool
        want = (n_test if d in test_digits else 0) + (n_train if d in train_digits else 0)
        if len(a_pool) * len(b_pool) <= want:  # small: take every pair, shuffled
            pairs = [(a, b) for a in a_pool for b in b_pool]
            rng.shuffle(pairs)
        else:
            seen: set[tuple[int, int]] = set()
            while len(seen) < want:
                seen.add((rng.choice(a_pool), rng.choice(b_pool)))
            pairs = sorted(seen)
            rng.shuffle(pairs)
        k_test = 0
        if d in test_digits:
            k_test = min(n_test, len(pairs) // 2 if d in train_digits else len(pairs))
        test += [(a, b, d) for a, b in pairs[:k_test]]
        if d in train_digits:
            train += [(a, b, d) for a, b in pairs[k_test : k_test + n_train]]
    return train, test


def mixed_length_pairs(
    test_digits: list[int], n: int, seed: int = 0, base: int = 10
) -> list[tuple[int, int, int]]:
    """``(a, b, digits)`` with ``a`` of each digit count and ``b`` shorter (1 to digits - 1
    digits, uniformly), as the paper's in-context test mixes lengths: a rule that pads the
    shorter number must say so, a model that aligns digits by position cannot. One-digit
    counts have no shorter operand and are skipped. None of these pairs is in
    ``length_split``'s lists, whose operands have equal lengths."""
    rng = random.Random(f"mixed:{seed}")
    pairs = []
    for d in sorted(set(test_digits)):
        if d < 2:
            continue
        seen: set[tuple[int, int]] = set()
        while len(seen) < n:
            a = rng.choice(numbers_with_digits(d, base))
            seen.add((a, rng.choice(numbers_with_digits(rng.randint(1, d - 1), base))))
        pairs += [(a, b, d) for a, b in sorted(seen)]
    return pairs
