"""Whole completions graded against a gold answer: the kinds of case Math-Verify's own
regression table covers (huggingface/Math-Verify, tests/test_all.py), written here afresh.

Each row is (completion, gold, verdict). The README's "Grading" section lists where mathlens
deliberately differs from math-verify; those kinds are at the end, with the reason.
"""

from __future__ import annotations

import pytest

from mathlens.grading import equivalent, extract_answer, grade

COMPLETIONS = [
    # no box: the answer is the last LaTeX expression, whatever its delimiters
    ("So the solution set is $y \\leq 4$.", "y \\le 4", True),
    ("Hence $t \\gt 1$ holds.", "t > 1", True),
    ("We conclude that $7 \\geq z$.", "z \\leq 7", True),
    ("Solving, \\( n \\neq 2 \\).", "n != 2", True),
    ("So $a < 9$ is all we can say.", "a < 8", False),
    ("Simplify to get \\[ \\frac{5}{6} \\]", "5/6", True),
    ("Therefore $$ \\dfrac{7}{2} $$", "3.5", True),
    ("This is \\( (4+3) \\).", "7", True),
    ("Finally $m = \\frac{2}{9}$.", "2/9", True),
    ("the ratio is $\\frac{2}{9} \\text{ parts}$", "2/9", True),
    ("it comes to $\\left( \\frac{4}{5} \\right)$", "0.8", True),
    ("which is $\\frac34$", "3/4", True),
    ("and $\\sqrt5$ is the length.", "\\sqrt{5}", True),
    ("rearranged: $y = 2x + 1$", "2x - y + 1 = 0", True),
    ("The vertex is at $(3, -1)$.", "(3,-1)", True),
    ("The vertex is at $(3, -1)$.", "(-1,3)", False),
    ("so the interval is $[1, 4)$", "[1,4)", True),
    ("so the interval is $[1, 4)$", "(1,4)", False),
    ("We get $\\tan^2 \\theta + 1$ here, i.e. $\\sec^2 \\theta$", "\\sec^2\\theta", True),
    # no box, no delimiters: a bare fraction is one answer, not its denominator
    ("\\frac{7}{3}", "7/3", True),
    ("-\\dfrac{7}{3}", "-7/3", True),
    # matrices written in the text
    ("The product is $ \\begin{pmatrix}2 & 0 \\\\ 0 & 2\\end{pmatrix} $.", "\\begin{pmatrix}2&0\\\\0&2\\end{pmatrix}", True),
    ("It is $\\begin{bmatrix}1 & 1 \\\\ 0 & 1\\end{bmatrix}$", "\\begin{pmatrix}1&1\\\\0&1\\end{pmatrix}", True),
    ("It is $\\begin{pmatrix}1 & 1 \\\\ 0 & 1\\end{pmatrix}$", "\\begin{pmatrix}1&0\\\\1&1\\end{pmatrix}", False),
    # several boxes side by side are one answer; a box followed by more reasoning is not
    ("The roots are \\boxed{3} and \\boxed{-4}.", "3,-4", True),
    ("The roots are $\\boxed{3}$, $\\boxed{-4}$", "-4,3", True),
    ("\\[ \\boxed{5} \\quad \\text{and} \\quad \\boxed{6} \\]", "5,6", True),
    ("First \\boxed{10}, which we then double: \\boxed{20}", "20", True),
    # "the final answer is" said after an intermediate box wins
    ("Step one gives \\boxed{12}. Final Answer: The final answer is $30$. I hope it is correct.", "30", True),
    ("The answer is \\boxed{30}.", "30", True),
    # thousands with thin spaces and braces
    ("in all, $\\boxed{45,\\! 210}$ ways", "45210", True),
    ("in all, $\\boxed{1,\\! 000,\\! 001}$ ways", "1000001", True),
    ("in all, $\\boxed{21{,}500}$ ways", "21500", True),
    # currency signs in prose are not mathematics; numbers glued to words are not answers
    ("He pays $18 and gets $5 back, so he spent 13", "13", True),
    ("Each book costs $4, so 3 books cost $12.", "12", True),
    ("the code is QX7B", "7", False),
    ("we get 14 and the label is R2D", "14", True),
    # units, percent and text around the last expression
    ("The speed is $60 \\text{ km/h}$.", "60", True),
    ("a total of $35\\%$ of the votes", "35\\%", True),
    ("The winner is $\\text{Dana}$.", "\\text{Dana}", True),
    # deliberate differences from math-verify (README, "Grading"):
    # a comma is never a decimal separator (MATH lists solutions with commas)
    ("2,5", "2.5", False),
    # a number on its own line inside "$ … $" still counts as the last number
    ("Answer $ \n 9 \n $", "9", True),
]


@pytest.mark.parametrize(
    "completion,gold,same", COMPLETIONS, ids=[f"{i}:{c[0][:30]!r}" for i, c in enumerate(COMPLETIONS)]
)
def test_completion_verdicts(completion, gold, same):
    assert grade(completion, gold).correct is same


@pytest.mark.parametrize(
    "completion,pred,how",
    [
        ("Hence $x \\geq 2$ is the answer region.", "x \\geq 2", "latex"),
        ("with $x$ apples he ends up with 40", "40", "last-number"),  # the text ends with a number
        ("He pays $18 and gets $5 back", "5", "last-number"),
        ("\\boxed{1} and \\boxed{2}", "1,2", "boxed"),
        ("We take \\(3\\) \\[ \\frac{1}{2} \\]", "\\frac{1}{2}", "latex"),
        ("Answer $ \n 7 \n $", "7", "last-number"),
    ],
)
def test_how_an_answer_without_a_box_is_found(completion, pred, how):
    found = extract_answer(completion)
    assert (found.pred, found.how) == (pred, how)


@pytest.mark.parametrize(
    "relation,interval",
    [("x > 2", "(2, \\infty)"), ("-2 \\le x \\le 7", "x \\in [-2, 7]"), ("y \\leq 0", "(-\\infty, 0]")],
)
def test_a_relation_and_its_set_agree_whichever_is_gold(relation, interval):
    assert equivalent(relation, interval) and equivalent(interval, relation)
