"""Numbers too big to write down, refused before sympy is asked for their value.

math-verify compares ``9^{9^{9}}`` with ``5`` by having sympy evaluate both: 9 to the power
387,420,489, hundreds of millions of digits, and ``(10^{10})!`` is worse. Much of that work
is one long C call on Python integers, which no time limit (math-verify's signal, our
``deadline``) can interrupt: the call runs to its end however late that is. So before any
evaluation the parsed expressions are measured here, without computing anything large: an
upper bound on the digits of the largest exact number that evaluating them could build. Past
``MAX_DIGITS`` the pair is not compared (not equivalent, unless the two were written the same,
which ``equivalence`` settles first). A power, a factorial or a binomial builds big numbers only
with an exact base and exponent; floats stay at fixed precision and symbols are never expanded
into digits, so only exact numbers count.
"""

from __future__ import annotations

import math
from typing import Any

MAX_DIGITS = 100_000  # 10^100000 takes milliseconds to build; 1000000! (5.5 million digits) seconds

_LOG10_2 = math.log10(2)
_SERIES = ("Product", "Sum")
_FACTORIALS = ("factorial", "factorial2", "subfactorial", "gamma", "binomial", "RisingFactorial", "FallingFactorial")


def too_big(parsed: list[Any]) -> bool:
    """True when evaluating any of math-verify's parses could build a number past ``MAX_DIGITS``."""
    return any(digits(x) > MAX_DIGITS for x in parsed if not isinstance(x, str))


def digits(expr: Any) -> float:
    """An upper bound on log10 of the largest exact number evaluating ``expr`` may build."""
    from sympy import Float, Mul, Pow, Rational
    from sympy.matrices import MatrixBase

    if isinstance(expr, MatrixBase):
        return max((digits(x) for x in expr), default=0.0)
    if isinstance(expr, Rational):
        return max(_log10(expr.p), _log10(expr.q))
    if isinstance(expr, Float) or not getattr(expr, "args", ()):
        return 0.0  # floats keep their precision; symbols and constants are no digits
    if isinstance(expr, Pow):
        base, exp = digits(expr.base), digits(expr.exp)
        if expr.exp.has(Float) or expr.base.free_symbols:
            return max(base, exp)
        return max(base, exp, base * _value(exp) if base else 0.0)  # 1^{10^{100}} builds nothing
    if type(expr).__name__ in _SERIES:
        return _series(expr)
    if type(expr).__name__ in _FACTORIALS:
        n = _value(max(digits(a) for a in expr.args))
        return n * math.log10(n) if n > 1 else 0.0
    parts = [digits(a) for a in expr.args]
    return sum(parts) if isinstance(expr, Mul) else max(parts)


def _series(expr: Any) -> float:
    """A product or sum over exact integer ranges: sympy's ``doit`` multiplies or adds its terms
    out (``\\prod_{k=1}^{10^6} k`` is 10^6!), so the terms at the ends of the ranges, times the
    count for a product, plus its digits for a sum. A symbolic or infinite range is not counted
    term by term; its bound is then only that of its parts."""
    from sympy import Integer
    from sympy.core.parameters import evaluate

    parts = max((digits(a) for a in expr.args), default=0.0)
    count, ends = 1.0, [{}]
    for limit in expr.limits:
        if len(limit) != 3:
            return parts
        k, lo, hi = limit
        if digits(lo) > 300 or digits(hi) > 300:
            return math.inf  # more terms than any float counts
        if not (lo.is_integer and hi.is_integer and lo.is_finite and hi.is_finite):
            return parts
        a, b = int(lo), int(hi)
        count *= abs(b - a) + 1
        ends = [{**e, k: Integer(v)} for e in ends for v in (a, b)]
    with evaluate(False):  # the term at an end, written out, not computed
        term = max(digits(expr.function.xreplace(e)) for e in ends)
    if type(expr).__name__ == "Product":
        return max(parts, count * term)
    return max(parts, term + math.log10(count))


def _log10(n: int) -> float:
    """log10 of ``|n|`` without a float overflow on huge ``n``; 0 and 1 have no digits to count."""
    n = abs(int(n))
    if n <= 1:
        return 0.0
    return math.log10(n) if n.bit_length() < 1000 else n.bit_length() * _LOG10_2


def _value(log10: float) -> float:
    """The largest number with that many digits; infinite past any float."""
    return 10.0**log10 if log10 < 300 else math.inf
