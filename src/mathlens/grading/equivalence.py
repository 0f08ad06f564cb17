"""Are two answers the same? math-verify decides, after what it lacks for these benchmarks.

math-verify (symbolic and numeric comparison of LaTeX and plain expressions) does the real
work. Before it, by hand, only what it does not cover: GSM8K-style numbers with thousands
commas, currency and trailing units ("18 dollars", "15 (balls)"), percentages, degrees,
``\\text{}`` wrappers, and multiple-choice letters ("(B)", "B)"). Nothing here may raise, and
no verdict takes longer than its time budget, in whichever thread it is asked for: math-verify's
own limits are off (they work only in the main thread) and ``deadline`` keeps the budget instead,
after ``bounds`` has refused the numbers no time limit can interrupt.

Integers compare exactly, whatever units follow them ("1000000001 dollars" is not 1000000000);
only decimals get math-verify's six places, and scientific notation a relative 1e-9.
"""

from __future__ import annotations

import logging
import math
import re
from fractions import Fraction
from functools import lru_cache

from .bounds import too_big
from .deadline import OutOfTime, within
from .refute import surely_different

BUDGET = 1.5  # seconds a verdict may take at most, in any thread
# A choice letter: upper case alone or marked ("B", "(B)", "B)", "B:"), lower case only in
# brackets ("(b)", "b)"), since a lone "e" is Euler's number or a variable, not choice E.
_LETTER = re.compile(r"^(?:\(?([A-J])\)?[.:)]?|\(([a-j])\)|([a-j])\))$")
# A letter a longer answer marks as its choice: "(C) 12", "C) 12", "C. 12", "(c) 12".
_MARKED_LETTER = re.compile(r"^(?:\(([A-Ja-j])\)|([A-J])[.:]|([A-Ja-j])\))(?:\s|$)")
_BRACKETED_LETTER = re.compile(r"^\(?([A-Za-z])\)?[.:)]?$")  # "e", "(e)", "e)", "e."
_EXPONENT = re.compile(r"[eE]([-+]?\d+)$")
_PERCENT = re.compile(r"^(.*?)\s*\\?%$")
MAX_ANSWER_CHARS = 1000  # longer answers are compared as text only: bounded time whatever comes in
_NUMBER_WITH_UNIT = re.compile(r"^\s*([-+]?[\d,]*\.?\d+(?:[eE][-+]?\d+)?)\s*(?:%|\\%|[a-zA-Z\s()]*)$")
_TIMES_TEN = re.compile(r"\s*\\times\s*10\^\{?([-+]?\d+)\}?")
_RATIONAL = re.compile(
    r"^(?P<sign>[-+]?)(?:\\frac\{(?P<num>\d+)\}\{(?P<den>\d+)\}|"
    r"(?P<plain>\d[\d,]*(?:\.\d+)?|\.\d+)(?:/(?P<over>\d+))?)$"
)
_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}")
# A unit after an answer ("\\frac{2}{9} \\text{ parts}", "60 \\text{ km/h}"), not a whole text answer.
_TRAILING_UNIT = re.compile(r"(?<=[\w}])\s*\\(?:text|textbf|mathrm|mbox)\s*\{\s*[A-Za-z][A-Za-z/.^ ]*\}$")
_SPACES = re.compile(r"(?<!\\)\\[,;:! ]|\\q?quad|~")  # not the "\\" of a matrix row
_THIN_THOUSANDS = re.compile(r"(?<=\d),\\!\s*(?=\d{3})")  # 32,\! 349
_DEGREES = re.compile(r"\^\s*\{?\\circ\}?|°")


