"""The tiny transformer: model, tokenizer, builder, checkpoint files, device and decoding engine.

Names load on first use (PEP 562), so reading a config does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ModelConfig": "shape",
    "build_model": "build",
    "CHECKPOINT": "checkpoint",
    "load_checkpoint": "checkpoint",
    "load_model": "checkpoint",
    "save_checkpoint": "checkpoint",
    "DEVICES": "device",
    "resolve_device": "device",
    "decode": "engine",
    "generate_ids": "engine",
    "pick_tokens": "engine",
    "sample_seed": "engine",
    "GPT": "gpt",
    "GPTConfig": "gpt",
    "KVCache": "gpt",
    "CharTokenizer": "tokenizer",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
