"""Where a run's numbers came from: ``provenance.json`` in every run folder.

A metric is only worth quoting if it can be traced back: which code (the project's commit and
whether the tree was dirty, the versions of the libraries that did the work), which model
(its id, revision and a hash of the weights that were read), which data (each benchmark's
source and a hash of the problems as loaded), which chat template, on which device, how long
it took. ``recorded`` writes all of it when a run starts and adds the wall time when it ends;
a resumed run keeps the earlier starts under ``earlier``. ``report`` reads it back to say what
it compares and to refuse comparing different problem sets.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import MathlensError

FILE = "provenance.json"
PACKAGES = ("mathlens", "torch", "transformers", "trl", "peft", "accelerate", "datasets", "math-verify", "numpy",
            "vllm", "datatrove", "fasttext")  # fmt: skip
WEIGHTS = ("*.safetensors", "*.bin", "*.pt", "*.gguf")  # what a model folder's weights are stored in


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """The installed version of each package that is installed."""
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def project_commit() -> dict[str, Any] | None:
    """The commit of the checkout mathlens runs from, and whether its tree had changes (None
    for an installed wheel, which has no checkout)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0:
        return None
    return {"sha": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def _cpu_name() -> str:
    """The processor's model name (Linux says it in /proc/cpuinfo; elsewhere the platform's word)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device() -> dict[str, Any]:
    """The accelerator the run could use, else the CPU, with the core count."""
    found: dict[str, Any] = {"cpu": _cpu_name(), "cores": os.cpu_count()}
    try:
        import torch

        if torch.cuda.is_available():
            found["cuda"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        pass
    return found


def file_sha256(path: str | Path, cache: Path | None = None) -> str:
    """The SHA-256 of a file's content (16 hex digits). Models are large and runs many: the
    digest is kept in ``cache`` by path, size and modification time, so a file is read once."""
    path = Path(path).resolve()
    stat = path.stat()
    key = f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
    known = _read_cache(cache)
    if key in known:
        return known[key]
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    value = digest.hexdigest()[:16]
    if cache is not None:
        known[key] = value
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known))
        os.replace(tmp, cache)
    return value


def _read_cache(cache: Path | None) -> dict[str, str]:
    try:
        return json.loads(cache.read_text()) if cache is not None and cache.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}


def weights_record(model: str) -> dict[str, Any]:
    """What was read as the model's weights: a local file's or folder's weight files with their
    hashes; a packaged model's GGUF file; for a hub id, nothing local to hash."""
    from .models.sources import PACKAGED, cache_dir, packaged_file

    cache = cache_dir() / "hashes.json"
    if model in PACKAGED:
        path = packaged_file(model)
        return {"path": str(path), "sha256": file_sha256(path, cache)}
    path = Path(model).expanduser()
    if path.is_file():
        return {"path": str(path.resolve()), "sha256": file_sha256(path, cache)}
    if path.is_dir():
        files = sorted({f for pattern in WEIGHTS for f in path.glob(pattern) if f.is_file()})
        return {"path": str(path.resolve()), "files": {f.name: file_sha256(f, cache) for f in files}}
    return {"hub": model}


def model_record(model: str | None, backend: str = "", revision: str | None = None, tokenizer: Any = None,
                 **more: Any) -> dict[str, Any] | None:  # fmt: skip
    """A model as a run used it: id, backend, revision, weights and the chat template's hash
    (None for a run that trains its own from scratch: its config says the architecture)."""
    from .backends.chat import template_hash

    if not model:
        return None

    record: dict[str, Any] = {"id": model, "backend": backend or None, "revision": revision}
    try:
        record["weights"] = weights_record(model)
    except Exception as err:  # a model that cannot be traced must not stop the run; say why
        record["weights"] = {"error": f"{type(err).__name__}: {err}"}
    record["chat_template_sha256"] = template_hash(tokenizer) if callable(tokenizer) else None
    return record | more


def problems_sha256(rows: Iterable[tuple[Any, ...]]) -> str:
    """A hash of a problem set as loaded (each problem's id, question and answer, in order):
    two runs with the same hash read the same problems, whatever file or hub they came from."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps([str(x) for x in row], ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()[:16]


def data_record(name: str, source: str | Path, rows: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
    """One data set a run read: its name, where it came from (a path or a hub id), its size and hash."""
    source = str(Path(source).resolve()) if Path(str(source)).exists() else str(source)
    return {"name": name, "source": source, "problems": len(rows), "sha256": problems_sha256(rows)}


def file_record(name: str, path: str | Path) -> dict[str, Any]:
    """A data file a run read, by its content."""
    path = Path(path)
    return {"name": name, "source": str(path.resolve()), "sha256": file_sha256(path)}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_provenance(folder: str | Path) -> dict[str, Any] | None:
    """A run folder's provenance, or None where it has none (a run from before it was written)."""
    path = Path(folder) / FILE
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except json.JSONDecodeError:
        return None


def _write(folder: Path, record: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record, indent=1, default=str))
    os.replace(tmp, folder / FILE)


