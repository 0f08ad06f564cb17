"""Tool-integrated reasoning: the model writes a program, the interpreter runs it, the output is
fed back, and the model then states the answer. The model never does the arithmetic itself.

A target reads ``code block → output block → answer``. The fences below are the protocol the
tool loop (``backends.tools``) speaks at inference: it decodes to the output fence, runs the
last code block and feeds back what it printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..tasks import Task
from .base import Format

CODE_FENCE = "```python\n"
OUTPUT_FENCE = "```output\n"
CLOSE_FENCE = "\n```\n"
_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def last_code_block(text: str) -> str | None:
    blocks = _CODE_BLOCK.findall(text)
    return blocks[-1] if blocks else None


@dataclass(frozen=True)
class ToolIntegrated(Format):
    name = "tir"
    needs = "a program that prints the answer (Task.program or Task.expression)"

    def supports(self, task: Task) -> bool:
        return task.program(task.low, task.low) is not None

    def program(self, task: Task, a: int, b: int) -> str:
        """A program that prints the answer from the operands exactly as the prompt shows them."""
        self.check(task)
        return task.program(a, b)

    def target(self, task: Task, a: int, b: int) -> str:
        # The output block holds what the program prints, which is the answer (a test runs them).
        answer = task.answer(a, b)
        return f"{CODE_FENCE}{self.program(task, a, b)}\n```\n{OUTPUT_FENCE}{answer}{CLOSE_FENCE}{answer}"
