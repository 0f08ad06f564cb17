"""Formats that rewrite the numbers of another format, for length generalization.

- ``Reversed``: every number written least significant digit first (``59+13=`` → ``95+31=``,
  answer ``27``), as Lee et al. 2023 and McLeish et al. 2024 train addition: the answer then
  comes out in the order the carries run, and a digit's place is its index from the start.
- ``Padded``: ``Reversed`` with the answer zero-padded to one digit more than the longer
  operand (``95+31=`` → ``270``), as Lee et al. 2025 write it for self-improvement: the prompt
  fixes the answer's length, so a label of the wrong length is visibly wrong.
- ``IndexHints`` (Zhou et al. 2023): a marker before each digit naming its place from the
  units (``α`` units, ``β`` tens, …), in the prompt and in the target, so that attention can
  match digits of the same place by content instead of by position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..tasks import Task
from .base import Direct, Format

NUMBER = re.compile(r"\d+")
# Greek letters: no prompt, trace or program of the lab uses them, so hints never collide.
HINTS = "αβγδεζηθικλμνξοπρστυφχψω"
_HINTED = re.compile(f"[{HINTS}]")


def reverse_numbers(text: str) -> str:
    return NUMBER.sub(lambda m: m.group()[::-1], text)


def hint_digits(text: str, start: int = 0) -> str:
    """``59+13`` → ``β5α9+β1α3``; with ``start`` k the units take the k-th letter instead;
    places past the alphabet wrap around."""

    def hinted(m: re.Match) -> str:
        run = m.group()
        return "".join(HINTS[(start + len(run) - 1 - i) % len(HINTS)] + d for i, d in enumerate(run))

    return NUMBER.sub(hinted, text)


def strip_hints(text: str) -> str:
    return _HINTED.sub("", text)


@dataclass(frozen=True)
class Reversed(Format):
    """The direct answer with every number reversed; ``read`` turns the answer back."""

    name = "reversed"

    def question(self, task: Task, a: int, b: int) -> str:
        return reverse_numbers(task.prompt(a, b))

    def target(self, task: Task, a: int, b: int) -> str:
        return reverse_numbers(Direct().target(task, a, b))

    def read(self, completion: str) -> str | None:
        answer = super().read(completion)
        return None if answer is None else reverse_numbers(answer)


@dataclass(frozen=True)
class Padded(Reversed):
    """A sum's answer reversed and zero-padded to one digit more than its longer operand; the
    question is ``Reversed``'s."""

    name = "padded"
    needs = "a decimal sum a + b"

    def supports(self, task: Task) -> bool:
        return task.is_sum and task.base == 10 and task.modulus is None

    def target(self, task: Task, a: int, b: int) -> str:
        return task.answer(a, b).zfill(answer_width(a, b))[::-1]

    def read(self, completion: str) -> str | None:
        answer = super().read(completion)  # turned back, the padding now leading
        return None if answer is None or not answer.isdigit() else answer.lstrip("0") or "0"


def answer_width(a: int, b: int) -> int:
    """The digits of a padded answer: one more than the longer operand's."""
    return max(len(str(a)), len(str(b))) + 1


@dataclass(frozen=True)
class IndexHints(Format):
    """Another format with a place marker before every digit of prompt and target.

    Not for TIR: the interpreter would run the markers (and print unhinted output). ``start``
    shifts the letters (the units get the start-th): trained from random starts, every letter
    and every letter-to-next step is seen, so places longer than training are not new tokens.
    """

    inner: Format = Direct()
    start: int = 0

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.inner.name

    @property
    def needs(self) -> str:  # type: ignore[override]
        return f"{self.inner.needs or 'nothing'}, and no interpreter (index hints cannot run as code)"

    def supports(self, task: Task) -> bool:
        return self.inner.name != "tir" and self.inner.supports(task)

    def statement(self, task: Task) -> str:
        return self.inner.statement(task)

    def question(self, task: Task, a: int, b: int) -> str:
        return hint_digits(self.inner.question(task, a, b), self.start)

    def target(self, task: Task, a: int, b: int) -> str:
        return hint_digits(self.inner.target(task, a, b), self.start)

    def read(self, completion: str) -> str | None:
        return self.inner.read(strip_hints(completion))
