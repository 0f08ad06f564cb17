"""The grader against hand-written verdicts, and the public grading/metrics API."""

from __future__ import annotations

from math import comb

import pytest

from mathlens.grading import equivalent, extract_answer, grade, last_boxed
from mathlens.grading.metrics import maj_at_k, pass_at_k, rm_at_k, rm_vote_at_k

# (prediction, gold, same?) — each written by hand; the category is in the comment above.
CASES = [
    # integers
    ("18", "18", True),
    ("18", "19", False),
    ("-7", "-7", True),
    ("-7", "7", False),
    ("007", "7", True),
    ("+5", "5", True),
    ("0", "0", True),
    ("0", "-0", True),
    ("100", "10", False),
    ("2024", "2,024", True),
    # thousands commas, currency, units (GSM8K / ASDiv style)
    ("1,000", "1000", True),
    ("1,234,567", "1234567", True),
    ("$18", "18", True),
    ("\\$18.00", "18", True),
    ("18 dollars", "18", True),
    ("15 (balls)", "15", True),
    ("15 apples", "15", True),
    ("5 \\text{ cm}", "5", True),
    ("5\\text{ m}", "5", True),
    ("70000", "70,000", True),
    ("70,001", "70000", False),
    ("12 hours", "13", False),
    # decimals
    ("0.5", "0.5", True),
    ("0.50", "0.5", True),
    (".5", "0.5", True),
    ("0.5", "0.51", False),
    ("3.14", "3.14", True),
    ("3.140", "3.14", True),
    ("2.5", "5/2", True),
    ("1.6", "1.6", True),
    ("-0.25", "-1/4", True),
    ("0.333", "1/3", False),
    # fractions
    ("1/2", "0.5", True),
    ("\\frac{1}{2}", "0.5", True),
    ("\\frac{1}{2}", "\\frac12", True),
    ("\\dfrac{1}{2}", "\\frac{1}{2}", True),
    ("\\tfrac{3}{4}", "0.75", True),
    ("\\frac{2}{4}", "\\frac{1}{2}", True),
    ("\\frac{11}{2}", "5.5", True),
    ("\\frac{11}{2}", "\\frac{2}{11}", False),
    ("-\\frac{1}{3}", "\\frac{-1}{3}", True),
    ("\\frac{1}{3}", "\\frac{1}{4}", False),
    ("3/4", "\\frac{3}{4}", True),
    ("\\frac{48i-56}{85}", "\\frac{48 i-56}{85}", True),
    # radicals
    ("\\sqrt{8}", "2\\sqrt{2}", True),
    ("2\\sqrt{2}", "\\sqrt{8}", True),
    ("\\sqrt{2}/2", "\\frac{\\sqrt{2}}{2}", True),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}", False),
    ("\\sqrt{3}", "1.7320508075688772", True),
    ("3\\sqrt{3}", "\\sqrt{27}", True),
    ("\\sqrt{2}", "\\sqrt{3}", False),
    ("-1-\\sqrt{3}", "-1-\\sqrt{3}", True),
    ("-1+\\sqrt{3}", "-1-\\sqrt{3}", False),
    ("\\sqrt[3]{8}", "2", True),
    # pi
    ("\\pi", "\\pi", True),
    ("2\\pi", "2\\pi", True),
    ("\\frac{\\pi}{2}", "\\pi/2", True),
    ("\\pi", "3.141592653589793", True),
    ("3\\pi", "\\pi", False),
    ("\\frac{3\\pi}{4}", "\\frac{3}{4}\\pi", True),
    ("4\\pi", "12.566370614359172", True),
    ("\\pi^2", "\\pi", False),
    # intervals
    ("[1,3)", "[1, 3)", True),
    ("(1,3)", "[1,3]", False),
    ("[-2,7]", "x \\in [-2,7]", True),
    ("(-\\infty, 5]", "(-\\infty,5]", True),
    ("(-\\infty, 5)", "(-\\infty,5]", False),
    ("(0,\\infty)", "(0, \\infty)", True),
    ("[2,5]", "[2,6]", False),
    ("(-\\infty,-1)\\cup(1,\\infty)", "(-\\infty,-1) \\cup (1,\\infty)", True),
    # sets and tuples
    ("\\{1,2\\}", "\\{2,1\\}", True),
    ("\\{1,2,3\\}", "\\{1,2\\}", False),
    ("(1,2)", "(1,2)", True),
    ("(1,2)", "(2,1)", False),
    ("(3, -4)", "(3,-4)", True),
    ("(45,2),(-10,-9)", "(45,2),(-10,-9)", True),
    ("\\left(1, 2\\right)", "(1,2)", True),
    ("(1,2,3)", "(1,2)", False),
    # matrices
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", True),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}2\\\\1\\end{pmatrix}", False),
    ("\\begin{pmatrix}1&0\\\\0&1\\end{pmatrix}", "\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}", True),
    ("\\begin{bmatrix}1/2\\\\3\\end{bmatrix}", "\\begin{pmatrix}0.5\\\\3\\end{pmatrix}", True),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&5\\end{pmatrix}", False),
    # percentages
    ("25%", "25", True),
    ("25\\%", "25", True),
    ("25 \\%", "25", True),
    ("12.5%", "12.5", True),
    ("30%", "25", False),
    ("100\\%", "100", True),
    # degrees
    ("90^\\circ", "90", True),
    ("90^{\\circ}", "90", True),
    ("45°", "45", True),
    ("60^\\circ", "30", False),
    ("120^\\circ", "120^\\circ", True),
    # equations x = 3
    ("x=3", "3", True),
    ("3", "x=3", True),
    ("x = 3", "x=3", True),
    ("y=5", "5", True),
    ("x=4", "3", False),
    ("k = \\frac{1}{2}", "0.5", True),
    # multiple answers
    ("2, 3", "3, 2", True),
    ("2, 3", "2, 4", False),
    ("1, 2, 3", "1,2,3", True),
    ("35,36,37", "35, 36, 37", True),
    ("-2, 2", "2, -2", True),
    ("\\pm 2", "2, -2", True),
    # algebraic expressions
    ("10-4n", "10-4 n", True),
    ("-4n+10", "10-4 n", True),
    ("x^2+2x+1", "(x+1)^2", True),
    ("x^2+1", "(x+1)^2", False),
    ("2^{1009}", "2^{1009}", True),
    ("\\frac{1}{2n+2}", "\\frac{1}{2 n+2}", True),
    ("\\frac{1}{2n+1}", "\\frac{1}{2 n+2}", False),
    ("a+b", "b+a", True),
    ("4.5e33", "4.5 \\times 10^{33}", True),
    ("4.5 \\times 10^{33}", "4.5e33", True),
    ("4.6e33", "4.5e33", False),
    ("e^2", "e^{2}", True),
    ("2\\cdot 3", "6", True),
    ("2i", "2 i", True),
    ("1+i", "1-i", False),
    # multiple-choice letters
    ("B", "B", True),
    ("(B)", "B", True),
    ("B)", "B", True),
    ("b", "B", False),  # a bare lower-case letter is no choice (a variable, e)
    ("(b)", "B", True),
    ("C", "B", False),
    ("(A)", "C", False),
    ("D", "D", True),
    # text answers
    ("\\text{east}", "east", True),
    ("East", "east", False),
    ("Yes", "Yes", True),
    ("No", "Yes", False),
    ("\\text{(C)}", "C", True),
    ("Mrs. Hilt", "Mrs. Hilt", True),
    ("3:30 p.m.", "3:30 p.m.", True),
    ("Purple", "Blue", False),
    # trailing periods, dollar delimiters, spacing macros
    ("18.", "18", True),
    ("$18$", "18", True),
    ("\\(18\\)", "18", True),
    ("1\\,000", "1000", True),
    ("\\!18", "18", True),
    ("x\\in[1,2]", "[1,2]", True),
    # malformed LaTeX never raises and is not equal to a real answer
    ("\\frac{1}{2", "0.5", False),
    ("\\sqrt{", "2", False),
    ("}{", "1", False),
    ("\\boxed{", "1", False),
    ("$$", "0", False),
    ("\\left(", "(1,2)", False),
    ("\\frac{}{}", "1", False),
    ("", "0", False),
    ("   ", "0", False),
    ("\\begin{pmatrix}1", "\\begin{pmatrix}1\\end{pmatrix}", False),
]


