"""What every verb shares: one-line user errors, the output console, flag → config key mapping."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from ..backends.chat import CHAT_TEMPLATE_MODES
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


# How a Hugging Face model is loaded and prompted: one help text on every verb that prompts one
# (config_options reads it for fields of these names; the verbs without a config class below).
SHARED_HELP = {
    "model_args": "hf/vllm loading options, lm-eval's form: dtype=auto|float32|bfloat16,revision=…,device_map=auto,"
    "trust_remote_code=true,attn_implementation=sdpa,cache=DIR (where .gguf files are converted).",
    "chat_template": "auto: the model's chat template if it has one; on; off: exactly the text, as a completion.",
    "fewshot_as_turns": "Few-shot examples as alternating user/assistant turns, not one text.",
    "system": "System prompt (replaces the template's).",
}
ModelArgsOption = Annotated[
    Optional[str], typer.Option("--model-args", help=SHARED_HELP["model_args"], show_default="none")
]
ReportToOption = Annotated[
    str,
    typer.Option(
        "--report-to",
        help="Live curves as it trains: none, tensorboard (event files under OUT) or wandb (WANDB_MODE=offline keeps "
        "the run local). `mathlens plot` draws the saved log afterwards either way.",
    ),
]
ChatTemplateOption = Annotated[
    Optional[str], typer.Option("--chat-template", help=f"{SHARED_HELP['chat_template']} One of: {', '.join(CHAT_TEMPLATE_MODES)}.")
]


def _yaml_defaults(ctx: typer.Context, param: Any, value: Optional[Path]) -> Optional[Path]:
    """Read ``--config`` before every other option and make its keys their defaults: click's
    ``default_map`` does the layering (flags win, then the file, then the verb's defaults) and
    converts each value by the option's own type. A key no option of the verb has is an error."""
    if value is None:
        return value
    from ..config import read_yaml

    names = {}
    for p in ctx.command.params:
        names[p.name] = p.name
        names |= {o.lstrip("-").replace("-", "_"): p.name for o in p.opts if o.startswith("--")}
    data = read_yaml(value)
    unknown = sorted(set(data) - set(names) - {"config"})
    if unknown:
        raise typer.BadParameter(f"{value}: no option {', '.join(unknown)} on this verb (keys are option names)")
    ctx.default_map = {**(ctx.default_map or {}), **{names[k]: v for k, v in data.items() if k != "config"}}
    return value


# ``--config`` for a verb without a config dataclass: a YAML file of its options, by name.
ConfigDefaults = Annotated[
    Optional[Path],
    typer.Option(
        "--config",
        is_eager=True,
        callback=_yaml_defaults,
        help="YAML file of any of these options, by option name (flags win).",
    ),
]

