"""Token-level access a server needs beyond ``generate``: encode, decode, context length, and
the log-probability of every token of a sequence (OpenAI ``logprobs``/``echo``, which
lm-evaluation-harness's loglikelihood tasks read).

One scorer over any causal LM that maps token ids to logits, so the tiny GPT and a Hugging Face
model answer the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TokenScore:
    token: str
    logprob: float | None  # None for the first token: nothing comes before it
    top: dict[str, float] = field(default_factory=dict)  # the most likely tokens at this position


@dataclass(frozen=True)
class Scorer:
    """What ``serve`` needs of a model's tokens; backends that have no tokenizer have none."""

    encode: Callable[[str], list[int]]
    decode: Callable[[Sequence[int]], str]
    token_text: Callable[[int], str]
    logits: Callable[[Any], Any]  # (1, T) ids → (1, T, vocab) logits
    context_length: int | None
    device: Any = None
    specials: dict[str, str | None] = field(default_factory=dict)  # eos/bos/pad tokens, for /tokenizer_info

    def score(self, ids: Sequence[int], top: int = 0, then_greedy: bool = False) -> list[TokenScore]:
        """Each token with its log-probability given the ones before it and the ``top`` likeliest;
        ``then_greedy`` adds the likeliest next token (a completion that ended at once ended on it)."""
        import torch

        if not ids:
            return []
        with torch.inference_mode():
            x = torch.tensor([list(ids)], dtype=torch.long, device=self.device)
            logprobs = torch.log_softmax(self.logits(x)[0].float(), dim=-1)  # (T, vocab)
        scores = [TokenScore(self.token_text(ids[0]), None)]
        chosen = list(ids[1:]) + ([int(logprobs[-1].argmax())] if then_greedy else [])
        for i, token in enumerate(chosen):
            row = logprobs[i]
            best = {}
            if top > 0:
                values, indices = row.topk(min(top, row.numel()))
                best = {self.token_text(int(j)): float(v) for v, j in zip(values, indices)}
            scores.append(TokenScore(self.token_text(token), float(row[token]), best))
        return scores
