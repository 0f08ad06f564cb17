"""A quick numeric refutation, tried before math-verify's sympy comparison.

Nearly all of math-verify's time goes to pairs it finally rejects: ``simplify(gold - pred)``
or ``solve`` on two expressions that differ, tenths of a second to seconds each. Two
expressions that take different values at one point are not equal anywhere sympy could
prove them equal, so evaluating both at a random point of their free symbols (math-verify's
symbols are real, so a real point respects their assumptions) rejects such pairs in about a
millisecond. Only a rejection is ever decided here, and only for the shapes whose math-verify
outcome it predicts: plain expressions, an equation against an expression (math-verify
compares with its right side), and two equations ``L = f`` and ``L = g`` whose common left
side's symbols appear in neither right side (``y = …``, ``y^2 = …``). Everything else, and
anything that does not evaluate to a finite number, falls through to math-verify.
math-verify has no such pre-check, so it is written here.
"""

from __future__ import annotations

import cmath
import random
from typing import Any

# Closer than this (relative, at least absolute 1e-5) is left to math-verify, whose
# float comparison rounds to 6 decimals.
_TOLERANCE = 1e-5
_DIGITS = 30


def surely_different(gold: list[Any], pred: list[Any]) -> bool:
    """True when every comparison math-verify would make between the two parses must fail."""
    for g in gold:
        for p in pred:
            if isinstance(g, str) or isinstance(p, str):
                # text matches only equal text; text against an expression never matches
                if isinstance(g, str) and isinstance(p, str) and g.strip() and g.strip() == p.strip():
                    return False
            elif not _differ(g, p):
                return False
    return True


def _differ(gold: Any, pred: Any) -> bool:
    from sympy import Eq, Symbol

    if isinstance(gold, Eq) and isinstance(pred, Eq):
        # L = f against L = g, where L's symbols are in neither f nor g: the two equations
        # have one solution set exactly when f and g are the same function
        lhs = gold.lhs
        if lhs != pred.lhs or not lhs.free_symbols:
            return False
        if lhs.free_symbols & (gold.rhs.free_symbols | pred.rhs.free_symbols):
            return False
        gold, pred = gold.rhs, pred.rhs
    elif isinstance(pred, Eq):
        pred = pred.rhs  # math-verify follows the gold's form: "x = 3" against "3"
    elif isinstance(gold, Eq):
        if not isinstance(gold.lhs, Symbol):
            return False
        gold = gold.rhs
    if not (_plain(gold) and _plain(pred)) or str(gold) == str(pred):
        return False
    point = _point(gold.free_symbols | pred.free_symbols)
    a, b = _value(gold, point), _value(pred, point)
    if a is None or b is None:
        return False
    return abs(a - b) > _TOLERANCE * max(1.0, abs(a), abs(b))


def _plain(expr: Any) -> bool:
    """An expression math-verify compares only numerically and by ``simplify``."""
    from sympy import Derivative, Expr, Integral, Limit, Product, Sum, Symbol
    from sympy.core.function import AppliedUndef

    return (
        isinstance(expr, Expr)
        and not expr.is_Matrix  # math-verify compares matrices entry by entry, by its own rules
        and not isinstance(expr, Symbol)  # a lone symbol may be a word: math-verify compares names
        and not expr.has(Integral, Derivative, Limit, Sum, Product)
        and not expr.atoms(AppliedUndef)
    )


def _point(symbols: set) -> dict:
    """The same point for the same symbols, whatever the pair: deterministic, no global state."""
    names = sorted(str(s) for s in symbols)
    rng = random.Random(" ".join(names))
    by_name = {str(s): s for s in symbols}
    return {by_name[n]: round(rng.uniform(0.3, 1.7), 6) for n in names}


def _value(expr: Any, point: dict) -> complex | None:
    try:
        value = complex(expr.evalf(_DIGITS, subs=point))
    except (TypeError, ValueError, ArithmeticError, RecursionError):
        return None
    if cmath.isnan(value) or cmath.isinf(value):
        return None
    return value
