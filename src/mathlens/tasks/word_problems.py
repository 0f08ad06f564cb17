"""Word problems with a difficulty knob, the world the improvement loop learns in.

A problem at ``level`` L chains L operations on one person's count of things, its numbers grow
with L, and L - 1 distractor sentences about someone else sit among the steps. Solutions come in
two styles: ``cot`` states one operation per step and boxes the result; ``tir`` writes the same
steps as a program, shows its output and boxes it (the tool loop runs the program at inference).
A tiny model taught the easy levels only is well below its ceiling on the hard ones, and its
samples there are right often enough for rejection sampling to feed on.

``ONE_KNOB`` turns only the number of operations with the level (fixed number range, at most one
distractor), so that a policy solving level L meets one new thing at L + 1: the world the loop
climbs level by level.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..errors import MathlensError

NAMES = ("Tom", "Ana", "Li", "Sam", "Maya", "Omar", "Ivy", "Ben")
THINGS = ("apples", "books", "coins", "pens", "shells", "cards", "stamps", "marbles")
STYLES = ("cot", "tir")
STEP = {  # how each operation is told, on the running count of {thing}
    "+": ("{name} gets {b} more.", "{name} finds {b} more."),
    "-": ("{name} gives away {b}.", "{name} loses {b}."),
    "*": ("{name} ends with {b} times as many.",),
}
DISTRACT = ("{other} has {x} {other_thing}.", "{other} buys {x} {other_thing}.")
# An addition told as someone else's act: it opens with another name, as a distractor does, and
# says "gives" as a subtraction does. A model never taught it misreads it the same way each time.
TRAP = "{other} gives {name} {b} more."


@dataclass(frozen=True)
class WorldConfig:
    """How hard the world gets: numbers grow by ``growth`` per level above one."""

    base_high: int = 10  # largest number at level 1
    growth: int = 5  # added to the largest number per level above one
    max_factor: int = 3  # largest multiplier
    max_product_base: int = 10  # only counts up to this are multiplied
    distractors: bool = True
    # None: level − 1 distractor sentences; N: 0 to N of them, drawn per problem at every level, so
    # a program's length is not its number of operations (a model must read, not count, its lines)
    max_distractors: int | None = None
    trap: float = 0.0  # the chance that a problem tells one of its additions as TRAP
    # TIR: each program line comes after its sentence, recited as a comment. Writing the next line
    # becomes copying the next sentence, which a small model carries past the longest story it
    # was taught; without it the model counts the lines it was taught (the rule-following idea).
    recite: bool = False


ONE_KNOB = WorldConfig(growth=0, max_distractors=1)


def word_problem(level: int, rng: random.Random, style: str = "cot", world: WorldConfig = WorldConfig()) -> dict:
    """One problem ``{question, answer, solution, level}``; the count never goes below zero."""
    if not 1 <= level <= 4:
        raise MathlensError(f"level {level}: choose 1 to 4")
    if style not in STYLES:
        raise MathlensError(f"style {style!r}: choose cot or tir")
    high = world.base_high + world.growth * (level - 1)
    name, thing = rng.choice(NAMES), rng.choice(THINGS)
    value = rng.randint(2, high)
    sentences = [f"{name} has {value} {thing}."]
    lines = [f"x = {value}"]  # the TIR program retells the story, a line per sentence
    steps = []
    for _ in range(level):
        op = rng.choice("+-*" if value <= world.max_product_base else "+-")
        b = rng.randint(2, world.max_factor) if op == "*" else rng.randint(1, high)
        if op == "-" and b > value:
            op = "+"
        new = {"+": value + b, "-": value - b, "*": value * b}[op]
        sentences.append(rng.choice(STEP[op]).format(name=name, b=b, thing=thing))
        lines.append(f"x = x {op} {b}")
        steps.append((value, op, b, new))
        value = new
    others = [n for n in NAMES if n != name]
    additions = [i for i, (_, op, _, _) in enumerate(steps) if op == "+"]
    trapped = world.trap > 0 and bool(additions) and rng.random() < world.trap  # no draw otherwise: worlds stay as they were
    if trapped:
        at = rng.choice(additions)
        sentences[at + 1] = TRAP.format(other=rng.choice(others), name=name, b=steps[at][2])
    if world.distractors:
        count = level - 1 if world.max_distractors is None else rng.randint(0, world.max_distractors)
        for _ in range(count):  # never before the first sentence: it introduces the count
            x = rng.randint(1, high)
            at = rng.randint(1, len(sentences))
            sentences.insert(at, rng.choice(DISTRACT).format(other=rng.choice(others), x=x, other_thing=rng.choice(THINGS)))
            lines.insert(at, f"y = {x}")
    question = " ".join(sentences) + f" How many {thing} does {name} have?"
    if world.recite:
        lines = [f"# {sentence}\n{line}" for sentence, line in zip(sentences, lines)]
    problem = {"question": question, "answer": str(value), "solution": solution(steps, lines, style), "level": level}
    return {**problem, "trap": True} if trapped else problem


def solution(steps: list[tuple[int, str, int, int]], lines: list[str], style: str) -> str:
    """The worked solution in ``style``: CoT states the (before, op, operand, after) ``steps``;
    TIR runs the program ``lines`` (a line per sentence, distractors into ``y``)."""
    answer = steps[-1][3]
    if style == "cot":
        return " ".join(f"{a}{op}{b}={c}." for a, op, b, c in steps) + f" The answer is \\boxed{{{answer}}}."
    from ..formats.tir import CLOSE_FENCE, CODE_FENCE, OUTPUT_FENCE  # formats import tasks: not at the top

    code = "\n".join([*lines, "print(x)"])
    return f"{CODE_FENCE}{code}{CLOSE_FENCE}{OUTPUT_FENCE}{answer}{CLOSE_FENCE}The answer is \\boxed{{{answer}}}."


def word_problems(
    n: int,
    seed: int = 0,
    levels: tuple[int, ...] = (1, 2, 3, 4),
    style: str = "cot",
    world: WorldConfig = WorldConfig(),
    prefix: str = "",
) -> list[dict]:
    """``n`` problems ``{id, question, answer, solution, level}``, levels taken in turn."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        row = word_problem(levels[i % len(levels)], rng, style, world)
        rows.append({"id": f"{prefix}{i}", **row})
    return rows
