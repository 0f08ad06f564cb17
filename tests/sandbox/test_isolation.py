"""One sample's code cannot change what another sample's code computes on the same warm runner.

Poisoning snippets (module attributes, class methods, ``sys.modules`` entries, builtins,
module-level caches, library settings; plainly and by the detours a static check could miss)
run interleaved with probes on one worker; every probe's output must equal what it prints in
a fresh Python process.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from mathlens.sandbox import Sandbox
from mathlens.sandbox.shared_state import touches_shared_state

PROBES = {
    "pi": "import math\nprint(math.pi)",
    "solve": "from sympy import solve, symbols\nx = symbols('x')\nprint(solve(x - 1, x))",
    "fraction": "from fractions import Fraction\nprint(Fraction(1, 2) + Fraction(1, 3))",
    "print": "print(abs(-2), len('abc'))",
    "regex": "import re\nprint(re.findall('b+', 'abbbc'))",
    "numpy": "import numpy as np\nprint(np.array([1 / 3]))",
    "mpmath": "import mpmath\nprint(mpmath.mpf(1) / 3)",
    "digits": "try:\n    print(len(str(10**5000)))\nexcept ValueError as e:\n    print('limit')",
    "rational": "import sympy\nprint(sympy.Rational(1, 2) + sympy.Rational(1, 3))",
    "sqrt": "import math\nprint(math.sqrt(16))",
    "evaluate": "import sympy\nx = sympy.Symbol('x')\nprint(x + x)",
}

POISONS = {
    "module attribute": "import math\nmath.pi = 3",
    "library function": "import sympy\nsympy.solve = lambda *a, **k: [42]",
    "class method": "from fractions import Fraction\nFraction.__add__ = lambda a, b: 0",
    "sys.modules entry": "import sys, types\nfake = types.ModuleType('math')\nfake.pi = 3\nsys.modules['math'] = fake",
    "builtins": "import builtins\nbuiltins.abs = lambda x: 99\nbuiltins.len = lambda x: -1",
    "__builtins__": "__builtins__.abs = lambda x: 98",
    "module-level cache": "import re\nre._cache[(str, 'b+', 0)] = re.compile('c')",
    "numpy print options": "import numpy as np\nnp.set_printoptions(precision=1)",
    "mpmath precision": "import mpmath\nmpmath.mp.dps = 50",
    "int digits": "import sys\nsys.set_int_max_str_digits(0)",
    "sympy evaluate flag": "from sympy.core.parameters import global_parameters\nglobal_parameters.evaluate = False",
    "through exec": "exec('import math; math.pi = 3')",
    "through setattr": "import math as m\nsetattr(m, 'sqrt', lambda x: -1)",
    "computed getattr": "import re\nc = getattr(re, '_ca' + 'che')\nc[(str, 'b+', 0)] = re.compile('c')",
    "alias of sys.modules": "import importlib\nmods = importlib.sys.modules\nmods['math'] = mods['cmath']",
    "alias of a class": "import sympy\nR = sympy.Rational\nR.__add__ = lambda a, b: 7",
    "dict of a module": "import math\nd = vars(math)\nd['pi'] = 4",
}


def fresh(code: str) -> str:
    """What the probe prints in a Python process of its own."""
    return subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=120).stdout


@pytest.fixture(scope="module")
def expected() -> dict[str, str]:
    return {name: fresh(code) for name, code in PROBES.items()}


def test_no_poison_reaches_a_later_probe_on_the_same_worker(expected):
    with Sandbox(workers=1, timeout=20) as box:  # one worker: every snippet on the same runner line
        for poison_name, poison in POISONS.items():
            box.run(poison)
            for name, probe in PROBES.items():
                got = box.run(probe).stdout
                assert got == expected[name], f"after {poison_name!r}, probe {name!r} printed {got!r}"


def test_a_poison_the_static_check_misses_is_caught_after_it_ran(expected):
    """Send a poison without the caller's flag: the worker's own check must recycle the runner."""
    from mathlens.sandbox import pool

    with Sandbox(workers=1, timeout=20) as box, pytest.MonkeyPatch.context() as patch:
        patch.setattr(pool, "touches_shared_state", lambda cells: False)
        for poison in (POISONS["module attribute"], POISONS["class method"], POISONS["numpy print options"],
                       POISONS["library function"], POISONS["sys.modules entry"], POISONS["mpmath precision"]):
            box.run(poison)
            for name in ("pi", "fraction", "numpy", "solve", "mpmath"):
                assert box.run(PROBES[name]).stdout == expected[name], (poison, name)


@pytest.mark.parametrize("code", list(POISONS.values()), ids=list(POISONS))
def test_every_poison_is_flagged_before_it_runs(code):
    assert touches_shared_state([code])


@pytest.mark.parametrize(
    "code",
    [
        "from sympy import symbols, solve\nx = symbols('x')\nprint(solve(x**2 - 4, x))",
        "import math\nprint(math.comb(10, 3) * math.pi)",
        "from fractions import Fraction\ntotal = sum(Fraction(1, k) for k in range(1, 10))\nprint(total)",
        "xs = []\nfor i in range(10):\n    xs.append(i * i)\nprint(sum(xs))",
        "import numpy as np\nprint(np.linalg.solve([[2, 1], [1, 3]], [3, 5]))",
        "d = {}\nd['a'] = 1\nprint('=' * 20, '__' * 3)",
        "from sympy import Rational, sqrt, simplify\nprint(simplify(sqrt(8) * Rational(1, 2)))",
    ],
)
def test_typical_tir_code_keeps_its_warm_runner(code):
    assert not touches_shared_state([code])
