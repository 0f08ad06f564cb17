"""What every verb shares: one-line user errors, the output console, flag → config key mapping."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..errors import MathlensError

out_console = Console()
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bars.")]


def user_errors(fn: Callable) -> Callable:
    """Turn a MathlensError into one line on stderr and exit code 2, no traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MathlensError as err:
            print(f"mathlens: error: {err}", file=sys.stderr)
            raise typer.Exit(2) from None

    return wrapper


def capability(help: str) -> typer.Typer:
    """A sub-app whose verbs join the top level (``mathlens VERB``)."""
    return typer.Typer(help=help, add_completion=False, pretty_exceptions_enable=False)


def options(flags: dict) -> dict:
    """CLI parameters as config keys: drop UI-only ones, strip typer's trailing underscores."""
    skip = {"quiet", "config"}
    return {k.rstrip("_"): (str(v) if isinstance(v, Path) else v) for k, v in flags.items() if k not in skip}


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"
