"""Position coupling (Cho et al., NeurIPS 2024): each token's position is a (place, slot) pair
given by what it means, so that every copy a trace makes is the same offset at any length.

- ``place``: a digit's significance in the number it writes (units 1, tens 2, …), kept through
  every restatement: the tens digit of the first operand is place 2 in the prompt and in every
  later line that still holds it, and the result's hundreds digit is place 3 in every line that
  shows the result. A non-digit gets the place just below the number that follows it in its
  line, so that the query on a separator, about to write that number's lowest digit, stands one
  place below it as every digit stands one place below the next; 0 where no number follows.
- ``slot``: the line, the prompt being line 0. Each step of a trace has the same number of lines,
  so a line restated from the step before is always the same number of slots back.

The model (``positions: coupled``) adds a learned embedding of the place, shifted in training by
a random offset per row so that the places of longer tests have been trained (as Cho et al.
shift theirs), and turns the slot into the rotary position. (Rotary angles for the place too,
tried first, fitted 1-5-digit direct sums and failed from 7 digits: longer operands bring
place differences that training never showed.)

Numbers are written least significant digit first (``Coupled``), as Cho et al., Lee et al. and
McLeish et al. write them: a digit's place is then known the moment it is written (its number's
start place plus its index), where written the usual way the first digit's place waits on the
number's length (a digit sum of one digit or two, an answer with or without a final carry). The
start place of each number comes from the line's meaning and the step, and for the rule trace
from the operands' lengths in the prompt: decoding computes each new token's ids from the prompt
and the text so far (``Coupler.feed``), as training does from the whole text (``coords``).

Written by hand: position coupling is a method in a paper, not a library, and its ids depend on
this project's own trace formats.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MathlensError
from ..tasks import Task
from .base import Format
from .numbers import reverse_numbers

COUPLED_FORMATS = ("direct", "scratchpad", "rule")


class Coupler:
    """The (place, slot) of each character of a prompt and then of its target, one at a time.

    A line is split into fields at the format's separators; ``start(field)`` says where the
    field's number starts (its lowest digit's place), or ``None`` where the field is no number
    (a rule line's number, ``T``/``F``). Subclasses say what each field of each line holds.
    """

    separators = ""

    def __init__(self, prompt: str) -> None:
        head = prompt.rstrip("=").split("+")
        if len(head) != 2 or not all(h.isdigit() for h in head):
            raise MathlensError(f"position coupling reads prompts 'a+b=', not {prompt!r}")
        self.lengths = (len(head[0]), len(head[1]))
        self.index = 0
        self.line = ""  # the current line's text so far
        self.lines: list[str] = []  # finished target lines
        self.prompt_coords = [self._prompt_char(c) for c in prompt]
        self.slot, self.field, self.index = 1, 0, 0  # the target starts on line 1, newline or not

    def _prompt_char(self, char: str) -> tuple[int, int]:
        if char.isdigit():
            self.index += 1
            return self.index, 0
        self.index = 0
        return 0, 0  # ``+`` and ``=`` stand below an operand's (or the answer's) place 1

    def feed(self, text: str) -> list[tuple[int, int]]:
        """The coords of each character of ``text``, the target's next characters."""
        return [self._char(c) for c in text]

    def _char(self, char: str) -> tuple[int, int]:
        if char == "\n":
            self.lines.append(self.line)
            self.line, self.slot, self.field, self.index = "", self.slot + 1, 0, 0
            return self._below(), self.slot
        self.line += char
        if char in self.separators:
            self.field, self.index = self.field + 1, 0
            return self._below(), self.slot
        start = self.start(self.field)
        if char.isdigit() and start is not None:
            self.index += 1
            return start + self.index - 1, self.slot
        return self._below(), self.slot

    def _below(self) -> int:
        start = self.start(self.field)
        return 0 if start is None else start - 1

    def start(self, field: int) -> int | None:
        raise NotImplementedError


class DirectCoupler(Coupler):
    """The answer, places 1, 2, … from its units."""

    def start(self, field: int) -> int | None:
        return 1


class ScratchpadCoupler(Coupler):
    """``a+b,result,C:carry`` per step (numbers reversed): after k steps the operands left
    start at place k + 1, the result at 1 and the carry, the next place's, at k + 1; the
    line after the last (both operands gone, carry 0) is the answer."""

    separators = "+,"

    def start(self, field: int) -> int | None:
        if self.lines and self._ended(self.lines[-1]):
            return 1  # the answer
        k = self.slot - 1
        return (k + 1, k + 1, 1, k + 1)[min(field, 3)]

    @staticmethod
    def _ended(line: str) -> bool:
        left, _, rest = line.partition(",")
        return left == "+" and rest.endswith("C:0")


class RuleCoupler(Coupler):
    """The compact rule trace of ``sum_digit_by_digit``: ``LINE value value``, the line number
    no number. In step k (the k-th ``4 T``): line 5 holds num1's digits left (from place k + 2,
    while num1 had digits) and the digit popped (k + 1), line 6 the same for num2, 7 the total
    (k + 1), 8 the result (1), 9 the carry (k + 2); 2, 3 and 11 start at 1; after line 12 comes
    the answer."""

    separators = " "

    def __init__(self, prompt: str) -> None:
        super().__init__(prompt)
        self._counted = (0, 0)  # (finished lines looked at, loop tests among them)

    def start(self, field: int) -> int | None:
        if self.lines and self.lines[-1] == "12":
            return 1  # the answer line has no line number
        if field == 0:
            return None
        key = self.line.split(" ", 1)[0]
        k = self._loops() - 1
        if key in ("5", "6"):
            had_digits = k < self.lengths[0 if key == "5" else 1]
            return (k + 2 if field == 1 else k + 1) if had_digits else k + 1
        return {"2": 1, "3": 1, "7": k + 1, "8": 1, "9": k + 2, "11": 1}.get(key)

    def _loops(self) -> int:
        """The loop tests (``4 …`` lines) among the finished lines, counted once each."""
        seen, count = self._counted
        count += sum(line.startswith("4 ") for line in self.lines[seen:])
        self._counted = (len(self.lines), count)
        return count


COUPLERS: dict[str, type[Coupler]] = {"direct": DirectCoupler, "scratchpad": ScratchpadCoupler, "rule": RuleCoupler}


def make_coupler(name: str, prompt: str) -> Coupler:
    if name not in COUPLERS:
        raise MathlensError(f"position coupling has ids for {', '.join(COUPLERS)}, not for format {name!r}")
    return COUPLERS[name](prompt)


def coords(name: str, prompt: str, target: str) -> list[tuple[int, int]]:
    """(place, slot) of every character of ``prompt + target``, as training feeds them."""
    coupler = make_coupler(name, prompt)
    return coupler.prompt_coords + coupler.feed(target)


def reverse_values(line: str) -> str:
    """A compact rule line with its values reversed and its line number kept (``10 F``)."""
    key, sep, rest = line.partition(" ")
    return key + sep + reverse_numbers(rest)


@dataclass(frozen=True)
class Coupled(Format):
    """Another format (direct, scratchpad, compact rule) with every number least significant
    digit first, for a model whose positions are coupled (``Coupler``); ``read`` turns the
    answer back. A rule line's number is a name, not a number: it stays as it is."""

    inner: Format

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.inner.name

    def supports(self, task: Task) -> bool:
        plain_sum = task.is_sum and task.base == 10 and task.modulus is None  # the couplers read a + b in decimal
        compact = (
            getattr(self.inner, "style", "compact") == "compact"
            and getattr(self.inner, "rule", None) is None  # the shipped rule: its line numbers are known
            and getattr(self.inner, "rule_text", None) in (None, "none")  # the prompt is only ``a+b=``
        )
        return self.inner.name in COUPLED_FORMATS and plain_sum and compact and self.inner.supports(task)

    @property
    def needs(self) -> str:  # type: ignore[override]
        return f"a decimal sum a + b, written {', '.join(COUPLED_FORMATS)} (the shipped rule, compact)"

    def question(self, task: Task, a: int, b: int) -> str:
        return reverse_numbers(self.inner.question(task, a, b))

    def target(self, task: Task, a: int, b: int) -> str:
        lines = self.inner.target(task, a, b).split("\n")
        if self.inner.name == "rule":
            return "\n".join([*map(reverse_values, lines[:-1]), reverse_numbers(lines[-1])])
        return reverse_numbers("\n".join(lines))

    def read(self, completion: str) -> str | None:
        answer = self.inner.read(completion)
        return None if answer is None else reverse_numbers(answer)
