"""Experiment configs: defaults in a dataclass, a YAML file over them, CLI flags over both.

Strict on purpose: an unknown key or a value of the wrong type is an error that names the
file and the key, never a silent default.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .errors import MathlensError

C = TypeVar("C")


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise MathlensError(f"{path}: cannot read config ({err.strerror})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise MathlensError(f"{path}{line}: not valid YAML ({getattr(err, 'problem', err)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MathlensError(f"{path}: a config must be a mapping of keys to values")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def resolve(cls: type[C], file: str | Path | None = None, defaults: dict | None = None, **overrides: Any) -> C:
    """``cls`` defaults, then ``defaults`` (a verb's own), then the YAML ``file``, then
    every override that is not None."""
    values: dict[str, Any] = dict(defaults or {})
    if file is not None:
        values.update(_checked(cls, read_yaml(file), str(file)))
    values.update(_checked(cls, {k: v for k, v in overrides.items() if v is not None}, "command line"))
    return cls(**values)


def _checked(cls: type, values: dict[str, Any], source: str) -> dict[str, Any]:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    out = {}
    for key, value in values.items():
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise MathlensError(f"{source}: unknown key {key!r}{hint}")
        out[key] = _coerce(value, hints[key], f"{source}: key {key!r}")
    return out


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Accept a value that fits ``hint``; widen int→float and scalars→str; reject the rest."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None and type(None) in options:
        return None
    for option in options:
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if option is str and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    names = " or ".join(getattr(o, "__name__", str(o)) for o in options)
    raise MathlensError(f"{where} must be {names}, not {value!r}")
