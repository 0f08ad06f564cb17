"""The tiny transformer: model, tokenizer, builder, checkpoint files, device and decoding engine.

Names load on first use (``lazy.py``), so reading a config does not import torch.
"""

from __future__ import annotations

from ..lazy import lazy_exports

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
__getattr__ = lazy_exports(__name__, _WHERE)
