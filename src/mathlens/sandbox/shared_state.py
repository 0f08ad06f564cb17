"""Could this snippet change what the next snippet on the same runner computes?

A runner is reused for the snippets that end well (forking a warm interpreter per snippet
costs ~10 ms). Fresh globals, builtins, environment and signal handlers are reset by the
runner, but the imported modules are shared: ``math.pi = 3``, ``sympy.solve = …`` or
``Fraction.__add__ = …`` would reach the next sample's code. So the caller reads each snippet's
syntax before sending it, and one that could write to anything it did not make itself runs
on a runner that is thrown away afterwards (the next snippet gets a fresh fork of the pristine
warm server). The worker also checks, after every snippet, the module table and a few global
settings this cannot see statically (``worker._Baseline``).

Conservative on purpose: a false alarm costs one fork (~10 ms); a miss lets one sample change
another's verdict. Typical TIR code (arithmetic, ``sympy.solve``, loops, ``print``) writes
only to names of its own and passes.
"""

from __future__ import annotations

import ast
import warnings
import re
from collections.abc import Sequence
from functools import lru_cache

_DUNDER = re.compile(r"__\w+__")

# Calls that reach past the snippet's own names, or run code this check cannot read.
_CALLS = {
    "setattr", "delattr", "exec", "eval", "compile", "__import__", "vars", "globals", "locals",
    "breakpoint", "open_code",
}  # fmt: skip
# Functions that change process-wide settings of the libraries TIR code uses.
_SETTERS = {
    "seed", "set_printoptions", "printoptions", "seterr", "seterrcall", "setbufsize", "init_printing",
    "init_session", "setcontext", "setlocale", "filterwarnings", "simplefilter", "resetwarnings",
    "setrecursionlimit", "set_int_max_str_digits", "settrace", "setprofile", "set_default_dtype",
    "register", "disable", "enable", "set_global_settings",
}  # fmt: skip
# Modules whose import lets a snippet reach the interpreter's internals.
_MODULES = {"importlib", "ctypes", "gc", "inspect", "builtins", "__builtin__", "imp", "sys", "types", "copyreg"}
# In-place methods, when called on something the snippet reached through an attribute
# (``sys.path.append``, ``sympy.core.cache.CACHE.clear``).
_MUTATORS = {
    "append", "extend", "insert", "remove", "pop", "popitem", "clear", "update", "setdefault", "add",
    "discard", "sort", "reverse", "__setitem__", "__delitem__",
}  # fmt: skip


def touches_shared_state(cells: Sequence[str]) -> bool:
    """True when any cell could write to state the next snippet would see."""
    return any(_cell_touches(cell) for cell in cells)


@lru_cache(maxsize=1 << 14)  # a TIR solution resends its earlier cells with every new one
def _cell_touches(cell: str) -> bool:
    try:
        with warnings.catch_warnings():  # model-written code warns ("invalid decimal literal"): not ours to say
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(cell)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False  # it will not run at all: nothing to leave behind
    return any(_suspicious(node) for node in ast.walk(tree))


def _suspicious(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        # Writing any attribute (the object may be a module or a class), or touching a private
        # or special one (``re._cache``, ``__dict__``, ``__code__``, ``__class__``).
        return isinstance(node.ctx, (ast.Store, ast.Del)) or node.attr.startswith("_")
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return not isinstance(node.value, ast.Name)  # sys.modules[...] = …, vars(m)[...] = …
    if isinstance(node, ast.Name):
        return node.id.startswith("__") or node.id in ("builtins",)  # __builtins__, __import__, __loader__
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _DUNDER.search(node.value) is not None  # getattr(m, "__dict__") and friends
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return False
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
        return any(name.split(".")[0] in _MODULES for name in names)
    if isinstance(node, ast.Call):
        return _suspicious_call(node)
    return False


def _suspicious_call(node: ast.Call) -> bool:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    if name in _CALLS or name in _SETTERS:
        return True
    if name == "getattr" and len(node.args) >= 2:  # reading is fine, unless the name is computed
        return not (isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str))
    if name in _MUTATORS and isinstance(func, ast.Attribute):
        return isinstance(func.value, ast.Attribute)  # an in-place change to something reached by attribute
    return False
