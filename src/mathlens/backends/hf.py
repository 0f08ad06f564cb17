"""Hugging Face transformers: batched sampling from a local or hub causal LM (an extra)."""

from __future__ import annotations

from ..hf import generate_batched, load_causal_lm
from .base import Sampling


class HFBackend:
    name = "hf"

    def __init__(self, model: str, batch_size: int = 8, device: str | None = None) -> None:
        self.model, self.tokenizer = load_causal_lm(model, device)
        self.batch_size = batch_size

    def generate(self, prompts: list[str], sampling: Sampling) -> list[list[str]]:
        return generate_batched(self.model, self.tokenizer, prompts, sampling, self.batch_size)
