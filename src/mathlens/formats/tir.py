"""Tool-integrated reasoning: the model writes a program, the interpreter runs it, the output is
fed back, and the model then states the answer. The model never does the arithmetic itself.

A target reads ``code block → output block → answer``. At inference ``solve_with_tools``
decodes until the output fence, runs the last code block, appends what it printed and lets
the model go on: batched across prompts, at most ``max_calls`` tool calls each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..sandbox import Sandbox
from ..tasks import Task
from ..tasks.arithmetic import to_base
from .base import Format

CODE_FENCE = "```python\n"
OUTPUT_FENCE = "```output\n"
_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class ToolIntegrated(Format):
    name = "tir"
    tasks: tuple[str, ...] = ("addition", "subtraction", "multiplication", "mod_addition", "base_addition", "linear")

    def program(self, task: Task, a: int, b: int) -> str:
        """A program that prints the answer from the operands exactly as the prompt shows them."""
        self.check(task)
        if task.name == "base_addition":
            x, y, base = to_base(a, task.base), to_base(b, task.base), task.base
            return (
                f"n=int('{x}',{base})+int('{y}',{base})\ns=''\nwhile n:\n"
                f"    n,d=divmod(n,{base})\n    s='0123456789abcdefghijklmnopqrstuvwxyz'[d]+s\nprint(s or '0')"
            )
        expr = {
            "addition": f"{a}+{b}",
            "subtraction": f"{a}-{b}",
            "multiplication": f"{a}*{b}",
            "mod_addition": f"({a}+{b})%{getattr(task, 'modulus', 0)}",
            "linear": f"{getattr(task, 'wa', 0)}*{a}+{getattr(task, 'wb', 0)}*{b}+{getattr(task, 'bias', 0)}",
        }[task.name]
        return f"print({expr})"

    def target(self, task: Task, a: int, b: int) -> str:
        # The output block holds what the program prints, which is the answer (a test runs them).
        answer = task.answer(a, b)
        return f"{CODE_FENCE}{self.program(task, a, b)}\n```\n{OUTPUT_FENCE}{answer}\n```\n{answer}"


RunCells = Callable[[list[list[str]]], list[str]]  # per sample: its code cells so far → the last one's output


def sandbox_runner(box: Sandbox) -> RunCells:
    """Run each sample's cells on the sandbox, state carried from its earlier calls."""
    return lambda cells: [result.output for result in box.run_many(cells)]


@dataclass
class ToolSample:
    prompt: Any  # a text, or anything that ``+ str`` continues (a chat ``Conversation``)
    completion: str = ""
    calls: list[dict] = field(default_factory=list)  # {"code", "output"} per tool call


def last_code_block(text: str) -> str | None:
    blocks = _CODE_BLOCK.findall(text)
    return blocks[-1] if blocks else None


def solve_with_tools(
    generate: Callable[[list[Any]], list[str]],
    prompts: Sequence[Any],
    run: RunCells,
    max_calls: int = 2,
    groups: int = 1,
) -> list[ToolSample]:
    """Decode, run the code each sample asks for, feed the output back, decode on.

    ``generate`` maps texts to continuations (one batched call per group and round); ``run``
    executes a group's code at once (``sandbox_runner``), each sample's earlier code blocks
    replayed first, so a solution's cells share state as in a notebook. A continuation that
    reaches the output fence is cut there; whatever the model would have made up as the
    output is replaced by the real one.

    With ``groups`` > 1 the samples are split into groups that take turns: while one group's
    code runs in the sandbox (on a background thread), the next group decodes.
    """
    samples = [ToolSample(p) for p in prompts]
    parts = [list(range(g, len(samples), max(groups, 1))) for g in range(max(groups, 1))]
    rounds = [0] * len(parts)
    pending: list[tuple[Future, list[tuple[int, str]]] | None] = [None] * len(parts)
    with ThreadPoolExecutor(max_workers=1) as tools:
        while any(parts) or any(pending):
            for g in range(len(parts)):
                if pending[g] is not None:  # this group's tool calls: wait, feed the outputs back
                    future, waiting = pending[g]
                    for (i, code), output in zip(waiting, future.result()):
                        samples[i].completion += f"{output}\n```\n"
                        samples[i].calls.append({"code": code, "output": output})
                    parts[g], pending[g] = [i for i, _ in waiting], None
                if not parts[g]:
                    continue
                waiting = _decode_round(samples, parts[g], generate, final=rounds[g] >= max_calls)
                rounds[g] += 1
                parts[g] = []
                if waiting:
                    cells = [[c["code"] for c in samples[i].calls] + [code] for i, code in waiting]
                    pending[g] = (tools.submit(run, cells), waiting)
    return samples


def _decode_round(samples: list[ToolSample], active: list[int], generate, final: bool) -> list[tuple[int, str]]:
    """One batched decode of ``active`` samples; those that stop at the output fence, with their code."""
    outs = generate([samples[i].prompt + samples[i].completion for i in active])
    waiting = []
    for i, out in zip(active, outs):
        cut = out.find(OUTPUT_FENCE)
        code = last_code_block(samples[i].completion + out[:cut]) if cut >= 0 else None
        if code is not None and not final:
            samples[i].completion += out[: cut + len(OUTPUT_FENCE)]
            waiting.append((i, code))
        else:
            samples[i].completion += out
    return waiting
