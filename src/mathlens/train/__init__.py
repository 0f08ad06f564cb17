"""Training: the shared schedule and log (``core``), the tiny GPT's own loop (``tiny``) and
Hugging Face models through TRL (``hf``, imported on demand: transformers is an extra).

Names load on first use (PEP 562), so reading a config does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "TrainConfig": "core",
    "lr_at": "core",
    "TrainResult": "tiny",
    "encode_examples": "tiny",
    "exact_match": "tiny",
    "train": "tiny",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
