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

    def __post_init__(self) -> None:  # checked when the config is read, not after data is written
        from ..errors import MathlensError

        if self.positions not in ("learned", "rope"):
            raise MathlensError(f"positions must be 'learned' or 'rope', not {self.positions!r}")
        if min(self.n_layer, self.n_head, self.n_embd) < 1 or self.n_embd % self.n_head:
            raise MathlensError(f"n_embd={self.n_embd} must be a positive multiple of n_head={self.n_head}")
