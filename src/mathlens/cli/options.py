"""A verb's options made from its config dataclass: each knob is declared once, as a field.

The field gives the option its type, its default (shown in ``--help`` as the run really gets
it) and its help (``metadata={"help": …}``); a field that names a registry entry (a task, a
format, a position scheme, …) gets its choices listed from that registry, so that help cannot
drift from what the library accepts. Every option is ``None`` unless given, so that the verb's
``--config`` YAML fills what the command line leaves out (``mathlens.config.resolve``).

A verb is then its config class, the fields it offers, its example and its run call::

    @app.command(epilog="Example: mathlens lso …")
    @user_errors
    @config_options(LSOConfig, LSO_FIELDS)
    def lso(cfg: LSOConfig, quiet: Quiet = False) -> None:
        run_lso(cfg, progress=not quiet)
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..backends import BACKENDS
from ..backends.chat import CHAT_TEMPLATE_MODES
from ..backends.openai import APIS
from ..config import read_yaml, resolve
from ..errors import MathlensError
from ..formats import FORMATS
from ..formats.rule import RULE_TEXTS, STYLES
from ..lab.configs import SCHEMES
from ..models.shape import POSITIONS
from ..tasks import TASKS
from ..tasks.word_problems import STYLES as SOLUTION_STYLES
from .common import SHARED_HELP, shown

# Fields whose value names an entry of a registry: the help lists the registry, never a copy.
CHOICES: dict[str, Iterable[str]] = {
    "task": TASKS,
    "format": FORMATS,
    "formats": FORMATS,
    "positions": POSITIONS,
    "schemes": SCHEMES,
    "backend": BACKENDS,
    "chat_template": CHAT_TEMPLATE_MODES,
    "rule_text": RULE_TEXTS,
    "rule_style": STYLES,
    "api": APIS,
    "mode": SOLUTION_STYLES,
}
ConfigFile = Annotated[
    Optional[Path], typer.Option("--config", help="YAML file of any of these options, by field name (flags win).")
]
Defaults = dict[str, Any] | Callable[[Any], dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class Knob:
    """One field as the command line sees it: nested ``model``/``train``/``probe`` fields by their own names."""

    name: str
    hint: Any
    default: Any  # dataclasses.MISSING: required
    metadata: typing.Mapping[str, Any]


def knobs(cls: type) -> dict[str, Knob]:
    """Every field of ``cls``, nested configs' fields flat (a top-level name wins, as in ``resolve``)."""
    hints = typing.get_type_hints(cls)
    top, nested = {}, {}
    for f in dataclasses.fields(cls):
        default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
        if dataclasses.is_dataclass(hints[f.name]):
            for name, inner in knobs(hints[f.name]).items():
                nested.setdefault(name, dataclasses.replace(inner, default=getattr(default, name)))
        else:
            top[f.name] = Knob(f.name, hints[f.name], default, f.metadata)
    return nested | top


