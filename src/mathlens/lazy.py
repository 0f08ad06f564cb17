"""Package names that load on first use (PEP 562): reading a config must not import torch."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<where[name]>`` when ``name`` is first used
    (a module named with leading dots, ``"..decontam"``, is relative to ``package``)."""

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = where[name] if where[name].startswith(".") else "." + where[name]
        return getattr(importlib.import_module(module, package), name)

    return __getattr__
