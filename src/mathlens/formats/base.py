"""What an answer format is: a way to write a task example as (prompt, target) and read it back."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from ..errors import MathlensError
from ..tasks import Task

_ANSWER_IS = re.compile(r"answer is:?\s*(.+?)\.?\s*$")


def final_answer(completion: str) -> str | None:
    """The answer a completion gives: its last line, or what follows 'the answer is'."""
    lines = [line for line in completion.strip().splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1].strip()
    found = _ANSWER_IS.search(last)
    return found[1] if found else last


@dataclass(frozen=True)
class Format(ABC):
    """Every format ends its target with the answer on the last line, so one reader serves all."""

    name = "format"
    tasks: tuple[str, ...] = ()  # the task names this format can write; empty: all

    def check(self, task: Task) -> None:
        if self.tasks and task.name not in self.tasks:
            raise MathlensError(
                f"format {self.name!r} has no rendering for task {task.name!r}; it supports {', '.join(self.tasks)}"
            )

    def prompt(self, task: Task, a: int, b: int) -> str:
        return task.prompt(a, b)

    @abstractmethod
    def target(self, task: Task, a: int, b: int) -> str: ...


@dataclass(frozen=True)
class Direct(Format):
    """The answer only: what a case-based model memorises cell by cell."""

    name = "direct"

    def target(self, task: Task, a: int, b: int) -> str:
        return task.answer(a, b)
