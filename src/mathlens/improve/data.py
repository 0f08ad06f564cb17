"""A round's training data: rejection-sampled, decontaminated, balanced, then mixed with the rest.

``data.jsonl`` holds what round r's samples gave; ``train.jsonl`` what round r trains on: the
seed's labelled rows and this round's data, or every round's so far (``accumulate``).
``data_report.json`` says how many rows each step kept and why the others went.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ..records import SampleRow, read_jsonl, read_sample_rows, write_jsonl
from .config import LoopConfig
from ..decontam import Index, decontaminate
from .difficulty import balanced_mix, bucket, held_out_error, pass_rate
from .rft import RFTConfig, rft_rows


SCORED = "rm/samples.jsonl"  # the pool samples with the round's reward-model scores (the rm stage's file)


def pool_samples(folder: Path) -> list[SampleRow]:
    """A round's pool samples: as the rm stage scored them, where it did, else as sampled."""
    scored = folder / SCORED
    return read_sample_rows(scored if scored.exists() else folder / "samples.jsonl")


def round_data(cfg: LoopConfig, out: Path, r: int, index: Index) -> dict:
    """Write ``round-r/data.jsonl``, ``train.jsonl`` and ``data_report.json``; the report."""
    folder = out / f"round-{r}"
    samples = pool_samples(folder)
    d, s = cfg.data, cfg.sampling
    sampler = cfg.model or f"round-{r - 1}/model"
    rft = RFTConfig(d.max_per_problem, d.min_agreement, True, r, sampler, s.temperature, cfg.reward.rm_select)
    rates = {row.id: pass_rate(row) for row in samples}
    selected = list(rft_rows(samples, rft))
    kept, contamination = decontaminate(selected, index, "prompt")
    mixed = balanced_mix(kept, rates, d.per_bucket, seed=cfg.seed + r) if d.per_bucket else kept
    write_jsonl(folder / "data.jsonl", mixed)
    buckets = [bucket(rate) for rate in rates.values() if rate is not None]
    report = {
        "problems": len(samples),
        "solved_share": sum(1 for rate in rates.values() if rate) / max(1, len(samples)),
        "sample_accuracy": sum(rate or 0.0 for rate in rates.values()) / max(1, len(samples)),
        "by_bucket": {str(b): buckets.count(b) for b in (None, 0, 1, 2, 3)},
        "rft_rows": len(selected),
        "decontaminated": dict(contamination.dropped),
        "rows": len(mixed),
    }
    levels = Counter(str(row.meta["level"]) for row in samples if "level" in row.meta)
    if levels:  # which levels the round sampled (one, where the pool is drawn at the frontier)
        report["pool_levels"] = dict(sorted(levels.items()))
    rated = [(row.question, rate) for row in samples if (rate := rates[row.id]) is not None]
    if len(rated) >= 20:  # how well the problem text alone predicts the pass rate, on held-out problems
        report["pass_rate_predictor"] = held_out_error([t for t, _ in rated], [p for _, p in rated], seed=cfg.seed)
    train_rows = seed_rows(out)
    for earlier in range(1 if d.accumulate else r, r + 1):
        train_rows += [row for _, row in read_jsonl(out / f"round-{earlier}" / "data.jsonl")]
    write_jsonl(folder / "train.jsonl", train_rows)
    report["train_rows"] = len(train_rows)
    (folder / "data_report.json").write_text(json.dumps(report, indent=1))
    return report


def seed_rows(out: Path) -> list[dict]:
    """The world's labelled solutions as SFT rows (none when the problems come from files)."""
    return [
        {"prompt": row["question"], "completion": row["solution"], "problem": {"benchmark": "seed", "id": row["id"]},
         "provenance": {"round": 0, "label": "labelled"}}  # fmt: skip
        for _, row in read_jsonl(out / "seed.jsonl")
    ]
