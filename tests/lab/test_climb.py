"""Easy-to-hard rounds on length: the padded format, the filters, the frontier schedule, the mix,
and a real two-round run of every arm at a tiny budget."""

from __future__ import annotations

import json
import random

import pytest

from mathlens.errors import MathlensError
from mathlens.formats import Padded
from mathlens.lab.climb import ClimbConfig, run_climb
from mathlens.lab.self_labels import half_and_half, majority, next_frontier, right_length, verified_label, vote_label
from mathlens.records import read_jsonl
from mathlens.tasks import make_task


def test_padded_fixes_the_answer_length_by_the_prompt():
    fmt, task = Padded(), make_task("addition")
    assert fmt.prompt(task, 59, 13) == "95+31="
    assert fmt.target(task, 59, 13) == "270"  # 72, padded to three digits, reversed
    assert fmt.target(task, 99, 1) == "001"  # 100: the longer operand's length plus one
    assert fmt.read("270") == "72" and fmt.read("000") == "0"
    assert fmt.read("2x0") is None


def test_right_length_reads_the_prompt():
    assert right_length("270", 59, 13)
    assert not right_length("27", 59, 13)  # the final carry's place left out
    assert not right_length("2700", 59, 13)
    assert not right_length("27a", 59, 13)


def test_majority_and_vote():
    assert majority(["12", "13", "12"]) == ("12", pytest.approx(2 / 3))
    assert majority(["13", "12"])[0] == "13"  # ties: the first seen
    # 3 of 5 agree on a right-length answer: kept at 60%, not at 80%
    samples = ["270", "270", "271", "270", "27"]
    assert vote_label(samples, 59, 13, 0.6) == ("270", pytest.approx(0.6), True)
    assert vote_label(samples, 59, 13, 0.8)[2] is False
    # the majority has the wrong length: never kept
    assert vote_label(["27", "27", "270"], 59, 13, 0.5) == ("27", pytest.approx(2 / 3), False)


def test_verified_keeps_the_reference_when_any_sample_gives_it():
    assert verified_label(["271", "270", "271"], "270") == ("270", pytest.approx(1 / 3), True)
    label, _, kept = verified_label(["271", "271"], "270")
    assert (label, kept) == ("271", False)


def test_frontier_moves_only_when_enough_was_kept():
    assert next_frontier(6, 200, 1000, 0.2) == 7
    assert next_frontier(6, 199, 1000, 0.2) == 6
    assert next_frontier(6, 0, 0, 0.0) == 6  # nothing labelled: nowhere to go


def test_half_and_half():
    newest, before = ["new"] * 3, ["old"] * 50
    mix = half_and_half(newest, before, 100, random.Random(0))
    assert mix.count("new") == 50 and mix.count("old") == 50
    assert half_and_half([], before, 10, random.Random(0)) == ["old"] * 10
    with pytest.raises(MathlensError):
        half_and_half(newest, [], 10, random.Random(0))


def tiny(out, **overrides) -> ClimbConfig:
    settings = dict(out=str(out), seeds=(0,), rounds=2, schemes=("coupled",), seed_digits=2, test_digits=4,
                    seed_min=0.0, n_seed=60, n_round=24, n_test=8, k=3, seed_steps=40, steps=10, batch_size=16,
                    n_layer=1, n_embd=32, workers=1)  # fmt: skip
    return ClimbConfig(**{**settings, **overrides})


def labels(out, arm: str, r: int) -> list[dict]:
    return [row for _, row in read_jsonl(out / "seed-0" / arm / f"round-{r}" / "labels.jsonl")]


