"""Experiment configs: defaults in frozen dataclasses, a YAML file over them, CLI flags over both.

Every value is coerced here, once, into the type its field declares: YAML lists and pairs
(``center: [[20, 20], [70, 70]]``, ``radius: [1, 2, 4]``, ``steps_by_format: {direct: 1000}``)
and the compact strings the command line takes (``"20,20;70,70"``, ``"1,2,4"``,
``"direct=1000"``) become the same tuples and dicts. A nested config (``model``, ``train``)
takes a YAML mapping or its fields as flat keys (``n_layer: 3``, ``--steps 500``).

Strict on purpose: an unknown key or a value of the wrong type is an error that names the
file and the key, never a silent default.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .errors import MathlensError

C = TypeVar("C")


# ---------------------------------------------------------------- the command line's compact forms


def parse_span(text: str) -> tuple[int, int]:
    """'0-99' → (0, 99), inclusive."""
    try:
        low, high = (int(x) for x in text.split("-"))
    except ValueError:
        raise MathlensError(f"range {text!r} must look like 0-99 (low-high, inclusive)") from None
    return low, high


def parse_pairs(text: str) -> tuple[tuple[int, int], ...]:
    """'50,50' or '20,20;70,70' → ((x, y), …)."""
    pairs = []
    for part in text.replace(" ", "").split(";"):
        try:
            x, y = (int(v) for v in part.split(","))
        except ValueError:
            raise MathlensError(f"centre {part!r} must look like 50,50 (several: 20,20;70,70)") from None
        pairs.append((x, y))
    return tuple(pairs)


def parse_ints(text: str) -> tuple[int, ...]:
    """'1,2,4' → (1, 2, 4)."""
    try:
        return tuple(int(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        raise MathlensError(f"{text!r} must be integers separated by commas") from None


def parse_digits(text: str) -> tuple[int, ...]:
    """'1-5' → (1, …, 5); '1-3,5' → (1, 2, 3, 5)."""
    out: set[int] = set()
    try:
        for part in text.replace(" ", "").split(","):
            low, _, high = part.partition("-")
            out.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise MathlensError(f"digits {text!r} must look like 1-5 or 1-3,5") from None
    return tuple(sorted(out))


def parse_names(text: str) -> tuple[str, ...]:
    """'direct,rule' → ('direct', 'rule')."""
    return tuple(n.strip() for n in text.split(",") if n.strip())


def parse_int_map(text: str) -> dict[str, int]:
    """'direct=1000,tir=2000' → {'direct': 1000, 'tir': 2000}."""
    try:
        return {k.strip(): int(v) for k, v in (p.split("=") for p in text.split(",") if p.strip())}
    except ValueError:
        raise MathlensError(f"{text!r} must look like direct=4000,tir=2000") from None


def setting(help: str, default_text: str | None = None, parse: Callable[[str], Any] | None = None, **kwargs: Any) -> Any:
    """A dataclass field that documents itself: ``help`` (and ``default_text``, what ``--help``
    says the default is where the value alone says too little) are what the CLI shows for it,
    so the words live beside the default they describe (``cli.options`` reads them)."""
    metadata = {"help": help} | ({"default_text": default_text} if default_text else {})
    return dataclasses.field(metadata=metadata | ({"parse": parse} if parse else {}), **kwargs)


def parsed(parse: Callable[[str], Any], help: str | None = None, default_text: str | None = None, **kwargs: Any) -> Any:
    """A dataclass field whose value may also be given as a compact string, read by ``parse``."""
    if help is not None:
        return setting(help, default_text, parse, **kwargs)
    return dataclasses.field(metadata={"parse": parse}, **kwargs)


# ---------------------------------------------------------------- reading and resolving


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
    layers = [(dict(defaults or {}), "defaults")]
    if file is not None:
        layers.append((read_yaml(file), str(file)))
    layers.append(({k: v for k, v in overrides.items() if v is not None}, "command line"))
    values: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {name: {} for name in _nested_fields(cls)}
    for raw, source in layers:
        for path, value in _checked(cls, raw, source):
            if len(path) == 2:
                nested[path[0]][path[1]] = value
            elif path[0] in nested:
                nested[path[0]].update(value)
            else:
                values[path[0]] = value
    for name, updates in nested.items():
        if updates:
            values[name] = dataclasses.replace(_default(cls, name), **updates)
    return cls(**values)


def _nested_fields(cls: type) -> dict[str, type]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if dataclasses.is_dataclass(hints[f.name])}


def _default(cls: type, name: str) -> Any:
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()


def _checked(cls: type, values: dict[str, Any], source: str) -> list[tuple[tuple[str, ...], Any]]:
    """(field path, coerced value) per key; a nested config's flat keys get a two-part path."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    nested = _nested_fields(cls)
    out = []
    for key, value in values.items():
        if key in nested:
            if not isinstance(value, dict):
                raise MathlensError(f"{source}: key {key!r} must be a mapping of its own keys")
            out.append(((key,), {path[-1]: v for path, v in _checked(nested[key], value, f"{source}: {key}")}))
            continue
        if key not in fields:
            owner = next((n for n, sub in nested.items() if key in {f.name for f in dataclasses.fields(sub)}), None)
            if owner is not None:
                ((_, v),) = _checked(nested[owner], {key: value}, source)
                out.append(((owner, key), v))
                continue
            known = list(fields) + [f.name for sub in nested.values() for f in dataclasses.fields(sub)]
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise MathlensError(f"{source}: unknown key {key!r}{hint}")
        where = f"{source}: key {key!r}"
        parse = fields[key].metadata.get("parse")
        if parse is not None and isinstance(value, str):
            try:
                value = parse(value)
            except MathlensError as err:
                raise MathlensError(f"{where}: {err}") from None
        out.append(((key,), _coerce(value, hints[key], where)))
    return out


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Accept a value that fits ``hint``: widen int→float and scalars→str, lists→tuples, one
    item → a tuple of one; reject the rest."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(hint, types.UnionType) or origin is typing.Union:
        if value is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, option, where)
            except MathlensError:
                continue
        raise MathlensError(f"{where} must be {_name(hint)}, not {value!r}")
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            items = value if isinstance(value, (list, tuple)) else [value]
            if items and typing.get_origin(args[0]) is tuple and not isinstance(items[0], (list, tuple)):
                items = [items]  # one pair where a list of pairs is expected
            return tuple(_coerce(v, args[0], where) for v in items)
        if isinstance(value, (list, tuple)) and len(value) == len(args):
            return tuple(_coerce(v, a, where) for v, a in zip(value, args))
        raise MathlensError(f"{where} must be a list of {len(args)} ({_name(hint)}), not {value!r}")
    if origin is dict:
        if not isinstance(value, dict):
            raise MathlensError(f"{where} must be a mapping, not {value!r}")
        return {_coerce(k, args[0], where): _coerce(v, args[1], where) for k, v in value.items()}
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is str and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise MathlensError(f"{where} must be {_name(hint)}, not {value!r}")


def _name(hint: Any) -> str:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return " or ".join(_name(a) for a in typing.get_args(hint))
    return getattr(hint, "__name__", str(hint)) if typing.get_origin(hint) is None else str(hint).replace("typing.", "")
