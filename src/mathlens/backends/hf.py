"""Hugging Face transformers: batched sampling from a local or hub causal LM (an extra)."""

from __future__ import annotations

from typing import Any

from ..hf import load_causal_lm
from .base import Sampling, cut_at_stop


class HFBackend:
    name = "hf"

    def __init__(self, model: str, batch_size: int = 8, device: str | None = None) -> None:
        self.model, self.tokenizer = load_causal_lm(model, device)
        self.batch_size = batch_size

    def generate(self, prompts: list[str], sampling: Sampling) -> list[list[str]]:
        import torch

        torch.manual_seed(sampling.seed)
        out: list[list[str]] = []
        for i in range(0, len(prompts), self.batch_size):
            batch = self.tokenizer(
                prompts[i : i + self.batch_size], return_tensors="pt", padding=True, add_special_tokens=False
            ).to(self.model.device)
            options: dict[str, Any] = {
                "max_new_tokens": sampling.max_tokens,
                "pad_token_id": self.tokenizer.pad_token_id,
            }
            if sampling.temperature > 0:
                options |= {"do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p}
            else:
                options |= {"do_sample": False}
            with torch.inference_mode():
                ids = self.model.generate(**batch, num_return_sequences=sampling.n, **options)
            texts = self.tokenizer.batch_decode(ids[:, batch["input_ids"].size(1) :], skip_special_tokens=True)
            # Stop strings are cut here, and the stop kept (TIR reads its output fence).
            texts = [cut_at_stop(t, sampling.stop, keep=True) for t in texts]
            out += [texts[j : j + sampling.n] for j in range(0, len(texts), sampling.n)]
        return out
