"""The example record (what the tiny trainer learns from) and JSON Lines in and out, with
errors that name file, line and field."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import MathlensError


@dataclass(frozen=True)
class Example:
    id: int
    task: str
    operands: tuple[int, int]
    prompt: str
    target: str
    answer: str
    split: str  # "train" or "test"
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["operands"] = list(self.operands)
        return d

    @classmethod
    def from_dict(cls, d: dict, where: str = "") -> Example:
        missing = [k for k in ("id", "task", "operands", "prompt", "target", "answer", "split") if k not in d]
        if missing:
            raise MathlensError(f"{where}: missing field {missing[0]!r}")
        ops = d["operands"]
        if not (isinstance(ops, list) and len(ops) == 2 and all(isinstance(x, int) for x in ops)):
            raise MathlensError(f"{where}: field 'operands' must be a list of two integers, not {ops!r}")
        for key in ("prompt", "target", "answer", "split"):
            if not isinstance(d[key], str):
                raise MathlensError(f"{where}: field {key!r} must be a string, not {d[key]!r}")
        return cls(
            d["id"], d["task"], (ops[0], ops[1]), d["prompt"], d["target"], d["answer"], d["split"], d.get("meta", {})
        )


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    """Write all rows, atomically: a crash leaves the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    os.replace(tmp, path)


def read_jsonl(path: str | Path, torn_tail: bool = False) -> Iterator[tuple[str, dict]]:
    """Yield (``file:line``, object) for every non-blank line.

    ``torn_tail``: a last line with no newline that is not valid JSON (what a kill mid-write
    leaves) is skipped instead of being an error.
    """
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as err:
        raise MathlensError(f"{path}: cannot read ({err.strerror})") from None
    with f:  # streamed: samples files grow large
        for n, raw in enumerate(f, 1):
            where = f"{path}:{n}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise MathlensError(f"{where}: not UTF-8 text (byte {err.start + 1} of the line)") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                if torn_tail and not raw.endswith(b"\n"):  # only the last line can lack its newline
                    return
                raise MathlensError(f"{where}: not valid JSON ({err.msg})") from None
            if not isinstance(obj, dict):
                raise MathlensError(f"{where}: expected a JSON object, not {type(obj).__name__}")
            yield where, obj


def read_examples(path: str | Path) -> list[Example]:
    return [Example.from_dict(obj, where) for where, obj in read_jsonl(path)]
