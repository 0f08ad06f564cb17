"""Training: the shared schedule and log (``core``), the tiny GPT's own loop (``tiny``) and
Hugging Face models through TRL (``hf``, imported on demand: transformers is an extra)."""

from .core import TrainConfig, lr_at
from .tiny import TrainResult, encode_examples, exact_match, train

__all__ = ["TrainConfig", "TrainResult", "encode_examples", "exact_match", "lr_at", "train"]
