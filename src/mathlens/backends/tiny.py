"""Our own tiny GPT checkpoints (``runs/…/ckpt.pt``) as a backend, on the decoding engine."""

from __future__ import annotations

from collections.abc import Sequence

from ..models import GPT, CharTokenizer, decode, load_model, sample_seed
from .base import Sampling, cut_at_stop


class TinyBackend:
    name = "tiny"
    per_sample_seeds = True  # a sample's tokens depend on (seed, key, index) alone

    def __init__(
        self, model: str | GPT, tokenizer: CharTokenizer | None = None, device: str = "auto", batch_size: int = 512
    ) -> None:
        """A checkpoint path, or a model in memory with its tokenizer (the lab, right after training)."""
        if isinstance(model, GPT):
            if tokenizer is None:
                raise ValueError("a model in memory needs its tokenizer")
            self.model, self.tokenizer = model, tokenizer
        else:
            self.model, self.tokenizer, _ = load_model(model, device)
        self.alphabet = set(self.tokenizer.chars)
        self.batch_size = batch_size

    def readable(self, text: str) -> str:
        """A character model reads only its own characters: the others are dropped."""
        return "".join(c for c in text if c in self.alphabet)

    def generate(self, prompts: list[str], sampling: Sampling, keys: Sequence[str] | None = None) -> list[list[str]]:
        """Sample ``j`` of prompt ``i`` is seeded by (``sampling.seed``, ``keys[i]`` or the prompt, ``j``)."""
        prompts = [self.readable(p) for p in prompts]
        run = dict(max_new_tokens=sampling.max_tokens, stop=sampling.stop, batch_size=self.batch_size)
        if sampling.temperature <= 0:
            texts = decode(self.model, self.tokenizer, prompts, **run)
            return [[cut_at_stop(t, sampling.stop, keep=True)] * sampling.n for t in texts]
        keys = list(keys) if keys is not None else prompts
        flat = [p for p in prompts for _ in range(sampling.n)]
        seeds = [sample_seed(sampling.seed, key, j) for key in keys for j in range(sampling.n)]
        texts = decode(
            self.model, self.tokenizer, flat, temperature=sampling.temperature, top_p=sampling.top_p, seeds=seeds, **run
        )
        texts = [cut_at_stop(t, sampling.stop, keep=True) for t in texts]
        return [texts[i : i + sampling.n] for i in range(0, len(texts), sampling.n)]