@pytest.mark.parametrize("pred,gold,same", CASES, ids=[f"{i}:{c[0]!r}~{c[1]!r}" for i, c in enumerate(CASES)])
def test_grader_verdicts(pred, gold, same):
    assert equivalent(gold, pred) is same


def test_there_are_at_least_150_hand_written_cases():
    assert len(CASES) >= 150


def test_none_is_never_equivalent():
    assert not equivalent("1", None) and not equivalent(None, "1") and not equivalent(None, None)


@pytest.mark.parametrize(
    "completion,pred,how",
    [
        ("so the total is \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}", "boxed"),
        ("first \\boxed{1}, then \\boxed{2}", "2", "boxed"),
        ("\\boxed{\\begin{pmatrix}1\\\\2\\end{pmatrix}}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", "boxed"),
        ("\\boxed{\\{1, \\{2\\}\\}}", "\\{1, \\{2\\}\\}", "boxed"),
        ("\\fbox{7}", "7", "boxed"),
        ("Therefore, the answer is 72.", "72", "answer-is"),
        ("The answer is: $x=3$", "x=3", "answer-is"),
        ("Janet makes 9 * 2 = 18.\n#### 18", "18", "hashes"),
        ("we get 7 and then 8 apples", "8", "last-number"),
        ("it costs 1,234 dollars", "1,234", "last-number"),
        ("no idea", None, "none"),
        ("\\boxed{unclosed 5", "5", "last-number"),  # an unclosed box is no box
    ],
)
def test_extraction_says_how_it_found_the_answer(completion, pred, how):
    found = extract_answer(completion)
    assert (found.pred, found.how) == (pred, how)


