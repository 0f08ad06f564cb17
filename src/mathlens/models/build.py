"""The one model builder: a character tokenizer over the texts and a GPT whose positions cover them."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .gpt import GPT, GPTConfig
from .shape import ModelConfig
from .tokenizer import CharTokenizer

DIGITS = "0123456789"


def build_model(
    texts: Sequence[str], shape: ModelConfig, seed: int, block_multiple: int = 8, margin: int = 1, coupler: str = ""
) -> tuple[GPT, CharTokenizer]:
    """A fresh model seeded by ``seed``; its block is the longest text plus ``margin``
    (the end token), rounded up to ``block_multiple``. ``coupler``: with coupled positions,
    the format whose (place, slot) ids the model reads (``formats.coupling``).

    The rounding changes how many position embeddings are drawn at init, and so every weight
    after them: each experiment keeps the multiple it was measured with. ``shape`` is checked
    when made; the network's ``GPTConfig`` adds the vocabulary, block and digit tokens to it.
    """
    tokenizer = CharTokenizer.from_texts(texts)
    longest = max(len(t) for t in texts) + margin
    block = -(-longest // block_multiple) * block_multiple
    digits = sorted(set(tokenizer.chars) & set(DIGITS))
    digit_ids = tuple(tokenizer.encode(c)[0] for c in digits)
    config = GPTConfig(tokenizer.vocab_size, block, shape, digit_ids=digit_ids, coupler=coupler)
    torch.manual_seed(seed)
    return GPT(config), tokenizer
