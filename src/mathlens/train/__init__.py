"""Training: the shared schedule and log (``core``), the tiny GPT's own loop (``tiny``) and
Hugging Face models through TRL (``hf``, imported on demand: transformers is an extra).

Names load on first use (``lazy.py``), so reading a config does not import torch.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_WHERE = {
    "TrainConfig": "core",
    "lr_at": "core",
    "TrainResult": "tiny",
    "encode_examples": "tiny",
    "exact_match": "tiny",
    "train": "tiny",
}
__all__ = sorted(_WHERE)
__getattr__ = lazy_exports(__name__, _WHERE)
