"""Run a rule program under ``sys.settrace`` and record, per executed line, what it did.

This is what makes rule-following data correct by construction: the recitation is not
written by hand per task but read off the program as it runs, so any rule written as a
plain Python function yields its own step-by-step trace.
"""

from __future__ import annotations

import ast
import copy
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

_CONDITIONS = ("while ", "if ", "elif ")


@dataclass
class Step:
    lineno: int  # within the function's source, 1 = the ``def`` line
    line: str  # the source line, stripped
    condition: tuple[str, bool] | None = None  # a while/if test and its value before the line ran
    changes: list[tuple[str, Any]] = field(default_factory=list)  # variables the line set, in order


@dataclass
class Trace:
    steps: list[Step]
    result: Any


@lru_cache(maxsize=64)
def _source_lines(func: Callable) -> list[str]:
    return inspect.getsource(func).splitlines()


@lru_cache(maxsize=1024)
def _assigned_names(line: str) -> frozenset[str]:
    """Names a line assigns: these count as set even when the value happens not to change."""
    try:
        tree = ast.parse(line)
    except SyntaxError:  # a line that opens a block (``while x:``) does not parse alone
        return frozenset()
    return frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))


def trace_call(func: Callable, *args: Any, **kwargs: Any) -> Trace:
    """Call ``func`` and record every line it executes with the variables that line changed.

    Conditions of ``while``/``if`` lines are evaluated once more on the frame's variables,
    so rule programs must keep their tests free of side effects.
    """
    code = func.__code__
    first = code.co_firstlineno
    source = _source_lines(func)
    steps: list[Step] = []
    before: dict[str, Any] = {}

    def finish(frame) -> None:
        if steps:
            now, assigned = frame.f_locals, _assigned_names(steps[-1].line)
            steps[-1].changes = [
                (k, copy.deepcopy(v)) for k, v in now.items() if k in assigned or k not in before or before[k] != v
            ]

    def local(frame, event, arg):
        nonlocal before
        if event in ("line", "return"):
            finish(frame)
        if event == "line":
            text = source[frame.f_lineno - first].strip()
            step = Step(frame.f_lineno - first + 1, text)
            if text.startswith(_CONDITIONS) and text.endswith(":"):
                expr = text.split(" ", 1)[1][:-1].strip()
                step.condition = (expr, bool(eval(expr, func.__globals__, dict(frame.f_locals))))
            steps.append(step)
            before = copy.deepcopy(dict(frame.f_locals))
        return local

    def enter(frame, event, arg):
        return local if event == "call" and frame.f_code is code else None

    previous = sys.gettrace()
    sys.settrace(enter)
    try:
        result = func(*args, **kwargs)
    finally:
        sys.settrace(previous)
    return Trace(steps, result)
