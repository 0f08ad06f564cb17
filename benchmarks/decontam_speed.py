"""Decontamination speed: the 13-gram index against comparing with every evaluation problem.

The evaluation side is all 15 shared benchmarks (~15,000 problems). The training side is
``--n`` problems: word problems of the tiny world, and one in fifty a benchmark question
reworded (a sixth of its words replaced), which is what decontamination must catch. The index
decides every training problem; brute force (every pair: shared 13-gram, then LCS) decides a
``--sample`` of them, and both decisions must be identical there. Speeds are medians of
``--repeats``.

    python benchmarks/decontam_speed.py [--n 100000 --sample 200 --data-dir ../shared/data/benchmarks]

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from mathlens.evals.problems import LOADERS, load_benchmark
from mathlens.evals.words import word_problems
from mathlens.decontam import EvalText, Index, brute_force_match, words


def training_problems(n: int, evals: list[EvalText], seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    pool = [p["question"] for p in word_problems(min(n, 20_000), seed=seed)]
    out = []
    for i in range(n):
        if i % 50 == 0:
            tokens = words(rng.choice(evals).text)
            out.append(" ".join(w if rng.random() > 1 / 6 else rng.choice(tokens) for w in tokens))
        else:
            out.append(pool[i % len(pool)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    evals = [EvalText(name, p.question) for name in LOADERS for p in load_benchmark(name, args.data_dir)]
    train = training_problems(args.n, evals)
    start = time.perf_counter()
    index = Index(evals)
    build_s = time.perf_counter() - start
    speeds, decisions = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        decisions = [index.match(t) for t in train]
        speeds.append(len(train) / (time.perf_counter() - start))
    rng = random.Random(1)
    sample = rng.sample(range(len(train)), min(args.sample, len(train)))
    sample += [i for i in range(0, len(train), 50)][: args.sample // 4]  # reworded ones too
    start = time.perf_counter()
    brute = {i: brute_force_match(train[i], evals) for i in sample}
    brute_per_s = len(sample) / (time.perf_counter() - start)
    agree = sum(brute[i] == decisions[i] for i in sample)
    dropped = sum(d is not None for d in decisions)
    ours = statistics.median(speeds)
    print(f"evaluation problems {len(evals)}, index built in {build_s:.1f} s; dropped {dropped} of {len(train)}")
    print(
        f"n={len(train)} eval_problems={len(evals)} problems_per_s={ours:.0f} brute_force_per_s={brute_per_s:.2f} "
        f"ratio={ours / brute_per_s:.0f} sample={len(sample)} identical={agree == len(sample)} dropped={dropped}"
    )


if __name__ == "__main__":
    main()