def normalize(answer: str) -> str:
    """A canonical spelling: no math delimiters, spacing macros, \\left/\\right, degrees or final period."""
    s = str(answer).strip()
    s = s.replace("\\$", "").replace("$", "").replace("\\left", "").replace("\\right", "")
    s = s.replace("\\(", "").replace("\\)", "")
    s = _TIMES_TEN.sub(r"e\1", s)  # 4.5 \times 10^{33} → 4.5e33
    s = _THIN_THOUSANDS.sub(",", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _SPACES.sub("", s)
    s = _DEGREES.sub("", s)
    s = _TRAILING_UNIT.sub("", s)
    s = _TEXT.sub(r"\1", s)
    s = s.strip().rstrip(".").strip()
    return s


def as_number(answer: str) -> float | None:
    """A plain number, if that is all the answer is (units, currency, commas, % allowed)."""
    exact = exact_number(answer)
    return float(exact) if exact is not None else None


def exact_number(answer: str) -> Fraction | None:
    """The exact value of a plain number (units, currency, commas, % allowed): no float rounds
    1000000001 to 1000000000 here. None past an exponent of 1000 (no 10^999999999 is built)."""
    digits = _number_digits(answer)
    return Fraction(digits.replace(",", "")) if digits is not None else None


def _number_digits(answer: str) -> str | None:
    """The number an answer that is only a number (and units) spells, as written ("1,000", "4.5e33")."""
    m = _NUMBER_WITH_UNIT.match(normalize(answer))
    if not m:
        return None
    digits = m.group(1)
    exponent = _EXPONENT.search(digits)
    if not _thousands_ok(digits) or (exponent and abs(int(exponent.group(1))) > 1000):
        return None
    return digits


def _scientific(*answers: str) -> bool:
    """Whether either number is written with an exponent ("4.5e33", "4.5 \\times 10^{33}")."""
    return any(_EXPONENT.search(d or "") for d in map(_number_digits, answers))


def _same_number(x: Fraction, y: Fraction, scientific: bool) -> bool:
    """Integers exactly, so a unit after them changes nothing; a number in scientific notation,
    which states only its leading digits, to a relative 1e-9; other decimals, as math-verify
    compares a float, to six places. Exact arithmetic throughout: no float overflows at 1e400."""
    if x.denominator == 1 and y.denominator == 1:
        return x == y
    if scientific:
        return abs(x - y) <= max(abs(x), abs(y)) * Fraction(1, 10**9) or abs(x - y) <= Fraction(1, 10**12)
    return round(x, 6) == round(y, 6)


def _thousands_ok(digits: str) -> bool:
    """Commas only as thousands separators: "1,2" is a pair, not one thousand two hundred."""
    return "," not in digits or re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", digits) is not None


def choice_letter(answer: str) -> str | None:
    """The choice an answer that is only a choice letter names, upper-cased ("(b)" is B, "b" none)."""
    m = _LETTER.match(normalize(answer))
    return next(g for g in m.groups() if g).upper() if m else None


def equivalent(a: str | None, b: str | None, timeout: float = BUDGET) -> bool:
    """True when the two answers mean the same; ``a`` is read as the gold one. Never raises, and
    takes at most about ``timeout`` seconds (the budget of math-verify's part) in any thread."""
    if a is None or b is None:
        return False
    try:
        na, nb = normalize(a), normalize(b)
        if not na or not nb:
            return False
        if na == nb or na.replace(" ", "") == nb.replace(" ", ""):  # spacing never matters in math
            return True
        if max(len(na), len(nb)) > MAX_ANSWER_CHARS:
            return False
        return _equivalent(na, nb, timeout)
    except Exception:  # noqa: BLE001 - a verdict must never crash a run (e.g. int-string limits)
        return False


def _percent(answer: str) -> Fraction | None:
    """``p`` for an answer written ``p%``."""
    m = _PERCENT.match(answer)
    return exact_number(m.group(1)) if m and m.group(1) else None


def _letters(na: str, nb: str) -> tuple[str, str] | None:
    """The two choice letters when one side is only a choice letter and the other names one.

    A choice is intended only where it is written as one (``_LETTER``): "E", "(E)", "(e)", "e)",
    or a longer answer marked "(C) 12". A bare lower-case letter is no choice, so "e" against
    gold "E" (or "E" against gold "e") goes on as mathematics, where a lone letter is itself."""
    short = [choice_letter(x) if len(x) <= 3 else None for x in (na, nb)]
    if not any(short):
        return None
    marked = [next((g for g in m.groups() if g), None) if (m := _MARKED_LETTER.match(x)) else None for x in (na, nb)]
    pair = [s or (k.upper() if k else None) for s, k in zip(short, marked)]
    return (pair[0], pair[1]) if pair[0] and pair[1] else None


def _lone_letters(na: str, nb: str) -> tuple[str, str] | None:
    """The two letters when one side is a lone letter and no choice pair was found: a letter is
    itself, its case included ("e" is Euler's number, "E" another symbol), however the other
    side brackets it ("(e)" is e, "(E)" is not). math-verify folds the case of single letters."""
    if not any(len(x) == 1 and x.isalpha() for x in (na, nb)):
        return None
    both = [_BRACKETED_LETTER.match(x) for x in (na, nb)]
    return (both[0].group(1), both[1].group(1)) if both[0] and both[1] else None


def _equivalent(na: str, nb: str, timeout: float) -> bool:
    letters = _letters(na, nb)
    if letters:
        return letters[0] == letters[1]
    lone = _lone_letters(na, nb)
    if lone:
        return lone[0] == lone[1]
    pa, pb = _percent(na), _percent(nb)
    if (pa is None) != (pb is None):  # p% against a plain number: p or p/100, as math-verify and Qwen's harness
        p, other = (pa, exact_number(nb)) if pa is not None else (pb, exact_number(na))
        if p is not None and other is not None:
            return any(_same_number(other, v, _scientific(na, nb)) for v in (p, p / 100))
    p, q = as_rational(na), as_rational(nb)  # the fast path: most golds are plain numbers
    if p is not None and q is not None:
        if "." in na + nb:  # as math-verify: a decimal matches to 6 places (0.333333 = 1/3)
            return round(p, 6) == round(q, 6)
        return p == q
    x, y = exact_number(na), exact_number(nb)
    if x is not None and y is not None:
        return _same_number(x, y, _scientific(na, nb))
    return _math_verify(na, nb, timeout)


def as_rational(answer: str) -> Fraction | None:
    """An exact value for integers, decimals, ``a/b`` and ``\\frac{a}{b}`` (after ``normalize``)."""
    m = _RATIONAL.match(answer)
    if not m:
        return None
    sign = -1 if m.group("sign") == "-" else 1
    if m.group("num") is not None:
        return sign * Fraction(int(m.group("num")), int(m.group("den"))) if int(m.group("den")) else None
    digits = m.group("plain").replace(",", "")
    if not _thousands_ok(m.group("plain")):
        return None
    value = Fraction(digits)
    if m.group("over") is not None:
        return sign * value / int(m.group("over")) if int(m.group("over")) else None
    return sign * value


# Caches: a gold answer is compared with every sample of its problem, and samples repeat
# (that is what maj@k counts), so parses and verdicts are worth keeping. A parse cut short by
# its deadline raises through ``lru_cache`` and so is never kept; a verdict that ran out of
# time is kept as not equivalent, so the same pair does not spend its budget twice.
@lru_cache(maxsize=1 << 16)
def _math_verify(gold: str, pred: str, timeout: float) -> bool:
    if not _loaded():
        return False
    try:
        return within(timeout, _verify, gold, pred)
    except (Exception, OutOfTime):  # noqa: BLE001 - a verdict must never crash a run; out of time is undecided
        return False


@lru_cache(maxsize=1)
def _loaded() -> bool:
    """Import math-verify (sympy, the LaTeX grammar) and parse once, outside any deadline: that
    first time takes a second or more, and an import or a grammar load cut short would leave
    half a module behind for every later call. False without math-verify (a core dependency;
    without it only the checks before it run)."""
    try:
        from math_verify import parse, verify
    except ImportError:
        return False
    try:
        verify(parse("$x+1$", parsing_timeout=None), parse("$1+x$", parsing_timeout=None), timeout_seconds=None)
    except Exception:  # noqa: BLE001 - a warm-up only; the real calls report their own failures
        pass
    return True


def _verify(gold: str, pred: str) -> bool:
    from math_verify import verify

    gold_parsed, pred_parsed = _parse(gold), _parse(pred)
    if not gold_parsed or not pred_parsed or too_big(gold_parsed) or too_big(pred_parsed):
        return False
    if "%" not in gold + pred and _refuted(gold_parsed, pred_parsed):  # "9%" = 9 in math-verify
        return False
    # A relation and the set it describes (x > 2, (2, \\infty)) are the same answer whichever
    # side the gold is on; math-verify's default compares them only with the set predicted.
    # Its own time limit is off (None): ``within`` keeps ours, in any thread.
    return bool(verify(gold_parsed, pred_parsed, allow_set_relation_comp=True, timeout_seconds=None))


def _refuted(gold_parsed: list, pred_parsed: list) -> bool:
    try:
        return surely_different(gold_parsed, pred_parsed)
    except Exception:  # noqa: BLE001 - undecided: math-verify decides
        return False


@lru_cache(maxsize=1 << 16)
def _parse(text: str, timeout: float | None = None) -> list:
    """math-verify's parses of ``text``; within ``timeout`` seconds when given (else the caller's)."""
    from math_verify import parse

    try:
        return within(timeout, parse, f"${text}$", parsing_timeout=None)
    except Exception:  # noqa: BLE001 - unreadable is simply not equivalent
        return []


class _NoTimeoutNotice(logging.Filter):
    """math-verify warns once that its time limit is off; here ``deadline`` keeps one instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Timeout is disabled")


for _name in ("math_verify.parser", "math_verify.grader"):
    logging.getLogger(_name).addFilter(_NoTimeoutNotice())