SECRET = ("key", "token", "secret", "password")  # flags whose value a record must not keep


def redacted(argv: Sequence[str]) -> list[str]:
    """The command line with the values of secret flags (``--api-key sk-…``) replaced."""
    out: list[str] = []
    hide = False
    for arg in argv:
        flag, eq, value = arg.partition("=")
        secret = flag.startswith("-") and any(word in flag.lower() for word in SECRET)
        out.append("***" if hide else f"{flag}=***" if secret and eq else arg)
        hide = secret and not eq
    return out


def _main_process() -> bool:
    """Under torchrun or ``accelerate launch`` every process runs the entry point; one writes."""
    return os.environ.get("RANK", "0") == "0"


def _first_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


@contextmanager
def recorded(folder: str | Path, kind: str, model: dict | None = None, data: Sequence[dict] = (),
             **more: Any) -> Iterator[dict]:  # fmt: skip
    """Write ``provenance.json`` as the run starts; on the way out add its wall time and how it
    ended ("finished", or the exception: its name, and a refusal's message).

    The record of the run that made the folder's work stays at the top; a later run in the same
    folder (a resume, a rerun with nothing left to do, a refusal) is added under ``resumed``,
    unless the folder was started over meanwhile (its ``provenance.json`` cleared with its work).
    A refused run in a folder it made itself removes what it made. This run's record is yielded,
    so the run can add what it learns on the way before it is written again at the end."""
    folder = Path(folder)
    if not _main_process():
        yield {}
        return
    earlier = read_provenance(folder)
    this: dict[str, Any] = {
        "kind": kind,
        "command": redacted([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "started": _now(),
        "commit": project_commit(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "device": device(),
        "model": model,
        "data": list(data),
        **more,
    }

    def whole(cleared: bool = False) -> dict:
        if earlier is None or cleared:
            return this
        return earlier | {"resumed": [*earlier.get("resumed", []), this]}

    base = _first_existing(folder)
    _write(folder, whole())
    started = time.perf_counter()
    ended, removed = "finished", False
    try:
        yield this
    except MathlensError as err:
        ended = f"MathlensError: {err}"
        if earlier is None and _only_provenance(folder):  # refused before any work: as it was
            _remove_made(folder, base)
            removed = True
        raise
    except BaseException as err:  # a crash or a kill: said, with how long it ran
        ended = type(err).__name__
        raise
    finally:
        if not removed:
            this["wall_s"] = round(time.perf_counter() - started, 2)
            this["ended"] = ended
            _write(folder, whole(cleared=not (folder / FILE).exists()))


def _only_provenance(folder: Path) -> bool:
    return folder.is_dir() and all(p.name == FILE for p in folder.iterdir())


def _remove_made(folder: Path, base: Path) -> None:
    """The provenance file, and the folders made for it up to ``base``, which was there before."""
    (folder / FILE).unlink(missing_ok=True)
    while folder != base and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


Arguments = dict[str, Any]


def _said(part: Callable[[Arguments], Any] | None, given: Arguments, default: Any) -> Any:
    """What ``part`` says of the call's arguments; an error becomes a note, never the run's
    failure: the run itself checks its inputs and says what is wrong in its own words."""
    if part is None:
        return default
    try:
        return part(given)
    except Exception as err:
        return {"error": f"{type(err).__name__}: {err}"}


def traced(kind: str, folder: Callable[[Arguments], Any], model: Callable[[Arguments], dict | None] | None = None,
           data: Callable[[Arguments], Sequence[dict]] | None = None) -> Callable:  # fmt: skip
    """A run's entry point that writes its provenance: the call runs inside ``recorded`` on the
    folder ``folder(arguments)`` names, with the model and data the arguments say.

    A decorator, so that every kind of run (the loop, the lab's runs, the trainers) records the
    same way with one line at its entry point; ``arguments`` are the call's, by name, defaults
    filled in (``lambda a: a["cfg"].out``)."""

    def wrap(run: Callable) -> Callable:
        signature = inspect.signature(run)

        @functools.wraps(run)
        def call(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            given = bound.arguments
            data_said = _said(data, given, ())
            data_said = [data_said] if isinstance(data_said, dict) else data_said
            with recorded(folder(given), kind, _said(model, given, None), data_said):
                return run(*args, **kwargs)

        return call

    return wrap
