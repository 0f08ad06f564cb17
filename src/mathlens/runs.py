"""One guard for every run folder: refuse to mix work made with other settings, skip what is done.

Eval, the improvement loop, LSO and the corpus pipeline each keep their work in a folder that a
second run with the same ``--out`` resumes. What makes that safe is the same everywhere: the
folder's ``config.json`` says which settings made its work; a run with other settings is refused
(or, asked to, starts the folder over) rather than adding to it; finished work is found by its
keys (a problem's, a stage's) and skipped. The trainers' checkpoints hold their settings inside
and compare them with ``changed_settings``, the same comparison.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from .errors import MathlensError
from .records import cut_torn_tail, read_jsonl


def jsonable(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples → lists): how settings compare with a saved file."""
    return json.loads(json.dumps(value))


def _at(settings: dict, key: str, default: Any = None) -> Any:
    """``settings[key]``, where a dotted key reads a nested mapping (``prompting.stop``)."""
    value: Any = settings
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def _leaves(key: str, old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """Where two values differ: nested mappings by their dotted leaf keys, anything else whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [leaf for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)
                for leaf in _leaves(f"{key}.{k}", old.get(k), new.get(k))]  # fmt: skip
    return [(key, old, new)]


def changed_settings(saved: dict, wanted: dict, keys: Iterable[str] | None = None, defaults: dict | None = None,
                     ignore: Sequence[str] = ()) -> list[str]:  # fmt: skip
    """The keys (of ``keys``, else all of ``wanted``) whose value differs between a saved
    settings mapping and the wanted one; a key an older save lacks had its value in ``defaults``."""
    saved, wanted, defaults = jsonable(saved), jsonable(wanted), jsonable(defaults or {})
    names = list(keys) if keys is not None else list(wanted)
    return [k for k in names if k not in ignore and _at(saved, k, _at(defaults, k)) != _at(wanted, k)]


def slug(text: str) -> str:
    """A name as a folder may carry it: letters, digits, dots, dashes and pluses."""
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-") or "run"


def model_slug(model: str) -> str:
    """A model's short name: a hub id's name, a folder's name, a checkpoint file with its folder."""
    path = Path(model).resolve() if Path(model).exists() else Path(model)  # "." is the folder's own name
    if path.suffix in (".pt", ".gguf", ".bin", ".safetensors"):
        return slug(f"{path.parent.name}-{path.stem}" if path.suffix == ".pt" else path.stem)
    return slug(path.name or model)


def fresh_run_dir(parts: Sequence[str], root: str | Path = "runs", day: date | None = None) -> Path:
    """``root/part-part-…-YYYYMMDD``, a folder that does not exist yet: a run named for what it
    is, never written over (a second run of the same day gets ``-2``, then ``-3``)."""
    base = "-".join(slug(p) for p in [*parts, (day or date.today()).strftime("%Y%m%d")] if p)
    path, n = Path(root) / base, 1
    while path.exists():
        n += 1
        path = Path(root) / f"{base}-{n}"
    return path


class RunFolder:
    """A run's folder, its settings and the work in it.

    ``settings``: what ``config.json`` holds. ``compared``: the keys (dotted for nested ones) that
    make the work what it is; the others (the folder, a worker count) may change between runs.
    ``work``: files or folders whose presence means the folder holds work (none given: a saved
    config is enough). ``defaults``: what a key an older folder's config lacks meant.
    """

    def __init__(self, path: str | Path, settings: dict, compared: Iterable[str] | None = None,
                 work: Sequence[str] = (), defaults: dict | None = None) -> None:  # fmt: skip
        self.path = Path(path)
        self.settings = jsonable(settings)
        self.compared = list(compared) if compared is not None else list(self.settings)
        self.work, self.defaults = tuple(work), defaults or {}
        self.config_path = self.path / "config.json"

    def saved(self) -> dict | None:
        if not self.config_path.is_file():
            return None
        try:
            return json.loads(self.config_path.read_text())
        except json.JSONDecodeError:
            raise MathlensError(f"{self.config_path}: not valid JSON; use another --out or start the run over") from None

    def holds_work(self) -> bool:
        return self.saved() is not None and (not self.work or any((self.path / w).exists() for w in self.work))

    def changes(self) -> list[str]:
        """'key old → new' for every compared setting the folder's work was made without."""
        saved = self.saved() or {}
        keys = changed_settings(saved, self.settings, self.compared, self.defaults)
        said = []
        for k in keys:
            old, new = _at(saved, k, _at(self.defaults, k)), _at(self.settings, k)
            said += [f"{path} {a!r} → {b!r}" for path, a, b in _leaves(k, old, new)]
        return said

    def open(self, overwrite: bool = False, hint: str = "use another --out or --overwrite") -> RunFolder:
        """Check the folder (or, with ``overwrite``, clear its work), create it, save the settings."""
        if overwrite:
            self.clear()
        elif self.holds_work() and (changes := self.changes()):
            raise MathlensError(f"{self.path}: holds work made with other settings ({', '.join(changes)}); {hint}")
        self.path.mkdir(parents=True, exist_ok=True)
        self.save()
        return self

    def clear(self) -> None:
        """Remove the work (and the provenance of the run that made it: the next run is the first)."""
        (self.path / "provenance.json").unlink(missing_ok=True)
        for name in self.work:
            for path in self.path.glob(name):
                shutil.rmtree(path) if path.is_dir() else path.unlink()

    def save(self, extra: dict | None = None) -> None:
        """``config.json``, atomically; ``extra`` adds what a run learns once it starts (its prompting)."""
        if extra:
            self.settings = self.settings | jsonable(extra)
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.settings, indent=1))
        os.replace(tmp, self.config_path)

    def done_keys(self, name: str, key: Callable[[dict], Hashable]) -> set:
        """The keys of the records already in ``name`` (a JSON Lines file growing as work
        finishes); a torn last line is cut off first, so appending goes on from a whole line."""
        path = self.path / name
        if not path.exists():
            return set()
        cut_torn_tail(path)
        return {key(row) for _, row in read_jsonl(path)}

    def stages(self, sub: str = "") -> Stages:
        return Stages(self.path / sub if sub else self.path)


class StopAfter(Exception):
    """Raised after the stage a caller asked to stop at (tests kill a run this way)."""


class Stages:
    """The finished stages of one folder, in its ``stages.json``: a stage counts once its files
    are complete, so a killed run started again skips it and redoes the one it was in."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.path = folder, folder / "stages.json"
        self.done: dict[str, float] = json.loads(self.path.read_text()) if self.path.exists() else {}

    def run(self, name: str, work: Callable[[], None], stop_after: str | None = None) -> None:
        if name not in self.done:
            started = time.perf_counter()
            work()
            self.done[name] = round(time.perf_counter() - started, 2)
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.done, indent=1))
            os.replace(tmp, self.path)
        if stop_after == f"{self.folder.name}/{name}":
            raise StopAfter(stop_after)
