"""Read the paper's published split folders (``train.json``, ``test.json``) as they are.

A folder's name says its task (the parent folder), its squares and its range:
``1hole_50-50_10_441_0-100`` (centre, half side, test size, range [0, 100)),
``3hole_1411_0-100`` (squares in ``test_squares.txt``), ``random_split_0.7_7000_3000_0-100``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import MathlensError
from ..records import Example, read_json
from ..tasks import Task, make_task
from .splits import Split, Square, square_depth

_ONE_HOLE = re.compile(r"1hole_(\d+)-(\d+)_(\d+)_(\d+)_(\d+)-(\d+)(_cot)?$")
_THREE_HOLE = re.compile(r"3hole_(\d+)_(\d+)-(\d+)(_cot)?$")
_RANDOM = re.compile(r"random_split_([\d.]+)_(\d+)_(\d+)_(\d+)-(\d+)(_cot)?$")


@dataclass(frozen=True)
class PaperSplit:
    task: Task
    split: Split
    examples: list[Example]  # train then test, as the files list them


def parse_folder_name(folder: Path) -> tuple[str, tuple[Square, ...], int, int]:
    """(kind, squares, low, high-inclusive) from a folder name, squares read from test_squares.txt."""
    name = folder.name
    if m := _ONE_HOLE.match(name):
        return "lso", (Square((int(m[1]), int(m[2])), int(m[3])),), int(m[5]), int(m[6]) - 1
    if m := _THREE_HOLE.match(name):
        return "lso", _read_squares(folder / "test_squares.txt"), int(m[2]), int(m[3]) - 1
    if m := _RANDOM.match(name):
        return "random", (), int(m[4]), int(m[5]) - 1
    raise MathlensError(f"{folder}: not a paper split folder name (1hole_…, 3hole_… or random_split_…)")


def _read_squares(path: Path) -> tuple[Square, ...]:
    try:
        text = path.read_text()
    except OSError as err:
        raise MathlensError(f"{path}: cannot read ({err.strerror})") from None
    centers = re.findall(r"\((\d+),\s*(\d+)\)", text)
    lengths = re.search(r"lengths:\s*\[([\d,\s]+)\]", text)
    if not centers or not lengths:
        raise MathlensError(f"{path}: expected 'centers:[(x, y), …]' and 'lengths:[r, …]'")
    radii = [int(r) for r in lengths[1].split(",")]
    if len(radii) != len(centers):
        raise MathlensError(f"{path}: {len(centers)} centres but {len(radii)} lengths")
    return tuple(Square((int(x), int(y)), r) for (x, y), r in zip(centers, radii))


def load_paper_split(folder: str | Path) -> PaperSplit:
    """The folder's examples as mathlens examples, with the task and split its name implies."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MathlensError(f"{folder}: no such folder")
    kind, squares, low, high = parse_folder_name(folder)
    task = make_task(folder.parent.name, low=low, high=high)
    examples: dict[str, list[Example]] = {}
    for label in ("train", "test"):
        path = folder / f"{label}.json"
        rows = read_json(path)
        examples[label] = [_example(task, squares, row, label, f"{path} record {i}") for i, row in enumerate(rows)]
    split = Split(
        kind,
        tuple(e.operands for e in examples["train"]),
        tuple(e.operands for e in examples["test"]),
        squares,
        meta={"source": str(folder)},
    )
    return PaperSplit(task, split, examples["train"] + examples["test"])


def _example(task: Task, squares: tuple[Square, ...], row: dict, label: str, where: str) -> Example:
    for key in ("id", "question", "a", "b", "answers"):
        if key not in row:
            raise MathlensError(f"{where}: missing field {key!r}")
    if not isinstance(row["answers"], list) or not row["answers"]:
        raise MathlensError(f"{where}: field 'answers' must be a non-empty list")
    target = str(row["answers"][0])
    answer = str(row.get("gt", target))
    operands = (row["a"], row["b"])
    depth = square_depth(squares, task.coord(operands))
    meta = {} if depth is None else {"depth": depth}
    return Example(row["id"], task.name, operands, row["question"], target, answer, label, meta)
