"""Training data for pretrained models: any task in any format as prompt/completion or chat JSONL."""

from __future__ import annotations

from pathlib import Path

from ..formats import Format
from ..records import write_jsonl
from ..tasks import Task
from .splits import length_split


def export_rows(task: Task, fmt: Format, digits: list[int], n: int, seed: int = 0, chat: bool = False) -> list[dict]:
    """``n`` problems per digit count, rendered in ``fmt``; chat rows use OpenAI-style messages."""
    fmt.check(task)
    pairs, _ = length_split(digits, [], n, 0, seed, task.base, task.single_digit_b)
    rows = []
    for a, b, d in pairs:
        prompt, completion = fmt.prompt(task, a, b), fmt.target(task, a, b)
        meta = {"task": task.name, "format": fmt.name, "operands": [a, b], "digits": d}
        if chat:
            messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
            rows.append({"messages": messages, "answer": task.answer(a, b), "meta": meta})
        else:
            rows.append({"prompt": prompt, "completion": completion, "answer": task.answer(a, b), "meta": meta})
    return rows


def export_jsonl(path: str | Path, rows: list[dict]) -> Path:
    write_jsonl(path, rows)
    return Path(path)
