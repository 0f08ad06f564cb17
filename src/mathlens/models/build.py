"""The one model builder: a character tokenizer over the texts and a GPT whose positions cover them."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..errors import MathlensError
from .gpt import GPT, GPTConfig

DIGITS = "0123456789"
from .shape import ModelConfig
from .tokenizer import CharTokenizer


def build_model(
    texts: Sequence[str], shape: ModelConfig, seed: int, block_multiple: int = 8, margin: int = 1
) -> tuple[GPT, CharTokenizer]:
    """A fresh model seeded by ``seed``; its block is the longest text plus ``margin``
    (the end token), rounded up to ``block_multiple``.

    The rounding changes how many position embeddings are drawn at init, and so every weight
    after them: each experiment keeps the multiple it was measured with.
    """
    tokenizer = CharTokenizer.from_texts(texts)
    longest = max(len(t) for t in texts) + margin
    block = -(-longest // block_multiple) * block_multiple
    try:
        config = GPTConfig(
            vocab_size=tokenizer.vocab_size,
            block_size=block,
            n_layer=shape.n_layer,
            n_head=shape.n_head,
            n_embd=shape.n_embd,
            positions=shape.positions,
            random_positions=block if shape.random_positions else 0,
            abacus=shape.abacus,
            abacus_offset=shape.abacus_offset,
            digit_ids=tuple(tokenizer.encode(c)[0] for c in sorted(set(tokenizer.chars) & set(DIGITS))),
        )
    except ValueError as err:
        raise MathlensError(str(err)) from None
    torch.manual_seed(seed)
    return GPT(config), tokenizer
