"""Scores over a problem's graded samples: pass@k, maj@k (equivalent answers vote together),
rm@k (best of N by reward), rm-vote@k (votes weighted by reward) and a bootstrap interval.

They live in grading because every capability that samples (evals, improve) scores with them.
"""

from __future__ import annotations

from collections.abc import Sequence

from .equivalence import equivalent


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
    return _weighted_vote(preds[:k], [1.0] * len(preds[:k]))


def rm_vote_at_k(preds: Sequence[str | None], rewards: Sequence[float], k: int) -> str | None:
    """Reward-weighted voting among the first ``k``: each answer's weight is the sum, over the
    samples giving it, of the softmax of their rewards. The softmax is over the problem's ``k``
    samples, as the listwise reward model (``improve.reward``) is trained to score them, so a
    sample's weight is the model's probability that it is the right one; one confident sample
    can then outvote several doubtful ones, where a plain vote counts them all alike."""
    import math

    scores = list(rewards[:k])
    if not scores:
        return None
    top = max(scores)
    weights = [math.exp(r - top) for r in scores]
    return _weighted_vote(preds[:k], weights)


def _weighted_vote(preds: Sequence[str | None], weights: Sequence[float]) -> str | None:
    groups: list[list] = []  # [representative, weight], in order of first appearance
    for pred, weight in zip(preds, weights):
        if pred is None:
            continue
        for group in groups:
            if group[0] == pred or equivalent(group[0], pred):
                group[1] += weight
                break
        else:
            groups.append([pred, weight])
    if not groups:
        return None
    return max(groups, key=lambda g: g[1])[0]  # max keeps the first of equal weights


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
