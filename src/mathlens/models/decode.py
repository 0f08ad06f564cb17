"""Batched greedy decoding with a KV cache.

Prompts are bucketed by length so every batch is rectangular: no padding, no attention
mask, and each new token costs one cached step instead of a pass over the whole prefix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import torch

from .gpt import GPT, KVCache
from .tokenizer import CharTokenizer


@torch.no_grad()
def greedy_ids(model: GPT, prompt: torch.Tensor, max_new_tokens: int, eos_id: int) -> torch.Tensor:
    """Greedy continuation of a (B, T) batch of equal-length prompts → (B, ≤max_new_tokens)."""
    B, T = prompt.shape
    max_new_tokens = min(max_new_tokens, model.config.block_size - T)
    if max_new_tokens <= 0:
        return prompt.new_zeros((B, 0))
    weight = model.wte.weight
    cache = KVCache(model.config, B, T + max_new_tokens, weight.device, weight.dtype)
    logits, _ = model(prompt, cache=cache)
    out = prompt.new_empty((B, max_new_tokens))
    done = torch.zeros(B, dtype=torch.bool, device=prompt.device)
    for step in range(max_new_tokens):
        nxt = logits[:, -1].argmax(dim=-1)  # (B,)
        nxt = torch.where(done, torch.full_like(nxt, eos_id), nxt)
        out[:, step] = nxt
        done |= nxt == eos_id
        if bool(done.all()) or step == max_new_tokens - 1:
            return out[:, : step + 1]
        logits, _ = model(nxt[:, None], cache=cache)
    return out


@torch.no_grad()
def greedy_decode(
    model: GPT,
    tokenizer: CharTokenizer,
    prompts: Sequence[str],
    max_new_tokens: int,
    batch_size: int = 512,
) -> list[str]:
    """Greedy completions of ``prompts`` (in their order), each cut at end-of-answer."""
    was_training = model.training
    model.eval()
    device = model.wte.weight.device
    by_length: dict[int, list[int]] = defaultdict(list)
    encoded = [tokenizer.encode(p) for p in prompts]
    for i, ids in enumerate(encoded):
        by_length[len(ids)].append(i)
    completions: list[str] = [""] * len(prompts)
    for length in sorted(by_length):
        rows = by_length[length]
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            batch = torch.tensor([encoded[i] for i in chunk], dtype=torch.long, device=device)
            new = greedy_ids(model, batch, max_new_tokens, tokenizer.eos_id).tolist()
            for i, ids in zip(chunk, new):
                completions[i] = tokenizer.decode(ids)
    model.train(was_training)
    return completions
