"""What every verb shares: one-line user errors, the output console, flag → config key mapping."""

from __future__ import annotations

import copy
import dataclasses
import sys
import typing
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, Optional

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


def shown(value: Any) -> str:
    """A config value as the command line writes it: (50, 50) → 50,50; pairs joined by ';'."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "none"
    if isinstance(value, (tuple, list)):
        return (
            ";".join(shown(v) for v in value)
            if value and isinstance(value[0], (tuple, list))
            else ",".join(map(str, value))
        )
    return str(value)


def config_defaults(config: Any) -> Callable:
    """Show, in ``--help``, the default each unset (None) option really gets from ``config``
    (a resolved config: nested ``model``/``train`` fields count under their own names)."""
    values = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            values |= {g.name: getattr(value, g.name) for g in dataclasses.fields(value)}
        else:
            values[f.name] = value

    def wrap(fn: Callable) -> Callable:
        hints = typing.get_type_hints(fn, include_extras=True)
        for name, hint in hints.items():
            key = name.rstrip("_")
            if typing.get_origin(hint) is not typing.Annotated or values.get(key) is None:
                continue
            base, *extras = typing.get_args(hint)
            info = next((e for e in extras if isinstance(e, typer.models.OptionInfo)), None)
            if info is None:
                continue
            declared = isinstance(info.default, str) and info.default.startswith("-")  # typer.Option("--x/--no-x")
            if not (declared or info.default in (None, ...)) or info.show_default not in (True, None):
                continue
            info = copy.copy(info)  # the alias may be shared by verbs with other defaults
            if isinstance(values[key], bool):  # typer shows no default for --x/--no-x flags
                info.help = f"{info.help} Default: {'--' if values[key] else '--no-'}{key.replace('_', '-')}."
            else:
                info.show_default = shown(values[key])
            fn.__annotations__[name] = typing.Annotated[base, info]
        return fn

    return wrap


# How a Hugging Face model is loaded and prompted: the same flags on every verb that prompts one.
ModelArgsOption = Annotated[
    Optional[str],
    typer.Option(
        "--model-args",
        help="hf/vllm loading options, lm-eval's form: dtype=auto|float32|bfloat16,revision=…,device_map=auto,"
        "trust_remote_code=true,attn_implementation=sdpa,cache=DIR (where .gguf files are converted).",
    ),
]
ChatTemplateOption = Annotated[
    Optional[str],
    typer.Option(
        "--chat-template",
        help="auto (the model's chat template if it has one), on, or off (exactly the text, as a completion).",
    ),
]
FewshotAsTurnsOption = Annotated[
    Optional[bool],
    typer.Option("--fewshot-as-turns", help="Few-shot examples as alternating user/assistant turns, not one text."),
]
SystemOption = Annotated[Optional[str], typer.Option("--system", help="System prompt (replaces the template's).")]
