"""Load: 20,000 snippets, 5% hostile, mixed in; every benign result right, none lost.

Slow (minutes): ``pytest -m slow tests/test_sandbox_load.py``.
"""

from __future__ import annotations

import random
import time
from fractions import Fraction

import pytest

from mathlens.sandbox import Sandbox

HOSTILE = [
    "while True: pass",
    "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    "x = bytearray(50 * 10**9)",
    "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
    "import os\nos._exit(1)",
    "import subprocess\nsubprocess.Popen(['sleep', '1000'])",
    "import sys\nfor _ in range(1000):\n    sys.stdout.write('x' * 10**6)",
    "import ctypes\nctypes.string_at(0)",
    "import os, signal\nos.kill(-1, signal.SIGKILL)",
    "input()",
]


def benign(rng: random.Random) -> tuple[str, str]:
    """A typical TIR snippet and the text it must show (stdout, or a trailing value's repr)."""
    a, b, c = rng.randint(1, 10**6), rng.randint(1, 10**6), rng.randint(1, 999)
    kind = rng.randrange(4)
    if kind == 0:
        return f"print({a} * {b} + {c})", f"{a * b + c}"
    if kind == 1:
        return f"x = {a}\ny = {b}\nx % {c} + y", f"{a % c + b}"
    if kind == 2:
        return f"from fractions import Fraction\nprint(Fraction({a}, {c}) - {b})", f"{Fraction(a, c) - b}"
    r, s = rng.randint(1, 30), rng.randint(1, 30)
    code = f"from sympy import symbols, solve\nx = symbols('x')\nprint(sorted(solve(x**2 - {r + s}*x + {r * s}, x)))"
    return code, f"{sorted({r, s})}"


@pytest.mark.slow
def test_twenty_thousand_snippets_with_hostile_ones_mixed_in():
    rng = random.Random(0)
    snippets, expected = [], []
    for _ in range(20_000):
        code, want = (rng.choice(HOSTILE), None) if rng.random() < 0.05 else benign(rng)
        snippets.append(code)
        expected.append(want)
    start = time.monotonic()
    with Sandbox(workers=2, timeout=0.5, memory_mb=256) as box:
        results = box.run_many(snippets)
    seconds = time.monotonic() - start
    assert len(results) == len(snippets)
    wrong = [
        (s, r)
        for s, r, want in zip(snippets, results, expected)
        if want is not None and not (r.ok and r.output == want)
    ]
    assert not wrong, f"{len(wrong)} benign snippets wrong, e.g. {wrong[:3]}"
    hostile = [r for r, want in zip(results, expected) if want is None]
    print(f"{len(snippets)} snippets ({len(hostile)} hostile) in {seconds:.0f} s, {len(snippets) / seconds:.0f}/s")
