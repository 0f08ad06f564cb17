"""Generic list programs, traced: the skills a pretrained model brings to rule following.

Hu et al. fine-tune *pretrained* models; a from-scratch tiny model has never copied a long
list, so when its rule trace first restates a list longer than any in training it fails
there (``docs/formats-and-length.md``). These programs teach the generic part of the
addition rule — pop the last element of a list, restate what is left, put an element at the
front of a result — over lists far longer than the addition training, with no addition and
no carry in them. A model pretrained on their traces is then fine-tuned on addition
(``lengthgen --pretrain``).

Each program is a plain function with the rule programs' contract (two digit lists in, a
digit list out), traced by ``formats.trace`` like them, and rendered in one of three
syntaxes, one per answer format: ``rule`` (the compact rule trace: line number and values
set), ``scratchpad`` (the lists left and the result so far, a line per step, as the paper's
scratchpad writes them) and ``direct`` (the result alone).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ..errors import MathlensError
from ..formats.rule import digits, render_compact
from ..formats.trace import trace_call
from ..records import Example

SYNTAXES = ("direct", "scratchpad", "rule")
TASK = "generic"


def copy_list(num1, num2):
    result = []
    while num1:
        digit1 = num1.pop()
        result.insert(0, digit1)
    return result


def reverse_list(num1, num2):
    result = []
    while num1:
        digit1 = num1.pop()
        result.append(digit1)
    return result


def interleave(num1, num2):
    result = []
    while num1 or num2:
        digit1 = num1.pop() if num1 else 0
        digit2 = num2.pop() if num2 else 0
        result.insert(0, digit2)
        result.insert(0, digit1)
    return result


def pick_larger(num1, num2):
    result = []
    while num1 or num2:
        digit1 = num1.pop() if num1 else 0
        digit2 = num2.pop() if num2 else 0
        larger = max(digit1, digit2)
        result.insert(0, larger)
    return result


# The operator in the prompt (``385@64=``) names the program; none is addition's ``+``.
PROGRAMS: dict[str, Callable] = {"@": copy_list, "~": reverse_list, "&": interleave, "^": pick_larger}


def _text(values: list[int]) -> str:
    return "".join(str(v) for v in values)


def render(op: str, a: int, b: int, syntax: str) -> tuple[str, str, str]:
    """``(prompt, target, answer)`` of program ``op`` on the digits of ``a`` and ``b``."""
    if syntax not in SYNTAXES:
        raise MathlensError(f"generic syntax must be one of {', '.join(SYNTAXES)}, not {syntax!r}")
    trace = trace_call(PROGRAMS[op], digits(a), digits(b))
    answer = _text(trace.result)
    prompt = f"{a}{op}{b}="
    if syntax == "direct":
        return prompt, answer, answer
    if syntax == "rule":
        return prompt, "\n".join([*render_compact(trace.steps), answer]), answer
    # scratchpad: the state at every test of the loop (the start, after each step, the end)
    state = {"num1": digits(a), "num2": digits(b), "result": []}
    lines = []
    for step in trace.steps:
        if step.line.startswith("while "):
            lines.append(f"{_text(state['num1'])}{op}{_text(state['num2'])},{_text(state['result'])}")
        state.update((k, v) for k, v in step.changes if k in state)
    return prompt, "\n".join([*lines, answer]), answer


def _number(rng: random.Random, length: int) -> int:
    return rng.randrange(10 ** (length - 1) if length > 1 else 0, 10**length)


def generic_examples(lengths: list[int], n_per_length: int, seed: int, syntax: str, split: str = "train") -> list[Example]:
    """``n_per_length`` problems per length of the first list, programs in turn; the second
    list as long as the first half of the time, else any length up to the longest (so that
    the two-list programs meet unequal lengths, as mixed-length sums do)."""
    rng = random.Random(f"generic:{seed}:{split}")
    ops = list(PROGRAMS)
    out = []
    for length in lengths:
        for i in range(n_per_length):
            op = ops[i % len(ops)]
            other = length if rng.random() < 0.5 else rng.randint(1, max(lengths))
            a, b = _number(rng, length), _number(rng, other)
            prompt, target, answer = render(op, a, b, syntax)
            out.append(Example(len(out), TASK, (a, b), prompt, target, answer, split, {"digits": length, "program": op}))
    return out
