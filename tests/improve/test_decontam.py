"""Decontamination: a shared 13-gram and a longest common subsequence over 0.6 of the shorter."""

from __future__ import annotations

import json
import random
import subprocess
import sys

from mathlens.improve import EvalText, Index, decontaminate
from mathlens.decontam import brute_force_match, lcs_ratio, words

BENCHMARK = (
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins "
    "for her friends every day with four. She sells the remainder at the farmers' market daily for $2 "
    "per fresh duck egg. How much in dollars does she make every day at the farmers' market?"
)
REWORDED = (
    "Janet's ducks lay 16 eggs per day! She eats three for breakfast every morning and bakes muffins "
    "for her friends every day with four. She then sells the rest at the farmers market each day for $3 "
    "per fresh duck egg. How many dollars does she make daily at the farmers' market?"
)
UNRELATED = "A train leaves at 3 pm and travels 60 miles per hour for two hours. How far does it go?"


def test_words_are_normalized_and_lcs_is_over_the_shorter():
    assert words("Janet's ducks: 16 eggs!") == ["janet", "s", "ducks", "16", "eggs"]
    assert lcs_ratio(["a", "b", "c"], ["a", "x", "c", "y", "z"]) == 2 / 3
    assert lcs_ratio([], ["a"]) == 0.0


def test_a_reworded_benchmark_question_is_dropped_and_an_unrelated_one_kept():
    index = Index([EvalText("gsm8k", BENCHMARK), EvalText("other", "What is 2 + 2?")])
    rows = [{"question": REWORDED}, {"question": UNRELATED}, {"prompt": BENCHMARK.upper()}]
    kept, report = decontaminate(rows, index)
    assert kept == [{"question": UNRELATED}]
    assert report.to_dict() == {"kept": 1, "dropped": 2, "by_source": {"gsm8k": 2}}


def test_a_shared_13_gram_alone_is_not_enough():
    """A long shared phrase in an otherwise different problem: LCS well under 0.6, kept."""
    phrase = "she eats three for breakfast every morning and bakes muffins for her friends every day"
    other = f"Tom counts the sheep in the field and {phrase}, then asks how many apples, pears and plums " \
            "remain in the seven baskets he carried to the old mill by the river on Sunday."
    assert words(phrase)[:13] and Index([EvalText("gsm8k", BENCHMARK)]).match(other) is None


def test_the_index_decides_as_brute_force_does():
    rng = random.Random(0)
    vocabulary = words(BENCHMARK + " " + UNRELATED) + [str(i) for i in range(50)]
    evals = [EvalText(f"s{i % 3}", " ".join(rng.choices(vocabulary, k=rng.randint(8, 40)))) for i in range(60)]
    index = Index(evals)
    train = []
    for i in range(300):
        base = words(rng.choice(evals).text)
        noisy = [w if rng.random() > 0.15 else rng.choice(vocabulary) for w in base]
        train.append(" ".join(noisy if i % 2 else rng.choices(vocabulary, k=25)))
    decisions = [index.match(t) for t in train]
    assert decisions == [brute_force_match(t, evals) for t in train]
    assert any(decisions) and not all(decisions)


def test_the_cli_reports_what_it_dropped(tmp_path):
    evals = tmp_path / "heldout.jsonl"
    evals.write_text(json.dumps({"question": BENCHMARK, "answer": "18"}) + "\n")
    data = tmp_path / "rft.jsonl"
    data.write_text("".join(json.dumps({"prompt": q, "completion": "x"}) + "\n" for q in (REWORDED, UNRELATED)))
    done = subprocess.run([sys.executable, "-m", "mathlens.cli", "decontaminate", str(data), "--against", str(evals)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "kept 1, dropped 1 (heldout 1)" in " ".join(done.stdout.split())
    assert [json.loads(line)["prompt"] for line in (tmp_path / "rft.clean.jsonl").read_text().splitlines()] == [UNRELATED]
