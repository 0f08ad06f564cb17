"""Accuracy over prediction rows: per split, per distance from the held-out square's edge.

A prediction row is ``{"operands", "split", "correct", "depth"?}``, one per grid cell, as
``predictions.jsonl`` stores it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

OUTSIDE_DEPTHS = 5  # cells outside the square counted in the distance profile


def accuracy(rows: Iterable[dict]) -> float | None:
    """Exact-match accuracy, None for no rows (so an empty set is never reported as 0%)."""
    rows = list(rows)
    return sum(bool(r["correct"]) for r in rows) / len(rows) if rows else None


def accuracy_by_depth(rows: Sequence[dict], outside: int = OUTSIDE_DEPTHS) -> dict[int, float]:
    """Accuracy by cells from the nearest square's edge: 0 is the edge ring, r the centre,
    −1 the first ring outside. Tells a hole that fills from its rim from one that does not."""
    groups: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        depth = r.get("depth")
        if depth is not None and depth >= -outside:
            groups[depth].append(r)
    return {d: accuracy(groups[d]) for d in sorted(groups)}


def lso_metrics(rows: Sequence[dict]) -> dict:
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    out = {
        "train_acc": accuracy(train),
        "test_acc": accuracy(test),
        "n_train": len(train),
        "n_test": len(test),
        "acc_by_depth": {str(k): v for k, v in accuracy_by_depth(rows).items()},
    }
    if any("pass1" in r for r in rows):  # several samples per cell: correct is pass@k
        out["train_pass1"] = mean_of(r["pass1"] for r in train)
        out["test_pass1"] = mean_of(r["pass1"] for r in test)
    return out


def mean_of(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None
