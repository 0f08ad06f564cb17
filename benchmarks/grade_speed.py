"""Grading speed: mathlens.grading.equivalent against plain math-verify parse + verify.

Pairs are drawn as an evaluation makes them (fixed seed): problems from every shared
benchmark, 8 sampled predictions each, graded against that problem's gold. A problem's
predictions come from a few candidates, as a model's samples do (that repetition is what
maj@k counts): the gold itself, the gold respelled (``$…$``, ``\\dfrac``), a near miss (a
number off by one), or another problem's gold. Both graders see the same pairs in the same
order, ``--repeats`` times, taking turns at going first; every cache (ours and sympy's) is
emptied before each timed run, after one untimed warm-up on other pairs. We quote median
pairs/s and the share of pairs on which they agree.

    python benchmarks/grade_speed.py [--n 10000 --repeats 3 --data-dir ../shared/data/benchmarks]

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import math_verify.parser
from math_verify import parse, verify
from sympy.core.cache import clear_cache

from mathlens.evals.problems import LOADERS, load_benchmark
from mathlens.grading import equivalence


def respell(gold: str) -> str:
    return gold.replace("\\frac", "\\dfrac") if "\\frac" in gold else f"${gold}$"


def near_miss(gold: str) -> str:
    try:
        return str(int(gold) + 1)
    except ValueError:
        return gold + "+1"


SAMPLES_PER_PROBLEM = 8


def make_pairs(n: int, data_dir: str | None, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    golds = {name: [p.answer for p in load_benchmark(name, data_dir)] for name in LOADERS}
    names = list(golds)
    pairs: list[tuple[str, str]] = []
    while len(pairs) < n:
        pool = golds[rng.choice(names)]
        gold = rng.choice(pool)
        candidates = [gold, respell(gold), near_miss(gold), rng.choice(pool)]
        weights = [rng.random() for _ in candidates]  # each problem its own mix, as models differ
        for pred in rng.choices(candidates, weights, k=SAMPLES_PER_PROBLEM):
            pairs.append((pred, gold))
    return pairs[:n]


def plain_math_verify(pairs: list[tuple[str, str]]) -> list[bool]:
    out = []
    for pred, gold in pairs:
        try:
            out.append(bool(verify(parse(f"${gold}$"), parse(f"${pred}$"))))
        except Exception:  # noqa: BLE001 - count an error as "not equal", as a harness would
            out.append(False)
    return out


def ours(pairs: list[tuple[str, str]]) -> list[bool]:
    return [equivalence.equivalent(gold, pred) for pred, gold in pairs]


def cold(fn):
    """Run ``fn`` with every cache emptied: ours, math-verify's small parse caches, sympy's."""

    def run(pairs):
        equivalence._math_verify.cache_clear()
        equivalence._parse.cache_clear()
        for cached in vars(math_verify.parser).values():
            if hasattr(cached, "cache_clear"):
                cached.cache_clear()
        clear_cache()
        return fn(pairs)

    return run


def timed(fn, pairs) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    verdicts = fn(pairs)
    return len(pairs) / (time.perf_counter() - start), verdicts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    pairs = make_pairs(args.n, args.data_dir)
    # Warm-up on other pairs, untimed: imports, and the LaTeX parser's prediction tables
    # (antlr fills them on first use), as a long evaluation run has them.
    warm = make_pairs(args.n // 10, args.data_dir, seed=1)
    ours(warm)
    plain_math_verify(warm)
    # Numeric golds (integers, decimals, fractions) take the fast path; the rest go to sympy.
    numeric = [pair for pair in pairs if equivalence.as_rational(equivalence.normalize(pair[1])) is not None]
    symbolic = [pair for pair in pairs if equivalence.as_rational(equivalence.normalize(pair[1])) is None]
    graders = {"ours": cold(ours), "theirs": cold(plain_math_verify)}
    rates: dict[str, list[float]] = {f"{who}{part}": [] for who in graders for part in ("", "_num", "_sym")}
    verdicts: dict[str, list[bool]] = {}
    for repeat in range(args.repeats):
        order = list(graders) if repeat % 2 == 0 else list(reversed(graders))  # neither always first
        for who in order:
            rate, verdicts[who] = timed(graders[who], pairs)
            rates[who].append(rate)
            for part, name in ((numeric, "_num"), (symbolic, "_sym")):
                rates[f"{who}{name}"].append(timed(graders[who], part)[0])
        print(f"mathlens {rates['ours'][-1]:,.0f} pairs/s, math-verify {rates['theirs'][-1]:,.0f} pairs/s", flush=True)
    ours_verdicts, their_verdicts = verdicts["ours"], verdicts["theirs"]
    agree = sum(a == b for a, b in zip(ours_verdicts, their_verdicts)) / len(pairs)
    disagreements = [(pair, a, b) for pair, a, b in zip(pairs, ours_verdicts, their_verdicts) if a != b]
    for (pred, gold), a, b in disagreements[:5]:
        print(f"differ: pred={pred!r} gold={gold!r} mathlens={a} math-verify={b}")
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(
        f"numeric golds: {len(numeric)} pairs, mathlens {med['ours_num']:,.0f}/s vs {med['theirs_num']:,.0f}/s; "
        f"symbolic golds: {len(symbolic)} pairs, mathlens {med['ours_sym']:,.0f}/s vs {med['theirs_sym']:,.0f}/s"
    )
    print(
        f"pairs={len(pairs)} mathlens_pairs_per_s={med['ours']:.1f} math_verify_pairs_per_s={med['theirs']:.1f} "
        f"ratio={med['ours'] / med['theirs']:.2f} agreement={agree:.4f} "
        f"ratio_numeric={med['ours_num'] / med['theirs_num']:.1f} ratio_symbolic={med['ours_sym'] / med['theirs_sym']:.2f}"
    )


if __name__ == "__main__":
    main()
