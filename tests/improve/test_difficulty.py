"""Difficulty from pass rates, a mix balanced across it, and a predictor for unsampled problems."""

from __future__ import annotations

import random

from mathlens.records import SampleRow
from mathlens.improve.difficulty import balanced_mix, bucket, held_out_error, pass_rate


def test_pass_rate_and_buckets():
    samples = [{"completion": "a", "correct": True}, {"completion": "b", "correct": False},
               {"completion": "c", "correct": True}, {"completion": "ungraded"}]  # fmt: skip
    row = SampleRow.from_dict({"id": 1, "question": "q", "gold": "1", "samples": samples}, "test", graded=False)
    assert pass_rate(row) == 2 / 3 and pass_rate(SampleRow("b", "2", "q", "1", [])) is None
    assert [bucket(r) for r in (0.0, 0.9, 0.6, 0.4, 0.1, 1.0)] == [None, 0, 1, 2, 3, None]


def test_the_mix_takes_as_many_from_each_bucket_and_skips_solved_and_unsolved():
    rates = {str(i): r for i, r in enumerate([0.9, 0.9, 0.9, 0.6, 0.1, 0.1, 1.0, 0.0])}
    rows = [{"problem": {"id": pid}, "completion": f"{pid}-{j}"} for pid in rates for j in range(3)]
    mix = balanced_mix(rows, rates, per_bucket=4, seed=0)
    by_bucket = {}
    for row in mix:
        by_bucket.setdefault(bucket(rates[row["problem"]["id"]]), []).append(row)
    assert {b: len(v) for b, v in by_bucket.items()} == {0: 4, 1: 3, 3: 4}
    assert not any(row["problem"]["id"] in ("6", "7") for row in mix)
    assert mix == balanced_mix(rows, rates, per_bucket=4, seed=0)  # deterministic by seed


def test_the_predictor_beats_guessing_the_mean_where_size_makes_problems_hard():
    rng = random.Random(0)
    texts, rates = [], []
    for _ in range(400):
        digits = rng.randint(1, 6)
        a, b = rng.randint(10 ** (digits - 1), 10**digits - 1), rng.randint(1, 9)
        texts.append(f"Sam has {a} apples and buys {b} more. How many apples does Sam have?")
        rates.append(max(0.0, min(1.0, 1.0 - digits / 6 + rng.uniform(-0.1, 0.1))))
    report = held_out_error(texts, rates)
    assert report["mae"] < 0.6 * report["mae_mean_guess"] and report["correlation"] > 0.8
