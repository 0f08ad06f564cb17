"""The word-problem world: levels chain that many operations, answers follow from the story."""

import re
import subprocess
import sys

import pytest

from mathlens.errors import MathlensError
from mathlens.tasks.word_problems import WorldConfig, word_problems


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_a_level_chains_that_many_steps_among_that_many_minus_one_distractors(level):
    for row in word_problems(30, seed=level, levels=(level,)):
        steps = re.findall(r"(\d+)([-+*])(\d+)=(\d+)\.", row["solution"])
        assert len(steps) == level
        value = int(steps[0][0])
        for a, op, b, c in steps:  # each step starts where the last one ended, and is right
            assert int(a) == value and eval(f"{a}{op}{b}") == int(c) >= 0
            value = int(c)
        assert row["answer"] == str(value) and row["solution"].endswith(f"\\boxed{{{value}}}.")
        owner = row["question"].split()[0]
        *told, asked = row["question"].split(". ")
        assert asked.startswith("How many") and asked.endswith(f"does {owner} have?")
        assert sum(not s.startswith(owner) for s in told) == level - 1  # the distractors


def test_numbers_grow_with_the_level_and_distractors_can_be_turned_off():
    high = [max(int(n) for r in word_problems(200, 0, (lvl,)) for n in re.findall(r"\d+", r["question"])) for lvl in (1, 4)]
    assert high[0] <= 10 < high[1] <= 25
    plain = word_problems(20, 0, (3,), world=WorldConfig(distractors=False))
    assert all(len(r["question"].split(". ")) == 5 for r in plain)  # the start, three steps and the question


def test_tir_solutions_are_programs_that_print_the_answer():
    for row in word_problems(12, seed=5, style="tir"):
        code = re.search(r"```python\n(.*?)```", row["solution"], re.S).group(1)
        printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert printed.strip() == row["answer"]
        assert f"```output\n{row['answer']}\n```" in row["solution"]


def test_the_same_seed_gives_the_same_world_and_bad_knobs_are_errors():
    assert word_problems(20, seed=3) == word_problems(20, seed=3) != word_problems(20, seed=4)
    with pytest.raises(MathlensError, match="level 5"):
        word_problems(1, levels=(5,))
    with pytest.raises(MathlensError, match="style"):
        word_problems(1, style="essay")
