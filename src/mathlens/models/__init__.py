"""The tiny transformer, its tokenizer and its decoder."""

from .decode import greedy_decode, greedy_ids
from .gpt import GPT, GPTConfig, KVCache
from .tokenizer import CharTokenizer

__all__ = ["GPT", "GPTConfig", "KVCache", "CharTokenizer", "greedy_decode", "greedy_ids"]
