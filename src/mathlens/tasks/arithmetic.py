"""The paper's arithmetic tasks over an (a, b) grid."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MathlensError
from .base import Task

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def to_base(n: int, base: int) -> str:
    """``n`` written in ``base`` (2..36), with a leading minus for negatives."""
    if n < 0:
        return "-" + to_base(-n, base)
    out = ""
    while True:
        n, d = divmod(n, base)
        out = DIGITS[d] + out
        if n == 0:
            return out


@dataclass(frozen=True)
class Addition(Task):
    name = "addition"
    is_sum = True
    rule = "addition"

    def expression(self, a: int, b: int) -> str:
        return f"{a}+{b}"

    def prompt(self, a: int, b: int) -> str:
        return f"{a}+{b}="

    def answer(self, a: int, b: int) -> str:
        return str(a + b)


@dataclass(frozen=True)
class Subtraction(Task):
    name = "subtraction"
    rule = "subtraction"

    def expression(self, a: int, b: int) -> str:
        return f"{a}-{b}"

    def prompt(self, a: int, b: int) -> str:
        return f"{a}-{b}="

    def answer(self, a: int, b: int) -> str:
        return str(a - b)


@dataclass(frozen=True)
class Multiplication(Task):
    name = "multiplication"
    rule = "multiply_digit"  # the shipped rule multiplies by one digit
    single_digit_b = True

    def expression(self, a: int, b: int) -> str:
        return f"{a}*{b}"

    def prompt(self, a: int, b: int) -> str:
        return f"{a}*{b}="

    def answer(self, a: int, b: int) -> str:
        return str(a * b)


@dataclass(frozen=True)
class ModularAddition(Task):
    """a + b mod p; the paper uses p = 113 over [0, 112]."""

    high: int = 112
    modulus: int = 113
    name = "mod_addition"
    is_sum = True

    def expression(self, a: int, b: int) -> str:
        return f"({a}+{b})%{self.modulus}"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.modulus < 2:
            raise MathlensError(f"modulus must be at least 2, not {self.modulus}")

    def prompt(self, a: int, b: int) -> str:
        return f"{a}+{b}="

    def answer(self, a: int, b: int) -> str:
        return str((a + b) % self.modulus)


@dataclass(frozen=True)
class BaseAddition(Task):
    """Addition with operands and sum written in another base (the paper: base 9).

    The grid still holds the operands' values, so a square means the same cells as in
    base 10 while the digits the model sees differ.
    """

    base: int = 9
    name = "base_addition"
    is_sum = True
    rule = "base_addition"

    def program(self, a: int, b: int) -> str:
        x, y, base = to_base(a, self.base), to_base(b, self.base), self.base
        return (
            f"n=int('{x}',{base})+int('{y}',{base})\ns=''\nwhile n:\n"
            f"    n,d=divmod(n,{base})\n    s='{DIGITS}'[d]+s\nprint(s or '0')"
        )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 2 <= self.base <= len(DIGITS):
            raise MathlensError(f"base must be between 2 and {len(DIGITS)}, not {self.base}")

    def prompt(self, a: int, b: int) -> str:
        return f"{to_base(a, self.base)}+{to_base(b, self.base)}="

    def answer(self, a: int, b: int) -> str:
        return to_base(a + b, self.base)


@dataclass(frozen=True)
class LinearFunction(Task):
    """y = wa·a + wb·b + bias at the point (a, b): the paper's 'linear regression' task.

    The paper's published files use y = a + 2b + 3, the default here.
    """

    wa: int = 1
    wb: int = 2
    bias: int = 3
    name = "linear"

    def expression(self, a: int, b: int) -> str:
        return f"{self.wa}*{a}+{self.wb}*{b}+{self.bias}"

    def prompt(self, a: int, b: int) -> str:
        return f"({a},{b})="

    def answer(self, a: int, b: int) -> str:
        return str(self.wa * a + self.wb * b + self.bias)
