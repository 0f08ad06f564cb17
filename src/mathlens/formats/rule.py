"""Rule-following (RFFT): the target recites the rule program's execution, line by line.

The recitation is read off the running program (``trace.py``). Two renderings:

- ``compact`` (for the tiny from-scratch model): one line per executed line, its number then
  the values it set (``5 5 9`` = line 5 left num1=[5], set digit1=9) or ``T``/``F`` for a
  test. The rule is fixed, so by default the prompt does not repeat it: a from-scratch model
  gains nothing from a constant prefix but pays for it in every position.
- ``code`` (for pretrained models, the paper's shape): each executed line in a code fence,
  the test's value or the variables it set, and ``Therefore, the answer is …``; the prompt
  carries the rule as code, in words or as pseudo-code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import MathlensError
from ..tasks import DIGITS, Task
from .base import Format
from .rules import Rule, load_rule
from .trace import Step, trace_call

STYLES = ("compact", "code")
RULE_TEXTS = ("none", "code", "natural", "pseudo")


def digits(n: int, base: int = 10) -> list[int]:
    out = []
    while True:
        n, d = divmod(n, base)
        out.insert(0, d)
        if n == 0:
            return out


def _compact_value(v: Any) -> str:
    if isinstance(v, bool):
        return "T" if v else "F"
    if isinstance(v, list):
        return "".join(str(x) for x in v) or "_"
    return str(v)


def render_compact(steps: list[Step]) -> list[str]:
    lines = []
    for s in steps:
        parts = [str(s.lineno)]
        if s.condition is not None:
            parts.append(_compact_value(s.condition[1]))
        parts += [_compact_value(v) for _, v in s.changes]
        lines.append(" ".join(parts))
    return lines


def render_code(steps: list[Step]) -> list[str]:
    lines = []
    for s in steps:
        lines += ["```", s.line, "```"]
        if s.condition is not None:
            expr, value = s.condition
            lines.append(f"bool({expr})={value}" if expr.isidentifier() else f"{expr}={value}")
        lines += [f"{k}={v!r}" for k, v in s.changes]
    return lines


@dataclass(frozen=True)
class RuleFollowing(Format):
    name = "rule"
    needs = "a rule program (Task.rule, or --rule FILE)"
    rule: str | None = None  # a rule file; None: the shipped rule of the task
    style: str = "compact"
    rule_text: str | None = None  # how the prompt states the rule; None: none (compact), code (code)

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise MathlensError(f"rule style must be one of {', '.join(STYLES)}, not {self.style!r}")
        if self.rule_text is not None and self.rule_text not in RULE_TEXTS:
            raise MathlensError(f"rule text must be one of {', '.join(RULE_TEXTS)}, not {self.rule_text!r}")

    def supports(self, task: Task) -> bool:
        return self.rule is not None or task.rule is not None

    def load(self, task: Task) -> Rule:
        self.check(task)
        return load_rule(self.rule or task.rule)

    def statement(self, task: Task) -> str:
        how = self.rule_text or ("none" if self.style == "compact" else "code")
        if how == "none":
            return ""
        rule = self.load(task)
        if how == "code":
            return f"Follow the code step by step to answer the question:\n```python\n{rule.code}\n```\n"
        text = rule.natural if how == "natural" else rule.pseudo
        if text is None:
            raise MathlensError(f"rule {rule.name!r} has no {how} text ({how.upper()} in its file)")
        return f"Follow the rule step by step to answer the question:\n{text}\n"

    def target(self, task: Task, a: int, b: int) -> str:
        rule = self.load(task)
        base = task.base
        if task.single_digit_b and not 0 <= b < base:
            raise MathlensError(f"the {rule.name} rule needs a single-digit b, not {b}")
        args = [digits(a, base), digits(b, base)]
        inputs = [f"num1={args[0]!r}", f"num2={args[1]!r}"]  # before the rule pops them
        trace = trace_call(rule.func, *args, **({"base": base} if rule.takes_base else {}))
        answer = "".join(x if isinstance(x, str) else DIGITS[x] for x in trace.result)
        if answer != task.answer(a, b):
            raise MathlensError(
                f"rule {rule.name!r} gives {answer} for {task.prompt(a, b)} but the answer is {task.answer(a, b)}"
            )
        if self.style == "compact":
            return "\n".join([*render_compact(trace.steps), answer])
        return "\n".join([*inputs, *render_code(trace.steps), f"Therefore, the answer is {answer}."])