def config_options(
    cls: type,
    names: Sequence[str],
    *,
    defaults: Defaults | None = None,
    flags: dict[str, tuple[str, ...]] | None = None,
    help: dict[str, str] | None = None,
    default_text: dict[str, str] | None = None,
    required: Iterable[str] = (),
) -> Callable[[Callable], Callable]:
    """Give ``fn(cfg, **own)`` one option per field in ``names`` and ``--config``; it is called
    with ``cfg = resolve(cls, config, defaults, **options)``.

    ``defaults``: the verb's own defaults under the YAML file and the flags (a dict, or a
    function of the config resolved without them: a default that depends on another
    setting). ``flags``: option names other than ``--field-name``. ``help``: the verb's own
    help of a field (else its ``metadata["help"]``, else the shared one). ``default_text``:
    what the help says the default is (else ``metadata["default_text"]``, else the value),
    where the value alone says too little: None, or a default that depends on another setting.
    ``required``: fields the run needs although they have a default (no default: required
    anyway); they may come from ``--config``.
    """
    table = knobs(cls)
    verb_defaults = defaults if isinstance(defaults, dict) else {}
    needed = {n for n in names if table[n].default is dataclasses.MISSING} | set(required)
    options = {
        name: _option(
            table[name],
            (flags or {}).get(name),
            (help or {}).get(name),
            (default_text or {}).get(name),
            verb_defaults.get(name, table[name].default),
            name in needed,
        )
        for name in names
    }

    def wrap(fn: Callable) -> Callable:
        hints = typing.get_type_hints(fn, include_extras=True)
        own = list(inspect.signature(fn).parameters.values())[1:]  # the first is cfg
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints.get(p.name, p.annotation)) for p in own]
        made = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=a) for n, a in options.items()]
        config = inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ConfigFile)

        @wraps(fn)
        def verb(**given: Any) -> Any:
            file = given.pop("config")
            mine = {p.name: given.pop(p.name) for p in own}
            flat = {k: (None if v == [] else str(v) if isinstance(v, Path) else v) for k, v in given.items()}
            return fn(configured(cls, file, defaults, flat, needed), **mine)

        verb.__signature__ = inspect.Signature([*made, config, *own])
        verb.__annotations__ = {p.name: p.annotation for p in verb.__signature__.parameters.values()}
        return verb

    return wrap


def configured(cls: type, file: Path | None, defaults: Defaults | None, flags: dict, needed: set[str]) -> Any:
    """The run's config: ``cls`` defaults, the verb's, the YAML file, the flags; a required
    field given nowhere is named as the flag the user can type."""
    given = {k for k, v in flags.items() if v is not None} | (set(read_yaml(file)) if file is not None else set())
    missing = sorted(needed - given)
    if missing:
        names = " and ".join("--" + m.replace("_", "-") for m in missing)
        raise MathlensError(f"{names} {'is' if len(missing) == 1 else 'are'} required (a flag or a --config key)")
    if callable(defaults):
        defaults = defaults(resolve(cls, file, **flags))
    return resolve(cls, file, defaults, **flags)


def _option(knob: Knob, decls: tuple[str, ...] | None, help: str | None, text: str | None, default: Any,
            needed: bool) -> Any:  # fmt: skip
    """``Annotated[Optional[T], typer.Option(…)]`` for one field."""
    kind = _kind(knob)
    flag = knob.name.replace("_", "-")
    decls = decls or ((f"--{flag}/--no-{flag}",) if kind is bool else (f"--{flag}",))
    words = help or knob.metadata.get("help") or SHARED_HELP.get(knob.name)
    if words is None:
        raise TypeError(f"{knob.name}: no help (give the field metadata={{'help': …}} or the verb a help text)")
    if knob.name in CHOICES:
        several = typing.get_origin(_base(knob.hint)) is tuple
        words += f" {'Comma-separated, any' if several else 'One'} of: {', '.join(CHOICES[knob.name])}."
    text = text or knob.metadata.get("default_text")
    show: str | bool = False
    if needed:
        words += " Required (a flag or a --config key)."
    elif text is not None:
        show = text
    elif kind is bool and default is not None:
        words += f" Default: {'--' if default else '--no-'}{flag}."
    else:
        show = "none" if default is None else shown(default) or "none"
    return Annotated[Optional[kind], typer.Option(*decls, help=words, show_default=show)]


def _base(hint: Any) -> Any:
    """``X`` of ``X | None``."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    return args[0] if union and len(args) == 1 else hint


def _kind(knob: Knob) -> Any:
    """The type the command line takes: a compact string where the field parses one."""
    base = _base(knob.hint)
    if knob.metadata.get("parse") is not None:
        return str
    if base in (bool, int, float, str):
        return base
    if typing.get_origin(base) is tuple and typing.get_args(base) == (str, Ellipsis):
        return list[str]  # a repeated option
    raise TypeError(f"{knob.name}: no command-line form for {knob.hint} (give the field config.parsed(…))")
