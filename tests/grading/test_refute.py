"""The numeric refutation must only ever reject what math-verify itself rejects."""

from __future__ import annotations

import pytest
from math_verify import parse, verify

from mathlens.grading import equivalent
from mathlens.grading.equivalence import _parse
from mathlens.grading.refute import surely_different

SLOW_NEAR_MISS = "y=e^{x}\\left(-1+\\left(3 x e^{x}+c\\right)^{1 / 3}\\right)"

# (gold, prediction): shapes the refutation handles, equal and not, and shapes it must leave alone
PAIRS = [
    ("y=x+1", "y=1+x"),
    ("y=2x", "y=2x+1"),
    ("y=2x", "2y=4x"),
    ("y^2=-x+k", "y^2=k-x"),
    ("y^2=-x+k", "y^2=k-x+1"),
    ("0 = x-1", "0 = 1-x"),  # a constant left side: same solutions, right sides differ
    ("x=3", "3"),
    ("3", "x=3"),
    ("x=3", "4"),
    (SLOW_NEAR_MISS, SLOW_NEAR_MISS + "+1"),
    ("\\frac{\\sqrt{3}}{2}", "\\sin(\\pi/3)"),
    ("x^2-1", "(x-1)(x+1)"),
    ("\\sin^2 x+\\cos^2 x", "1"),
    ("\\cos(2x)", "1-2\\sin^2 x"),
    ("\\tan x", "\\frac{\\sin x}{\\cos x}"),
    ("\\sqrt{x^2}", "|x|"),
    ("\\sqrt{x^2}", "x"),
    ("\\ln(xy)", "\\ln x+\\ln y"),
    ("e^{i\\pi}", "-1"),
    ("1+2i", "2i+1"),
    ("2\\pi", "6.283185"),
    ("\\pi", "3.14"),
    ("\\frac{1}{3}", "0.333333"),
    ("\\frac{1}{3}", "0.3333"),
    ("\\sin(n\\pi)", "0"),
    ("f(x)+1", "1+f(x)"),
    ("f(x)", "f(x)+1"),
    ("\\text{yes}", "yes"),
    ("k", "2"),
    ("9\\%", "9"),
    ("\\begin{pmatrix}1/2\\\\3\\end{pmatrix}", "\\begin{pmatrix}0.5\\\\3\\end{pmatrix}"),
    ("\\begin{pmatrix}1\\\\3\\end{pmatrix}", "\\begin{pmatrix}2\\\\3\\end{pmatrix}"),
    ("(1, 2)", "(1, 3)"),
    ("\\{1, 2\\}", "\\{2, 1\\}"),
    ("x < 3", "3 > x"),
    ("1e-8", "2e-8"),
    ("10^{10^{10}}", "10^{10^{10}}+1"),
]


@pytest.mark.parametrize("gold,pred", PAIRS, ids=[f"{g!r}~{p!r}" for g, p in PAIRS])
def test_verdicts_agree_with_plain_math_verify(gold, pred):
    assert equivalent(gold, pred) is bool(verify(parse(f"${gold}$"), parse(f"${pred}$")))


def test_it_refutes_near_misses_without_simplify():
    assert surely_different(_parse(SLOW_NEAR_MISS, 5), _parse(SLOW_NEAR_MISS + "+1", 5))
    assert surely_different(_parse("0.54", 5), _parse("I=e^{-20 t}\\cos 40 t", 5))
    assert surely_different(_parse("y^2=-x+k", 5), _parse("y^2=k-x+1", 5))


def test_it_leaves_what_it_cannot_predict_to_math_verify():
    for gold, pred in [
        ("y=2x", "2y=4x"),  # different left sides
        ("0 = x-1", "0 = 1-x"),  # a left side without symbols
        ("f(x)", "f(x)+1"),  # an undefined function has no value
        ("k", "2"),  # a lone symbol may be a word
        ("(1, 2)", "(1, 3)"),  # tuples, sets, matrices: math-verify's own rules
        ("x < 3", "x < 4"),
    ]:
        assert not surely_different(_parse(gold, 5), _parse(pred, 5)), (gold, pred)
