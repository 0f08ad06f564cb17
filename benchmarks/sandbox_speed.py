"""Sandbox throughput on typical TIR snippets: in-process exec, a fresh subprocess each, mathlens.

The same ``--n`` snippets (arithmetic, fractions, math, sympy solve/factor/simplify, with
random numbers, fixed seed) run three ways in one process:

- ``exec``: in this interpreter, one after another, stdout captured (the unsafe upper bound);
- ``naive``: one ``python -I -c`` per snippet, ``--workers`` at a time (the naive safe baseline);
- ``ours``: ``mathlens.sandbox.Sandbox(workers=--workers)``.

``exec`` and ``ours`` run ``--repeats`` times and we quote the median rate; ``naive`` runs once
(it takes minutes). Every way's outputs are compared with ``exec``'s.

    python benchmarks/sandbox_speed.py [--n 2000 --workers 2 --repeats 3]

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from mathlens.sandbox import Sandbox

TEMPLATES = [
    "print({a} * {b} + {c})",
    "x = {a}\ny = {b}\nprint(x**2 + y**2 - {c})",
    "from fractions import Fraction\nprint(Fraction({a}, {b}) + Fraction({c}, {d}))",
    "import math\nprint(math.comb({n}, {k}), math.gcd({a}, {b}))",
    "print(sum(i * i for i in range({a})))",
    "total = 0\nfor i in range(1, {n} + 1):\n    if i % 3 == 0 or i % 5 == 0:\n        total += i\nprint(total)",
    "from sympy import symbols, solve\nx = symbols('x')\nprint(solve(x**2 - {s}*x + {p}, x))",
    "from sympy import factorint\nprint(sorted(factorint({big}).items()))",  # dict order varies with rho
    "from sympy import Rational, simplify\nprint(simplify(Rational({a}, {b}) + Rational({c}, {d})))",
    "from sympy import isprime, nextprime\nprint(isprime({big}), nextprime({a}))",
]


def make_snippets(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    snippets = []
    for i in range(n):
        r1, r2 = rng.randint(1, 30), rng.randint(1, 30)
        values = {
            "a": rng.randint(1, 999), "b": rng.randint(1, 999), "c": rng.randint(1, 999), "d": rng.randint(1, 999),
            "n": rng.randint(10, 60), "k": rng.randint(1, 9), "s": r1 + r2, "p": r1 * r2,
            "big": rng.randint(10**5, 10**9),
        }  # fmt: skip
        snippets.append(TEMPLATES[i % len(TEMPLATES)].format(**values))
    return snippets


def run_in_process(snippets: list[str]) -> list[str]:
    outputs = []
    for code in snippets:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, "<snippet>", "exec"), {"__name__": "__main__"})
        outputs.append(buffer.getvalue())
    return outputs


def run_naive(snippets: list[str], workers: int) -> list[str]:
    def one(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-I", "-c", code],
            capture_output=True,
            text=True,
            env={"PATH": os.defpath},
            timeout=60,
            check=False,
        )
        return done.stdout

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, snippets))


def rate(n: int, fn) -> tuple[float, list[str]]:
    start = time.perf_counter()
    outputs = fn()
    return n / (time.perf_counter() - start), outputs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    snippets = make_snippets(args.n)
    import sympy  # noqa: F401 - the in-process upper bound starts warm, like the sandbox workers

    exec_rates, expected = [], None
    for _ in range(args.repeats):
        r, expected = rate(args.n, lambda: run_in_process(snippets))
        exec_rates.append(r)
    print(f"exec:  {statistics.median(exec_rates):,.0f} snippets/s (median of {args.repeats})", flush=True)

    ours_rates, ours_out = [], []
    with Sandbox(workers=args.workers, timeout=30.0) as box:
        level = box.level
        for _ in range(args.repeats):
            r, results = rate(args.n, lambda: box.run_many(snippets))
            ours_rates.append(r)
            ours_out = [res.stdout for res in results]
    print(
        f"ours:  {statistics.median(ours_rates):,.0f} snippets/s (median of {args.repeats}, isolation {level})",
        flush=True,
    )

    naive_rate, naive_out = rate(args.n, lambda: run_naive(snippets, args.workers))
    print(f"naive: {naive_rate:,.1f} snippets/s (one pass)", flush=True)

    ours_rate, exec_rate = statistics.median(ours_rates), statistics.median(exec_rates)
    ours_wrong = sum(o != e for o, e in zip(ours_out, expected))
    naive_wrong = [i for i, (o, e) in enumerate(zip(naive_out, expected)) if o != e]
    for i in naive_wrong[:3]:
        print(f"naive differs on {snippets[i]!r}: {naive_out[i]!r} vs exec {expected[i]!r}")
    print(
        f"n={args.n} workers={args.workers} level={level} exec_per_s={exec_rate:.1f} ours_per_s={ours_rate:.1f} "
        f"naive_per_s={naive_rate:.2f} ours_vs_naive={ours_rate / naive_rate:.1f} "
        f"ours_vs_exec={ours_rate / exec_rate:.3f} ours_mismatches={ours_wrong} naive_mismatches={len(naive_wrong)}"
    )


if __name__ == "__main__":
    main()
