"""The decoding engine of the tiny GPT: batched, KV-cached, greedy or seeded sampling.

Prompts are bucketed by length so every batch is rectangular: no padding, no attention
mask, and each new token costs one cached step instead of a pass over the whole prefix. A
server, whose requests rarely share a length, may mix them: rows are then left-padded and
masked (``mix_lengths``).
Prompt heads that many prompts share are prefilled once and fanned out in the cache.

Sampling draws each row's tokens from that row's own stream of uniforms (inverse CDF over
the nucleus), seeded per sample by ``sample_seed(seed, key, index)``: a sample does not
depend on what it was batched with, and a reference that recomputes the whole context per
token draws the same tokens wherever its logits agree to rounding.

Written by hand because nothing off the shelf decodes this model: transformers' ``generate``
needs its own model classes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence

import torch

from .gpt import GPT, KVCache
from .tokenizer import CharTokenizer


def sample_seed(seed: int, key: str, index: int) -> int:
    """The seed of one sample: a stable hash of (run seed, problem key, sample index)."""
    digest = hashlib.blake2b(f"{seed}\x00{key}\x00{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def uniforms(seed: int, count: int) -> torch.Tensor:
    """A sample's stream of uniforms in [0, 1): one per new token."""
    return torch.rand(count, generator=torch.Generator().manual_seed(seed))


def pick_tokens(logits: torch.Tensor, u: torch.Tensor | None, temperature: float, top_p: float) -> torch.Tensor:
    """Next token per row of (B, V) ``logits``: argmax at temperature 0, else the nucleus token
    whose cumulative probability first passes ``u`` (one uniform per row)."""
    if temperature <= 0 or u is None:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    sorted_p, order = torch.sort(probs, dim=-1, descending=True, stable=True)
    keep = torch.cumsum(sorted_p, dim=-1) - sorted_p < top_p  # the nucleus; the top token always
    cdf = torch.cumsum(sorted_p * keep, dim=-1)
    at = torch.searchsorted(cdf, (u.to(cdf) * cdf[:, -1])[:, None], right=True).clamp(max=logits.size(-1) - 1)
    return order.gather(1, at)[:, 0]


