"""Batched greedy decoding with a KV cache.

Prompts are bucketed by length so every batch is rectangular: no padding, no attention
mask, and each new token costs one cached step instead of a pass over the whole prefix.
Prompt heads that many prompts share are prefilled once and fanned out in the cache.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import torch

from .gpt import GPT, KVCache
from .tokenizer import CharTokenizer


@torch.inference_mode()
def greedy_ids(model: GPT, prompt: torch.Tensor, max_new_tokens: int, eos_id: int) -> torch.Tensor:
    """Greedy continuation of a (B, T) batch of equal-length prompts → (B, ≤max_new_tokens)."""
    B, T = prompt.shape
    max_new_tokens = min(max_new_tokens, model.config.block_size - T)
    if max_new_tokens <= 0:
        return prompt.new_zeros((B, 0))
    weight = model.wte.weight
    split, heads, rows = _shared_prefix(prompt)
    cache = KVCache(model.config, len(heads), T + max_new_tokens, weight.device, weight.dtype)
    logits, _ = model(heads, cache=cache, last_only=True)
    if split < T or len(heads) < B:
        cache.select_rows(rows)
        logits = model(prompt[:, split:], cache=cache, last_only=True)[0] if split < T else logits[rows]
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


def _shared_prefix(prompt: torch.Tensor) -> tuple[int, torch.Tensor, torch.Tensor]:
    """Where to split the prefill so that shared prompt heads are computed once.

    Prompts over an operand grid share their first tokens ("37+" for a whole row), and in a
    causal model equal prefixes have equal keys and values. Returns ``split``, the distinct
    heads ``prompt[:, :split]`` and, per prompt, the index of its head; the split minimises
    the positions computed (distinct heads × split + prompts × the rest).
    """
    B, T = prompt.shape
    best = (B * T, T, torch.arange(B, device=prompt.device))
    head_id = torch.zeros(B, dtype=torch.long, device=prompt.device)
    n_tokens = int(prompt.max()) + 1
    for split in range(1, T):
        # A head is (its own head minus the last token, that token): number them 0..U-1
        # with a 1-D unique, far cheaper than torch.unique over rows.
        _, head_id = torch.unique(head_id * n_tokens + prompt[:, split - 1], return_inverse=True)
        n_heads = int(head_id.max()) + 1
        cost = n_heads * split + B * (T - split)
        if cost < best[0]:
            best = (cost, split, head_id)
    _, split, rows = best
    # One prompt per head (any of those sharing it), in head order.
    first = torch.empty(int(rows.max()) + 1, dtype=torch.long, device=prompt.device)
    first[rows] = torch.arange(B, device=prompt.device)
    return split, prompt[first, :split], rows


@torch.inference_mode()
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
