"""What an answer format is: a way to write a task example as (prompt, target) and read it back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from ..errors import MathlensError
from ..tasks import Task


@dataclass(frozen=True)
class Format(ABC):
    """Every format ends its target with the answer on the last line, so one reader
    (``grading.final_answer``) serves all. A format asks the task for the facts it needs
    (``Task.is_sum``, ``Task.rule``, ``Task.program``…), never for its name."""

    name = "format"
    needs = ""  # what a task must offer for this format, for the error message

    def supports(self, task: Task) -> bool:
        return True

    def check(self, task: Task) -> None:
        if not self.supports(task):
            raise MathlensError(f"format {self.name!r} has no rendering for task {task.name!r}: it needs {self.needs}")

    def statement(self, task: Task) -> str:
        """What the prompt says before any question (the rule, for rule-following); once per
        prompt, also when demonstrations follow it."""
        return ""

    def question(self, task: Task, a: int, b: int) -> str:
        return task.prompt(a, b)

    def prompt(self, task: Task, a: int, b: int) -> str:
        return self.statement(task) + self.question(task, a, b)

    @abstractmethod
    def target(self, task: Task, a: int, b: int) -> str: ...

    def read(self, completion: str) -> str | None:
        """The answer a completion gives, as the task writes it (formats that rewrite numbers undo that here)."""
        from ..grading import final_answer

        return final_answer(completion)


@dataclass(frozen=True)
class Direct(Format):
    """The answer only: what a case-based model memorises cell by cell."""

    name = "direct"

    def target(self, task: Task, a: int, b: int) -> str:
        return task.answer(a, b)
