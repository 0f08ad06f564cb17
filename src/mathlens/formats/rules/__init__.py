"""Rule programs for rule-following fine-tuning (RFFT), one plain Python function per file.

A rule file defines one function whose first two parameters are the operands as digit
lists (most significant first) and, optionally, ``base``; it returns the answer as a list
of digits (a leading ``"-"`` allowed). It may also define ``NATURAL`` and ``PSEUDO``: the
same rule in words and in pseudo-code, for prompts that state it that way. A user's own
file written to this contract works like the shipped ones.
"""

from __future__ import annotations

import importlib.util
import inspect
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import FunctionType

from ...errors import MathlensError

HERE = Path(__file__).parent
SHIPPED = tuple(sorted(p.stem for p in HERE.glob("*.py") if p.stem != "__init__"))  # named by tasks' ``rule``


@dataclass(frozen=True)
class Rule:
    name: str
    func: FunctionType
    code: str  # the function's source: what the prompt shows
    natural: str | None
    pseudo: str | None

    @property
    def takes_base(self) -> bool:
        return "base" in inspect.signature(self.func).parameters


@lru_cache(maxsize=64)  # a format renders thousands of examples with one rule: load the file once
def load_rule(name_or_path: str) -> Rule:
    """A shipped rule by name (a task's ``rule``: ``addition``, ``multiply_digit``…) or a
    user's rule file by path."""
    path = Path(name_or_path)
    if path.suffix != ".py":
        if name_or_path not in SHIPPED:
            raise MathlensError(
                f"no shipped rule for {name_or_path!r}; shipped: {', '.join(SHIPPED)}, or give a .py file"
            )
        path = HERE / f"{name_or_path}.py"
    if not path.is_file():
        raise MathlensError(f"{path}: no such rule file")
    spec = importlib.util.spec_from_file_location(f"mathlens_rule_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - any error in a user's file: name the file, not mathlens
        raise MathlensError(f"{path}: cannot load the rule ({type(err).__name__}: {err})") from None
    funcs = [f for f in vars(module).values() if isinstance(f, FunctionType) and f.__module__ == module.__name__]
    if len(funcs) != 1:
        raise MathlensError(f"{path}: a rule file must define exactly one function, found {len(funcs)}")
    func = funcs[0]
    return Rule(
        path.stem,
        func,
        inspect.getsource(func).rstrip(),
        getattr(module, "NATURAL", None),
        getattr(module, "PSEUDO", None),
    )
