"""The tiny transformer: model, tokenizer, builder, checkpoint files, device and decoding engine."""

from .build import ModelConfig, build_model
from .checkpoint import CHECKPOINT, load_checkpoint, load_model, save_checkpoint
from .device import DEVICES, resolve_device
from .engine import decode, generate_ids, pick_tokens, sample_seed
from .gpt import GPT, GPTConfig, KVCache
from .tokenizer import CharTokenizer

__all__ = [
    "CHECKPOINT",
    "DEVICES",
    "GPT",
    "GPTConfig",
    "KVCache",
    "CharTokenizer",
    "ModelConfig",
    "build_model",
    "decode",
    "generate_ids",
    "load_checkpoint",
    "load_model",
    "pick_tokens",
    "resolve_device",
    "sample_seed",
    "save_checkpoint",
]
