"""Our own tiny GPT checkpoints (``runs/…/ckpt.pt``) as a backend, on the decoding engine."""

from __future__ import annotations

from collections.abc import Sequence

from ..models import GPT, CharTokenizer, decode, load_model, sample_seed
from .base import BackendBase, Completion, Sampling, cut_at_stop
from .scoring import Scorer


def _completion(text: str, sampling: Sampling) -> Completion:
    """The text cut after its stop; one token per character, so a text as long as the budget
    that met no stop ran out of tokens."""
    cut = cut_at_stop(text, sampling.stop, keep=True)
    ran_out = len(text) >= sampling.max_tokens and len(cut) == len(text)
    return Completion(cut, "length" if ran_out else "stop", len(cut))


class TinyBackend(BackendBase):
    name = "tiny"
    per_sample_seeds = True  # a sample's tokens depend on (seed, key, index) alone

    def __init__(
        self,
        model: str | GPT,
        tokenizer: CharTokenizer | None = None,
        device: str = "auto",
        batch_size: int = 512,
        mix_lengths: bool = False,
    ) -> None:
        """A checkpoint path, or a model in memory with its tokenizer (the lab, right after training).
        ``mix_lengths``: prompts of different lengths share a batch (``serve`` turns it on)."""
        if isinstance(model, GPT):
            if tokenizer is None:
                raise ValueError("a model in memory needs its tokenizer")
            self.model, self.tokenizer = model, tokenizer
        else:
            self.model, self.tokenizer, _ = load_model(model, device)
        self.alphabet = set(self.tokenizer.chars)
        self.batch_size = batch_size
        self.mix_lengths = mix_lengths

    def readable(self, text: str) -> str:
        """A character model reads only its own characters: the others are dropped."""
        return "".join(c for c in text if c in self.alphabet)

    def generate(self, prompts: list[str], sampling: Sampling, keys: Sequence[str] | None = None) -> list[list[str]]:
        """Sample ``j`` of prompt ``i`` is seeded by (``sampling.seed``, ``keys[i]`` or the prompt, ``j``)."""
        prompts = [self.readable(p) for p in prompts]
        run = dict(
            max_new_tokens=sampling.max_tokens, stop=sampling.stop, batch_size=self.batch_size,
            mix_lengths=self.mix_lengths,
        )
        if sampling.temperature <= 0:
            texts = decode(self.model, self.tokenizer, prompts, **run)
            return [[_completion(t, sampling)] * sampling.n for t in texts]
        keys = list(keys) if keys is not None else prompts
        flat = [p for p in prompts for _ in range(sampling.n)]
        seeds = [sample_seed(sampling.seed, key, j) for key in keys for j in range(sampling.n)]
        texts = decode(
            self.model, self.tokenizer, flat, temperature=sampling.temperature, top_p=sampling.top_p, seeds=seeds, **run
        )
        texts = [_completion(t, sampling) for t in texts]
        return [texts[i : i + sampling.n] for i in range(0, len(texts), sampling.n)]

    @property
    def scorer(self) -> Scorer:
        """Token access for ``serve``: one id per character, the model's block as its context."""
        tok, model = self.tokenizer, self.model
        vocab = list(tok.specials) + list(tok.chars)
        return Scorer(
            encode=lambda text: tok.encode(self.readable(text)),
            decode=tok.decode,
            token_text=lambda i: vocab[i],
            logits=lambda ids: model(ids)[0],
            context_length=model.config.block_size,
            device=next(model.parameters()).device,
            specials={"eos_token": vocab[tok.eos_id], "pad_token": vocab[tok.pad_id], "bos_token": None},
        )
