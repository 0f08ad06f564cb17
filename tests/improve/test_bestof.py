"""A best-of-k study: the policy stays round 0's, the reward model is trained and compared with
the vote at several k, on a world with sentences the policy misreads the same way."""

import json
import random
import re
from dataclasses import replace

import pytest

from mathlens.config import resolve
from mathlens.errors import MathlensError
from mathlens.improve import LoopConfig, run_loop
from mathlens.grading.summary import boxed_is_printed
from mathlens.records import Sample
from mathlens.tasks.word_problems import ONE_KNOB, word_problem


def test_a_trap_tells_one_addition_as_someone_elses_act():
    rng, trapped = random.Random(0), 0
    for _ in range(200):
        p = word_problem(2, rng, "tir", replace(ONE_KNOB, trap=1.0))
        adds = p["solution"].count("x = x + ")
        assert p.get("trap", False) == (adds > 0)  # a problem without an addition has nothing to trap
        if p.get("trap"):
            trapped += 1
            told = re.search(r"(\w+) gives (\w+) (\d+) more\.", p["question"])
            assert told and told[1] != told[2] and f"x = x + {told[3]}" in p["solution"]
    assert trapped > 50


def test_the_rule_verifier_wants_the_boxed_answer_the_program_printed():
    ran = [{"code": "print(8)", "output": "8\n"}]
    assert boxed_is_printed(Sample("…", "8", True, tool_calls=ran))
    assert not boxed_is_printed(Sample("…", "9", False, tool_calls=ran))  # says other than it printed
    assert not boxed_is_printed(Sample("…", "8", True))  # ran no program
    assert not boxed_is_printed(Sample("…", "8", True, tool_calls=[{"code": "x", "output": ""}]))


def test_a_study_without_sft_keeps_round_0s_policy_and_compares_picks_by_k(tmp_path):
    out = tmp_path / "bestof"
    cfg = resolve(LoopConfig, None, out=str(out), rounds=1, sft=False, trap=0.5, n_seed=30, n_pool=12, n_heldout=16,
                  seed_steps=20, k=4, eval_n=4, n_layer=1, n_embd=32, max_tokens=40, rm_steps=3, grpo="none",
                  levels=[1, 2])  # fmt: skip
    rounds = run_loop(cfg, progress=False)
    assert "train" not in json.loads((out / "round-1" / "stages.json").read_text())
    assert not (out / "round-1" / "model").exists()
    completions = [[json.loads(line)["samples"] for line in (out / f"round-{r}" / "eval" / "samples.jsonl").open()]
                   for r in (0, 1)]  # fmt: skip
    strip = [[[s["completion"] for s in row] for row in rows] for rows in completions]
    assert strip[0] == strip[1]  # the same policy, the same seeds: the same samples, now scored
    seed = [json.loads(line) for line in (out / "seed.jsonl").read_text().splitlines()]
    heldout = [json.loads(line) for line in (out / "heldout.jsonl").read_text().splitlines()]
    assert not any(p.get("trap") for p in seed) and any(p.get("trap") for p in heldout)
    curves = rounds[1]["by_k"]
    assert set(curves) == {"all", "trap", "no trap"}
    assert set(curves["all"]["4"]) == {"maj@4", "rm@4", "rm-vote@4", "rm-maj@4", "rule-vote@4"}
    assert (out / "round-1" / "eval" / "by_k.png").stat().st_size > 10_000
    with pytest.raises(MathlensError, match="cannot run GRPO"):
        resolve(LoopConfig, None, sft=False, grpo="last")
