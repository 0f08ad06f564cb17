"""Our own tiny GPT checkpoints (``runs/…/ckpt.pt``) as a backend: greedy or sampled."""

from __future__ import annotations

import torch

from ..models import greedy_decode
from ..train import load_model
from .base import Sampling, cut_at_stop


class TinyBackend:
    name = "tiny"

    def __init__(self, model: str) -> None:
        self.model, self.tokenizer, _ = load_model(model)
        self.alphabet = set(self.tokenizer.chars)

    def readable(self, text: str) -> str:
        """A character model reads only its own characters: the others are dropped."""
        return "".join(c for c in text if c in self.alphabet)

    def generate(self, prompts: list[str], sampling: Sampling) -> list[list[str]]:
        prompts = [self.readable(p) for p in prompts]
        if sampling.temperature <= 0:
            texts = greedy_decode(self.model, self.tokenizer, prompts, sampling.max_tokens)
            return [[cut_at_stop(t, sampling.stop, keep=True)] * sampling.n for t in texts]
        generator = torch.Generator().manual_seed(sampling.seed)
        return [
            [cut_at_stop(self._sample(p, sampling, generator), sampling.stop, keep=True) for _ in range(sampling.n)]
            for p in prompts
        ]

    @torch.inference_mode()
    def _sample(self, prompt: str, sampling: Sampling, generator: torch.Generator) -> str:
        """Temperature and nucleus sampling, one sequence at a time (tiny models: fast enough)."""
        ids = self.tokenizer.encode(prompt)
        context = self.model.config.block_size
        new: list[int] = []
        for _ in range(sampling.max_tokens):
            idx = torch.tensor([(ids + new)[-context:]])
            logits, _ = self.model(idx, last_only=True)
            probs = torch.softmax(logits[0, -1] / sampling.temperature, dim=-1)
            order = torch.argsort(probs, descending=True)
            keep = torch.cumsum(probs[order], 0) - probs[order] < sampling.top_p  # the nucleus
            nucleus = torch.zeros_like(probs).scatter(0, order[keep], probs[order][keep])
            token = int(torch.multinomial(nucleus / nucleus.sum(), 1, generator=generator))
            if token == self.tokenizer.eos_id:
                break
            new.append(token)
        return self.tokenizer.decode(new)