def test_two_rounds_of_every_arm(tmp_path):
    """Each arm labels and filters as it says; the frontier moves a digit a round where labels
    are kept and stays where none are; a second run reads every round back."""
    out = tmp_path / "climb"
    summary = run_climb(tiny(out), progress=False)
    for arm in ("verified", "vote", "ensemble", "unfiltered", "control"):
        assert len(summary["mean"][arm]) == 3  # the seed and two rounds
    # unfiltered: every greedy label kept, one digit further each round
    assert {row["digits"] for row in labels(out, "unfiltered", 1)} == {3}
    assert {row["digits"] for row in labels(out, "unfiltered", 2)} == {4}
    assert all(row["kept"] for row in labels(out, "unfiltered", 2))
    metrics = json.loads((out / "seed-0" / "unfiltered" / "round-2" / "metrics.json").read_text())
    assert metrics["frontier"] == 4 and set(metrics["accuracy"]) == {"1", "2", "3", "4"}
    # verified: only reference answers kept; vote: only agreed answers of the right length
    for row in labels(out, "verified", 1):
        assert not row["kept"] or row["label"] == row["truth"]
    for row in labels(out, "vote", 1):
        assert not row["kept"] or (row["agreement"] >= 0.6 and len(row["label"]) == 4)
    # the ensemble: three models trained apart, a label kept only where all three agree
    for row in labels(out, "ensemble", 1):
        assert not row["kept"] or row["agreement"] == 1.0
    assert {row["agreement"] for row in labels(out, "ensemble", 1)} <= {1 / 3, 2 / 3, 1.0}
    members = json.loads((out / "seed-0" / "ensemble" / "round-2" / "metrics.json").read_text())["members"]
    assert len(members) == 3 and all((out / "seed-0" / "ensemble" / "round-2" / f"model-{m}" / "ckpt.pt").exists() for m in range(3))
    # ... and those labels are the three seed models' own greedy answers, voted
    from mathlens.lab.climb import complete_sums
    from mathlens.models import load_model

    first = labels(out, "ensemble", 1)[:6]
    pairs = [(row["a"], row["b"]) for row in first]
    seeds = [out / "seed-0" / name / "ckpt.pt" for name in ("seed-coupled", "seed-coupled-1", "seed-coupled-2")]
    answers = [[group[0] for group in complete_sums(*load_model(p)[:2], pairs)] for p in seeds]
    for row, votes in zip(first, zip(*answers)):
        assert (row["label"], row["agreement"]) == majority(list(votes))
    # the control trains on the seed's lengths, with reference answers
    assert all(row["digits"] <= 2 and row["label"] == row["truth"] for row in labels(out, "control", 2))
    # resumed: nothing is redone
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != "climb.json"}
    again = run_climb(tiny(out), progress=False)
    assert again["mean"] == summary["mean"]
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items() if p.name not in ("climb.png", "config.json", "provenance.json"))


def test_a_filter_that_keeps_nothing_holds_the_frontier(tmp_path):
    out = tmp_path / "climb"
    run_climb(tiny(out, arms=("vote",), agreement=1.0, k=3, temperature=5.0), progress=False)
    first, second = labels(out, "vote", 1), labels(out, "vote", 2)
    kept = sum(row["kept"] for row in first)
    assert kept / len(first) < 0.2  # at temperature 5 three samples rarely agree
    assert {row["digits"] for row in second} == {3}  # so round 2 tries 3 digits again


def test_preflight_stops_when_no_scheme_passes(tmp_path):
    with pytest.raises(MathlensError, match="no scheme passed the pre-flight"):
        run_climb(tiny(tmp_path / "climb", seed_min=1.0, rounds=1), progress=False)
    flight = json.loads((tmp_path / "climb" / "seed-0" / "preflight.json").read_text())
    assert flight["scheme"] is None and flight["tried"][0]["scheme"] == "coupled"


def test_bad_settings_say_what_is_wrong():
    with pytest.raises(MathlensError, match="hints"):
        ClimbConfig(schemes=("hints",))
    with pytest.raises(MathlensError, match="test_digits"):
        ClimbConfig(seed_digits=6, test_digits=6)


@pytest.mark.parametrize("name", ["climb_addition.yaml", "climb_addition_gpu.yaml"])
def test_shipped_configs_resolve(name):
    from pathlib import Path

    from mathlens.config import resolve

    cfg = resolve(ClimbConfig, Path(__file__).resolve().parents[2] / "configs" / name)
    assert cfg.arms == ("verified", "vote", "ensemble", "unfiltered", "control") and cfg.test_digits >= 2 * cfg.seed_digits
