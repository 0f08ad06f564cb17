"""Tasks by name: ``make_task("addition", low=0, high=99)``.

Adding a task is one file in this folder: a ``Task`` subclass with a ``name`` registers itself
when its module is imported, and every module here is imported below.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil

from ..errors import MathlensError
from .arithmetic import DIGITS, to_base
from .base import TASKS, Cell, Task

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
# The paper's folder names, so its data and our generator speak the same words.
ALIASES = {"linear_regression": "linear", "rabbits_and_chickens": "chicken_rabbit", "mod": "mod_addition"}


def make_task(name: str, **params) -> Task:
    """Build a task by name; unknown names get a did-you-mean error."""
    key = ALIASES.get(name, name)
    if key not in TASKS:
        close = difflib.get_close_matches(name, list(TASKS) + list(ALIASES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise MathlensError(f"unknown task {name!r}{hint}; choose from {', '.join(TASKS)}")
    cls = TASKS[key]
    fields = cls.__dataclass_fields__
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise MathlensError(f"task {key!r} takes no parameter {unknown[0]!r}; it takes {', '.join(fields)}")
    return cls(**params)


__all__ = ["DIGITS", "Task", "Cell", "TASKS", "make_task", "to_base"]
