"""Are two answers the same? math-verify decides, after what it lacks for these benchmarks.

math-verify (symbolic and numeric comparison of LaTeX and plain expressions) does the real
work. Before it, by hand, only what it does not cover: GSM8K-style numbers with thousands
commas, currency and trailing units ("18 dollars", "15 (balls)"), percentages, degrees,
``\\text{}`` wrappers, and multiple-choice letters ("(B)", "B)"). Nothing here may raise.
"""

from __future__ import annotations

import math
import re
import threading
from fractions import Fraction
from functools import lru_cache

from .refute import surely_different

_LETTER = re.compile(r"^\(?([A-Ea-e])\)?[.:)]?(?:\s.*)?$", re.DOTALL)
# A letter a longer answer marks as its choice: "(C) 12", "C) 12", "C. 12".
_MARKED_LETTER = re.compile(r"^(?:\(([A-Ja-j])\)|([A-Ja-j])[.:)])(?:\s|$)")
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
    m = _NUMBER_WITH_UNIT.match(normalize(answer))
    if not m:
        return None
    digits = m.group(1)
    if not _thousands_ok(digits):
        return None
    try:
        return float(digits.replace(",", ""))
    except ValueError:
        return None


def _thousands_ok(digits: str) -> bool:
    """Commas only as thousands separators: "1,2" is a pair, not one thousand two hundred."""
    return "," not in digits or re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", digits) is not None


def choice_letter(answer: str) -> str | None:
    m = _LETTER.match(normalize(answer))
    return m.group(1).upper() if m else None


def equivalent(a: str | None, b: str | None, timeout: int = 5) -> bool:
    """True when the two answers mean the same; ``a`` is read as the gold one. Never raises."""
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


def _percent(answer: str) -> float | None:
    """``p`` for an answer written ``p%``."""
    m = _PERCENT.match(answer)
    return as_number(m.group(1)) if m and m.group(1) else None


def _letters(na: str, nb: str) -> tuple[str | None, str | None] | None:
    """The two choice letters when one side is a bare letter and the other names one."""
    short = [choice_letter(x) if len(x) <= 3 else None for x in (na, nb)]
    if not any(short):
        return None
    marked = [m.group(1) or m.group(2) if (m := _MARKED_LETTER.match(x)) else None for x in (na, nb)]
    pair = [s or (k.upper() if k else None) for s, k in zip(short, marked)]
    return (pair[0], pair[1]) if all(pair) else None


def _equivalent(na: str, nb: str, timeout: int) -> bool:
    letters = _letters(na, nb)
    if letters:
        return letters[0] == letters[1]
    pa, pb = _percent(na), _percent(nb)
    if (pa is None) != (pb is None):  # p% against a plain number: p or p/100, as math-verify and Qwen's harness
        p, other = (pa, as_number(nb)) if pa is not None else (pb, as_number(na))
        if other is not None:
            return any(math.isclose(other, v, rel_tol=1e-9, abs_tol=1e-12) for v in (p, p / 100))
    p, q = as_rational(na), as_rational(nb)  # the fast path: most golds are plain numbers
    if p is not None and q is not None:
        if "." in na + nb:  # as math-verify: a decimal matches to 6 places (0.333333 = 1/3)
            return round(p, 6) == round(q, 6)
        return p == q
    x, y = as_number(na), as_number(nb)
    if x is not None and y is not None:
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
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
# (that is what maj@k counts), so parses and verdicts are worth keeping.
@lru_cache(maxsize=1 << 16)
def _math_verify(gold: str, pred: str, timeout: int) -> bool:
    try:
        from math_verify import verify
    except ImportError:  # a core dependency; without it only the checks above run
        return False
    gold_parsed, pred_parsed = _parse(gold, timeout), _parse(pred, timeout)
    if not gold_parsed or not pred_parsed:
        return False
    if "%" not in gold + pred and _refuted(gold_parsed, pred_parsed, timeout):  # "9%" = 9 in math-verify
        return False
    try:
        # A relation and the set it describes (x > 2, (2, \\infty)) are the same answer whichever
        # side the gold is on; math-verify's default compares them only with the set predicted.
        return bool(
            verify(gold_parsed, pred_parsed, allow_set_relation_comp=True, timeout_seconds=_limit(timeout))
        )
    except Exception:  # noqa: BLE001 - a verdict must never crash a run
        return False


def _refuted(gold_parsed: list, pred_parsed: list, timeout: int) -> bool:
    from math_verify.errors import TimeoutException
    from math_verify.utils import timeout as time_limit

    try:
        return time_limit(_limit(timeout))(surely_different)(gold_parsed, pred_parsed)
    except (Exception, TimeoutException):  # noqa: BLE001 - undecided: math-verify decides
        return False


@lru_cache(maxsize=1 << 16)
def _parse(text: str, timeout: int) -> list:
    from math_verify import parse

    try:
        return parse(f"${text}$", parsing_timeout=_limit(timeout))
    except Exception:  # noqa: BLE001 - unreadable is simply not equivalent
        return []


def _limit(timeout: int) -> int | None:
    """math-verify's time limits use SIGALRM, which exists only in the main thread."""
    return timeout if threading.current_thread() is threading.main_thread() else None