@torch.inference_mode()
def generate_ids(
    model: GPT,
    prompt: torch.Tensor,
    max_new_tokens: int,
    eos_id: int,
    temperature: float = 0.0,
    top_p: float = 1.0,
    u: torch.Tensor | None = None,
    stop: Sequence[Sequence[int]] = (),
    pad: torch.Tensor | None = None,
    coords: torch.Tensor | None = None,
    next_coords: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Continue a (B, T) batch of equal-length prompts → (B, ≤max_new_tokens).

    ``u`` (B, ≥max_new_tokens): each row's uniforms when sampling. A row ends at end-of-answer
    or right after any ``stop`` token sequence (kept in the output); ended rows pad with eos.
    ``pad`` (B,): prompts of several lengths, left-padded by that many tokens each.
    ``coords`` (B, T, 2) and ``next_coords`` (new tokens (B,) → their (B, 1, 2)): the
    (place, slot) ids a coupled model reads, for the prompts and then for each new token.
    """
    B, T = prompt.shape
    longest = T - (0 if pad is None else int(pad.min()))
    max_new_tokens = min(max_new_tokens, model.config.block_size - longest)
    if max_new_tokens <= 0:
        return prompt.new_zeros((B, 0))
    weight = model.wte.weight
    if pad is None and coords is None:
        split, heads, rows = _shared_prefix(prompt)
    else:  # padded rows share no heads worth finding; coupled ids may differ where tokens agree
        split, heads, rows = T, prompt, torch.arange(B, device=prompt.device)
    cache = KVCache(model.config, len(heads), T + max_new_tokens, weight.device, weight.dtype)
    logits, _ = model(heads, cache=cache, last_only=True, pad=pad, coords=coords)
    if split < T or len(heads) < B:
        cache.select_rows(rows)
        logits = model(prompt[:, split:], cache=cache, last_only=True)[0] if split < T else logits[rows]
    stops = [torch.tensor(s, device=prompt.device) for s in stop if len(s)]
    u = u.to(prompt.device) if u is not None else None
    out = prompt.new_empty((B, max_new_tokens))
    done = torch.zeros(B, dtype=torch.bool, device=prompt.device)
    for step in range(max_new_tokens):
        nxt = pick_tokens(logits[:, -1], None if u is None else u[:, step], temperature, top_p)  # (B,)
        nxt = torch.where(done, torch.full_like(nxt, eos_id), nxt)
        out[:, step] = nxt
        done |= nxt == eos_id
        for s in stops:
            if step + 1 >= len(s):
                done |= (out[:, step + 1 - len(s) : step + 1] == s).all(dim=1)
        if bool(done.all()) or step == max_new_tokens - 1:
            return out[:, : step + 1]
        logits, _ = model(nxt[:, None], cache=cache, pad=pad, coords=None if next_coords is None else next_coords(nxt))
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
def decode(
    model: GPT,
    tokenizer: CharTokenizer,
    prompts: Sequence[str],
    max_new_tokens: int,
    temperature: float = 0.0,
    top_p: float = 1.0,
    seeds: Sequence[int] | None = None,
    stop: Sequence[str] = (),
    batch_size: int = 512,
    mix_lengths: bool = False,
) -> list[str]:
    """Completions of ``prompts`` (in their order), each cut at end-of-answer; a stop string
    ends a completion and is kept. Sampling (``temperature`` > 0) needs one seed per prompt.

    ``mix_lengths``: prompts of different lengths share batches, left-padded (a server's
    requests rarely share a length); otherwise each batch holds one length and needs no mask.
    """
    if temperature > 0 and (seeds is None or len(seeds) != len(prompts)):
        raise ValueError("sampling needs one seed per prompt (see sample_seed)")
    was_training = model.training
    model.eval()
    device = model.wte.weight.device
    stop_ids = [tokenizer.encode(s) for s in stop if all(c in tokenizer.chars for c in s)]
    by_length: dict[int, list[int]] = defaultdict(list)
    encoded = [tokenizer.encode(p) for p in prompts]
    mixed = []  # prompts that fit the block whole, when lengths may mix
    for i, ids in enumerate(encoded):
        if mix_lengths and len(ids) + max_new_tokens <= model.config.block_size:
            mixed.append(i)
        else:
            by_length[len(ids)].append(i)
    batches = [rows[s : s + batch_size] for length in sorted(by_length) for rows in [by_length[length]]
               for s in range(0, len(rows), batch_size)]
    mixed.sort(key=lambda i: len(encoded[i]))  # neighbours in length: little padding
    batches += [mixed[s : s + batch_size] for s in range(0, len(mixed), batch_size)]
    completions: list[str] = [""] * len(prompts)
    for chunk in batches:
        width = max(len(encoded[i]) for i in chunk)
        pads = [width - len(encoded[i]) for i in chunk]
        rows = [[tokenizer.pad_id] * p + encoded[i] for p, i in zip(pads, chunk)]
        batch = torch.tensor(rows, dtype=torch.long, device=device)
        pad = torch.tensor(pads, device=device) if any(pads) else None
        u = torch.stack([uniforms(seeds[i], max_new_tokens) for i in chunk]) if temperature > 0 else None
        coupled = {}
        if model.config.coupler:
            coupled = _coupled_ids(model.config.coupler, tokenizer, [prompts[i] for i in chunk], pads, device)
        new = generate_ids(
            model, batch, max_new_tokens, tokenizer.eos_id, temperature, top_p, u, stop_ids, pad, **coupled
        )
        for i, ids in zip(chunk, new.tolist()):
            completions[i] = tokenizer.decode(ids)
    model.train(was_training)
    return completions


def _coupled_ids(name: str, tokenizer: CharTokenizer, prompts: Sequence[str], pads: Sequence[int], device) -> dict:
    """``coords`` and ``next_coords`` for ``generate_ids``: each row's coupler reads its prompt,
    then every token the row writes (an end or pad token, no character, gets (0, 0))."""
    from ..formats.coupling import make_coupler

    couplers = [make_coupler(name, p) for p in prompts]
    rows = [[(0, 0)] * pad + c.prompt_coords for pad, c in zip(pads, couplers)]
    n_special = len(tokenizer.specials)

    def next_coords(tokens: torch.Tensor) -> torch.Tensor:
        step = []
        for c, t in zip(couplers, tokens.tolist()):
            char = tokenizer.chars[t - n_special] if t >= n_special else ""
            step.append(c.feed(char) or [(0, 0)])
        return torch.tensor(step, device=device)

    return {"coords": torch.tensor(rows, device=device), "next_coords": next_coords}
