"""How hard a problem is for the policy, and a training mix balanced across difficulty.

A problem's difficulty is 1 − its pass rate over the k samples drawn for it. Problems the
policy always or never solves teach it little; the mix draws the same number of solutions from
each difficulty bucket in between (the report uses a difficulty-scoring model for this). For
problems nobody has sampled yet, ``PassRatePredictor`` fits pass rate from the problem's words
(ridge regression on hashed word and number-size features): a cheap stand-in for the report's
scoring model, whose held-out error says how far to trust it.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..records import SampleRow

_TOKEN = re.compile(r"[a-z]+|\d+")


def pass_rate(row: SampleRow) -> float | None:
    """The share of a problem's graded samples that are right; None if none is graded."""
    return row.pass_rate


def bucket(rate: float, buckets: int = 4) -> int | None:
    """0 (easiest) … buckets−1 (hardest) for a pass rate strictly between 0 and 1; None outside."""
    if rate <= 0.0 or rate >= 1.0:
        return None
    return min(buckets - 1, int((1.0 - rate) * buckets))


def balanced_mix(rows: Sequence[dict], rates: dict[str, float], per_bucket: int, buckets: int = 4,
                 seed: int = 0) -> list[dict]:  # fmt: skip
    """At most ``per_bucket`` SFT rows from each difficulty bucket; ``rates`` maps a row's
    problem id to its pass rate. Rows of always- or never-solved problems are left out."""
    by_bucket: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        rate = rates.get(str(row["problem"]["id"]))
        b = bucket(rate, buckets) if rate is not None else None
        if b is not None:
            by_bucket[b].append(row)
    rng = random.Random(seed)
    mix = []
    for b in sorted(by_bucket):
        group = by_bucket[b]
        mix += rng.sample(group, min(per_bucket, len(group)))
    return mix


@dataclass
class PassRatePredictor:
    """Ridge regression from hashed words (and the size of the numbers) to pass rate."""

    dims: int = 1024
    alpha: float = 1.0
    weights: np.ndarray | None = None

    def features(self, texts: Sequence[str]) -> np.ndarray:
        x = np.zeros((len(texts), self.dims + 2))
        for i, text in enumerate(texts):
            tokens = _TOKEN.findall(text.lower())
            for token in tokens:
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little")
                x[i, h % self.dims] += 1.0
            digits = [len(t) for t in tokens if t.isdigit()]
            x[i, self.dims] = max(digits, default=0)  # the largest number's size
            x[i, self.dims + 1] = len(tokens) / 50
        return np.hstack([x, np.ones((len(texts), 1))])

    def fit(self, texts: Sequence[str], rates: Sequence[float]) -> PassRatePredictor:
        x, y = self.features(texts), np.asarray(rates, dtype=float)
        self.weights = np.linalg.solve(x.T @ x + self.alpha * np.eye(x.shape[1]), x.T @ y)
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        if self.weights is None:
            raise ValueError("fit the predictor first")
        return np.clip(self.features(texts) @ self.weights, 0.0, 1.0)


def held_out_error(texts: Sequence[str], rates: Sequence[float], share: float = 0.2, seed: int = 0) -> dict:
    """Fit on most problems, predict the rest: mean absolute error against always guessing
    the mean, and the correlation of predicted with observed pass rate."""
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    cut = max(1, int(len(order) * share))
    test, train = order[:cut], order[cut:]
    model = PassRatePredictor().fit([texts[i] for i in train], [rates[i] for i in train])
    predicted = model.predict([texts[i] for i in test])
    observed = np.asarray([rates[i] for i in test])
    baseline = np.full_like(observed, np.mean([rates[i] for i in train]))
    corr = float(np.corrcoef(predicted, observed)[0, 1]) if observed.std() > 0 and predicted.std() > 0 else 0.0
    return {"mae": float(np.abs(predicted - observed).mean()), "mae_mean_guess": float(np.abs(baseline - observed).mean()),
            "correlation": corr, "held_out": len(test)}  # fmt: skip
