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
    return {
        "train_acc": accuracy(train),
        "test_acc": accuracy(test),
        "n_train": len(train),
        "n_test": len(test),
        "acc_by_depth": {str(k): v for k, v in accuracy_by_depth(rows).items()},
    }


# ---------------------------------------------------------------- sampling metrics (pass@k, maj@k, rm@k)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of Chen et al. (2021): 1 - C(n-c, k) / C(n, k), in a stable product form."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1.0 - k / i
    return 1.0 - miss


def maj_at_k(preds: Sequence[str | None], k: int) -> str | None:
    """The majority answer among the first ``k`` predictions, equivalent answers grouped.

    Ties go to the answer seen first; a missing prediction (None) votes for nothing.
    """
    from .grading import equivalent

    groups: list[list] = []  # [representative, votes], in order of first appearance
    for pred in preds[:k]:
        if pred is None:
            continue
        for group in groups:
            if group[0] == pred or equivalent(group[0], pred):
                group[1] += 1
                break
        else:
            groups.append([pred, 1])
    if not groups:
        return None
    return max(groups, key=lambda g: g[1])[0]  # max keeps the first of equal counts


def rm_at_k(preds: Sequence[str | None], rewards: Sequence[float], k: int) -> str | None:
    """The prediction with the highest reward among the first ``k`` (ties: the first)."""
    best = None
    for pred, reward in zip(preds[:k], rewards[:k]):
        if pred is not None and (best is None or reward > best[1]):
            best = (pred, reward)
    return None if best is None else best[0]


def bootstrap_ci(values: Sequence[float], resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval for the mean of per-problem scores."""
    if not values:
        return (float("nan"), float("nan"))
    import numpy as np

    rng = np.random.default_rng(seed)
    scores = np.asarray(values, dtype=float)
    means = scores[rng.integers(0, len(scores), size=(resamples, len(scores)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))