def test_grade_is_the_public_entry_point():
    verdict = grade("Adding up, we get $\\boxed{\\dfrac{11}{2}}$.", "5.5")
    assert verdict.correct and verdict.pred == "\\dfrac{11}{2}" and verdict.how == "boxed"
    assert not grade("", "3").correct and grade("", "3").how == "none"
    assert last_boxed("a \\boxed{x^{2}} b") == "x^{2}"


def test_pass_at_k_is_the_unbiased_estimator():
    for n, c, k in [(10, 3, 1), (10, 3, 5), (20, 1, 10), (5, 5, 1), (5, 0, 3), (16, 8, 8)]:
        expected = 1.0 - comb(n - c, k) / comb(n, k)
        assert pass_at_k(n, c, k) == pytest.approx(expected)
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


def test_maj_at_k_groups_equivalent_answers_and_breaks_ties_by_first_seen():
    assert maj_at_k(["1/2", "3", "0.5", "3", "\\frac12"], 5) == "1/2"  # three votes for one half
    assert maj_at_k(["4", "3", "3", "4"], 4) == "4"  # a tie: the first seen wins
    assert maj_at_k(["4", "3", "3", "3"], 2) == "4"  # only the first k vote
    assert maj_at_k([None, "2", None], 3) == "2" and maj_at_k([None], 1) is None


def test_rm_at_k_takes_the_best_rewarded_of_the_first_k():
    assert rm_at_k(["a", "b", "c"], [0.1, 0.9, 0.95], 2) == "b"
    assert rm_at_k(["a", "b", "c"], [0.5, 0.5, 0.1], 3) == "a"
    assert rm_at_k([None, "b"], [0.9, 0.1], 2) == "b"


def test_rm_vote_weighs_each_vote_by_the_softmax_of_its_reward():
    # two doubtful votes for 3 against one confident vote for 4: e^3 > 2, the confident one wins
    assert rm_vote_at_k(["3", "3", "4"], [0.0, 0.0, 3.0], 3) == "4"
    # but not against three: e^1 < 3
    assert rm_vote_at_k(["3", "3", "3", "4"], [0.0, 0.0, 0.0, 1.0], 4) == "3"
    # where the best-rewarded sample stands alone against a near-tied majority, the vote holds
    preds, rewards = ["3", "3", "4"], [1.9, 1.9, 2.0]
    assert rm_at_k(preds, rewards, 3) == "4" and rm_vote_at_k(preds, rewards, 3) == "3"
    # equal rewards: a plain vote; equivalent answers vote together; only the first k count
    assert rm_vote_at_k(["1/2", "0.5", "2"], [5.0, 5.0, 5.0], 3) == "1/2"
    assert rm_vote_at_k(["4", "3", "3"], [9.0, 0.0, 0.0], 1) == "4"
    assert rm_vote_at_k([None, "2"], [100.0, 0.0], 2) == "2" and rm_vote_at_k([], [], 4) is None


def test_by_k_scores_every_pick_from_the_same_samples():
    from mathlens.grading.summary import by_k
    from mathlens.records import Sample, SampleRow

    # 8 samples: the right answer "7" three times, "1" five times, the right ones rewarded highest
    preds = ["1", "7", "1", "1", "7", "1", "7", "1"]
    samples = [Sample(p, p, p == "7", reward=2.0 if p == "7" else 0.0) for p in preds]
    curves = by_k([SampleRow("b", "0", "q", "7", samples)], ks=(2, 4, 8, 16))
    assert set(curves) == {2, 4, 8}  # no k beyond the samples there are
    assert curves[8] == {"maj@8": 0.0, "rm@8": 1.0, "rm-vote@8": 1.0, "rm-maj@8": [1.0, 1.0, 1.0]}  # 3e^2 > 5
    assert curves[2]["maj@2"] == 0.0 and curves[2]["rm@2"] == 1.0  # a tie goes to "1", seen first


def test_by_k_pairs_rm_against_the_vote_and_votes_among_samples_that_pass_a_rule():
    from mathlens.grading.summary import by_k
    from mathlens.records import Sample, SampleRow

    def row(i, gold, preds, rewards, passes):
        return SampleRow("b", str(i), "q", gold, [Sample(p, p, p == gold, reward=r, extra={"ok": ok})
                                                 for p, r, ok in zip(preds, rewards, passes)])  # fmt: skip

    rows = [
        row(0, "7", ["1", "1", "7", "1"], [0, 0, 1, 0], [False, False, True, False]),  # rm and the rule right, vote wrong
        row(1, "2", ["2", "2", "5", "2"], [0, 0, 1, 0], [True, True, True, True]),  # rm wrong, the rule keeps the vote
        row(2, "3", ["4", "4", "4", "4"], [0, 0, 0, 0], [False, False, False, False]),  # none passes: the plain vote
    ]
    curves = by_k(rows, ks=(4,), check=lambda s: s.extra["ok"])[4]
    assert curves["maj@4"] == pytest.approx(1 / 3) and curves["rm@4"] == pytest.approx(1 / 3)
    assert curves["rm-maj@4"][0] == 0.0 and curves["rm-maj@4"][1] < 0 < curves["rm-maj@4"][2]
    assert curves["rule-vote@4"] == pytest.approx(2 / 3)
