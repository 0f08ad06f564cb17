"""The word world climbed a level at a time: one knob per level, each round's pool at the frontier."""

import json
import random

import pytest

from mathlens.config import resolve
from mathlens.errors import MathlensError
from mathlens.improve import LoopConfig, run_loop
from mathlens.improve.loop import paired_gain
from mathlens.tasks.word_problems import ONE_KNOB, word_problem

TINY = dict(rounds=2, n_seed=30, n_pool=12, n_heldout=12, seed_steps=20, steps=10, k=2, eval_n=2, n_layer=1, n_embd=32,
            max_tokens=40, rm=False, grpo="none", seed_levels=[1], levels=[1, 2, 3], knob="ops", frontier=True)  # fmt: skip


def levels_of(path):
    return {json.loads(line)["level"] for line in path.read_text().splitlines()}


def test_one_knob_turns_only_the_number_of_operations():
    rng = random.Random(0)
    for level in (1, 2, 3, 4):
        distractors = set()
        for _ in range(50):
            p = word_problem(level, rng, "tir", ONE_KNOB)
            code = p["solution"].split("print")[0]
            assert code.count("x = x ") == level  # one line per operation
            distractors.add(code.count("y = "))
            numbers = [int(n) for line in code.splitlines() for n in line.split() if n.isdigit()]
            assert max(numbers) <= 10  # the range does not grow with the level
        assert distractors == {0, 1}  # at most one, at every level: a program's length is not its level


@pytest.mark.parametrize("advance_at, second", [(0.0, 3), (1.0, 2)])
def test_each_round_samples_fresh_problems_at_the_frontier(tmp_path, advance_at, second):
    out = tmp_path / "climb"
    rounds = run_loop(resolve(LoopConfig, None, out=str(out), advance_at=advance_at, **TINY), progress=False)
    assert levels_of(out / "round-1" / "pool.jsonl") == {2}  # one above the seed's levels
    assert levels_of(out / "round-2" / "pool.jsonl") == {second}  # up only after a round that solved enough
    assert rounds[2]["data"]["pool_levels"] == {str(second): 12}
    assert not (out / "pool.jsonl").exists() and levels_of(out / "heldout.jsonl") == {1, 2, 3}
    first = {json.loads(line)["question"] for line in (out / "round-1" / "pool.jsonl").read_text().splitlines()}
    again = {json.loads(line)["question"] for line in (out / "round-2" / "pool.jsonl").read_text().splitlines()}
    assert not first & again
    assert set(rounds[2]["gain_by_level"]) == {"1", "2", "3"} and set(rounds[0]["by_level_ci95"]) == {"1", "2", "3"}


def test_grpo_queries_are_fresh_problems_at_the_frontier(tmp_path):
    out = tmp_path / "grpo"
    settings = {**TINY, "grpo": "last", "rm": True, "rm_steps": 2}
    run_loop(resolve(LoopConfig, None, out=str(out), **settings, advance_at=0.0, grpo_steps=1, grpo_problems_per_step=2,
                     group_size=2, min_correct=0, max_correct=2, n_rl=5), progress=False)  # fmt: skip
    assert levels_of(out / "round-2" / "rl.jsonl") == {3} and not (out / "rl.jsonl").exists()
    assert not (out / "round-1" / "rl.jsonl").exists()  # only the round that runs GRPO draws its queries
    chosen = json.loads((out / "round-2" / "grpo" / "grpo_problems.json").read_text())
    assert chosen["sampled"] == 5


def test_frontier_refuses_problem_files_and_unknown_knobs():
    with pytest.raises(MathlensError, match="frontier draws"):
        resolve(LoopConfig, None, frontier=True, pool_file="p.jsonl", heldout_file="h.jsonl")
    with pytest.raises(MathlensError, match="knob 'numbers'"):
        resolve(LoopConfig, None, knob="numbers")
    for bad in ({"advance_at": 1.5}, {"trap": -0.1}, {"high": 1}):
        with pytest.raises(MathlensError, match="shares from 0 to 1"):
            resolve(LoopConfig, None, **bad)


def test_paired_gain_pairs_problems_and_splits_by_level():
    before = {"a": (0.0, "1"), "b": (0.5, "2"), "c": (1.0, "2"), "gone": (0.0, "1")}
    after = {"a": (1.0, "1"), "b": (1.0, "2"), "c": (0.5, "2"), "new": (1.0, "1")}
    gain = paired_gain(after, before)
    assert gain["all"][0] == pytest.approx(1.0 / 3)  # a +1, b +0.5, c -0.5; "gone" and "new" unpaired
    assert gain["by_level"]["1"][:3] == [1.0, 1.0, 1.0] and gain["by_level"]["2"][0] == 0.0


def test_a_recited_program_tells_each_sentence_above_its_line_and_still_prints_the_answer(capsys):
    from dataclasses import replace

    from mathlens.formats.tir import last_code_block

    rng = random.Random(1)
    for level in (1, 2, 3, 4):
        p = word_problem(level, rng, "tir", replace(ONE_KNOB, recite=True))
        code = last_code_block(p["solution"])
        comments = [line[2:] for line in code.splitlines() if line.startswith("# ")]
        assert " ".join(comments) == p["question"].split(" How many")[0]  # every sentence, in order
        exec(code, {})
        assert capsys.readouterr().out.strip() == p["answer"]
