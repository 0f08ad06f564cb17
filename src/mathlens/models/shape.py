"""The tiny GPT's shape as experiments configure it (no torch here: configs load fast)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    """The tiny GPT's shape, as experiment configs set it (nested under ``model:`` in YAML)."""

    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    positions: str = "learned"  # learned or rope
