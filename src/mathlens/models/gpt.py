"""A small decoder-only transformer written for arithmetic experiments.

Reads top to bottom: config → attention → MLP → block → model. The model only maps
tokens to logits (and a loss); decoding lives in ``engine.py`` and training in ``train/tiny.py``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import MathlensError
from .shape import ModelConfig


@dataclass(frozen=True)
class GPTConfig:
    """The network's whole config: the experiment's ``shape`` plus what the data fixes.

    ``shape`` (a ``ModelConfig``, ``shape.py``) is what experiment configs and the CLI set:
    layers, heads, width and the position scheme; it checks itself, so those rules live in
    one place. The rest no experiment sets, as the tokenizer and task decide it:
    ``vocab_size``; ``block_size``, the longest sequence the positions cover; ``digit_ids``,
    the digit tokens abacus places count (``shape.abacus``); ``rope_base``, RoPE's base.

    ``shape.random_positions`` (Ruoss et al. 2023) draws, in training, each row's start from
    the whole block (``random_span``), so that every position is trained though training
    sequences are short; decoding starts at 0 as usual. ``shape.abacus`` (McLeish et al. 2024)
    adds each digit's place in its run of digits (1, 2, …; 0 for other tokens), shifted in
    training by a random 0..``shape.abacus_offset`` per row so that longer numbers' places train.
    ``shape.positions == "coupled"`` (Cho et al. 2024) takes each token's (place, slot) from
    the text instead (``coords``, made by ``formats.coupling`` for the format named
    ``coupler``): the place through a learned table, every place of a row shifted in training
    by one random 0..``shape.coupled_offset`` (separators' too, unlike Abacus, which shifts
    digits only), the slot (the line) as the rotary position, so that "the same line one step
    back" is one offset at any length.

    Checkpoints keep ``to_dict()`` (``shape`` nested); ``from_dict`` also reads the flat dict
    of the two configs' merged fields that checkpoints held before.
    """

    vocab_size: int
    block_size: int = 64
    shape: ModelConfig = field(default_factory=ModelConfig)
    rope_base: float = 10000.0
    digit_ids: tuple[int, ...] = ()
    coupler: str = ""  # with coupled positions: the format whose (place, slot) ids the model reads

    def __post_init__(self) -> None:
        if self.shape.abacus and not self.digit_ids:
            raise MathlensError("abacus needs the digit tokens (digit_ids), and the texts have no digits")
        if (self.shape.positions == "coupled") != bool(self.coupler):
            raise MathlensError(
                "positions: coupled reads (place, slot) ids that a format gives (a coupler): use "
                "`lengthgen --schemes coupled`, not --positions"
            )
        object.__setattr__(self, "digit_ids", tuple(self.digit_ids))

    @property
    def random_span(self) -> int:
        """How many positions a training row's random start ranges over; 0 when off."""
        return self.block_size if self.shape.random_positions else 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> GPTConfig:
        """A config from ``to_dict()``'s form, or from the flat form older checkpoints hold."""
        d = dict(d)
        if "shape" in d:
            return cls(**d | {"shape": ModelConfig(**d["shape"])})
        shape = {k: d.pop(k) for k in [f.name for f in fields(ModelConfig)] if k in d}
        span = shape.get("random_positions", 0)
        if span and span != d.get("block_size", 64):  # build_model only ever drew from the block
            raise MathlensError(f"random_positions={span} spans more than block_size={d.get('block_size', 64)}")
        return cls(**d, shape=ModelConfig(**shape | {"random_positions": bool(span)}))


class KVCache:
    """Pre-allocated keys and values for every layer, filled left to right.

    One cache serves one batch of equal-length prompts; ``length`` is how many
    positions are filled (the same for every row). Slots past ``length`` are never read,
    so they start uninitialised.
    """

    def __init__(self, config: GPTConfig, batch: int, max_len: int, device, dtype) -> None:
        head_dim = config.shape.n_embd // config.shape.n_head
        shape = (config.shape.n_layer, batch, config.shape.n_head, max_len, head_dim)
        self.k = torch.empty(shape, device=device, dtype=dtype)
        self.v = torch.empty(shape, device=device, dtype=dtype)
        self.length = 0
        self.run = torch.zeros(batch, dtype=torch.long, device=device)  # digits ending the cached text (abacus)

    def select_rows(self, rows: torch.Tensor) -> None:
        """Re-index the batch: row i becomes old row ``rows[i]`` (shared prefixes fan out)."""

        def pick(t: torch.Tensor) -> torch.Tensor:
            out = t.new_empty((t.size(0), len(rows), *t.shape[2:]))
            out[:, :, :, : self.length] = t[:, rows, :, : self.length]
            return out

        self.k, self.v = pick(self.k), pick(self.v)
        self.run = self.run[rows]

    def store(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write this step's keys/values for ``layer``; return everything cached so far."""
        end = self.length + k.size(2)
        self.k[layer, :, :, self.length : end] = k
        self.v[layer, :, :, self.length : end] = v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]


def rope_tables(config: GPTConfig, device) -> tuple[torch.Tensor, torch.Tensor]:
    head_dim = config.shape.n_embd // config.shape.n_head
    inv_freq = 1.0 / (config.rope_base ** (torch.arange(0, head_dim, 2, device=device).float() / head_dim))
    angles = torch.outer(torch.arange(config.block_size, device=device).float(), inv_freq)  # (T, hd/2)
    return angles.cos(), angles.sin()


def digit_runs(is_digit: torch.Tensor, before: torch.Tensor | None = None) -> torch.Tensor:
    """(B, T) bools → each digit's place in its run of digits (1, 2, …), 0 elsewhere.

    ``before`` (B,): digits that end the text already seen (a cache), which a run continues.
    """
    T = is_digit.size(1)
    steps = torch.arange(T, device=is_digit.device).expand_as(is_digit)
    start = torch.full_like(steps[:, :1], -1) if before is None else (-1 - before)[:, None]
    last_break = torch.where(is_digit, start, steps).cummax(dim=1).values
    return torch.where(is_digit, steps - last_break, 0)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    # x: (B, H, T, hd); rotate each (even, odd) half-pair by its position's angle
    x1, x2 = x[..., : x.size(-1) // 2], x[..., x.size(-1) // 2 :]
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig, layer: int) -> None:
        super().__init__()
        self.layer = layer
        self.n_head = config.shape.n_head
        self.qkv = nn.Linear(config.shape.n_embd, 3 * config.shape.n_embd, bias=False)
        self.proj = nn.Linear(config.shape.n_embd, config.shape.n_embd, bias=False)

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple | None,
        cache: KVCache | None,
        last_only: bool = False,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``mask`` (B, 1, T, keys), when rows are left-padded: which keys each query may see."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, hd)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        # A prefill is causal within itself; a one-token step sees the whole cache; several
        # tokens after a cached prefix see the prefix and, causally, each other.
        causal = T > 1 and mask is None
        if cache is not None:
            start = cache.length
            k, v = cache.store(self.layer, k, v)
            if start and T > 1 and mask is None:
                causal = False
                mask = (
                    torch.arange(start + T, device=x.device) <= torch.arange(start, start + T, device=x.device)[:, None]
                )
        if last_only:  # every position's keys and values, but only the last one asks
            q, causal, T = q[:, :, -1:], False, 1
            mask = mask[:, :, -1:] if mask is not None and mask.dim() == 4 else None
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)  # (B, H, T, hd)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.shape.n_embd, 4 * config.shape.n_embd, bias=False)
        self.proj = nn.Linear(4 * config.shape.n_embd, config.shape.n_embd, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    """Pre-norm residual block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig, layer: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.shape.n_embd)
        self.attn = CausalSelfAttention(config, layer)
        self.ln2 = nn.LayerNorm(config.shape.n_embd)
        self.mlp = MLP(config)

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple | None,
        cache: KVCache | None,
        last_only: bool = False,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        h = self.attn(self.ln1(x), rope, cache, last_only, mask)
        x = (x[:, -1:] if last_only else x) + h
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.shape.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.shape.n_embd) if config.shape.positions == "learned" else None
        self.blocks = nn.ModuleList(Block(config, i) for i in range(config.shape.n_layer))
        self.ln_f = nn.LayerNorm(config.shape.n_embd)
        self.lm_head = nn.Linear(config.shape.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying: one table for reading and writing tokens
        if config.shape.positions in ("rope", "coupled"):
            cos, sin = rope_tables(config, device="cpu")
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        self.wae = None
        if config.shape.abacus:  # made last, so that turning it on leaves every other initial weight as it was
            self.wae = nn.Embedding(config.block_size + config.shape.abacus_offset + 1, config.shape.n_embd)
            is_digit = torch.zeros(config.vocab_size, dtype=torch.bool)
            is_digit[list(config.digit_ids)] = True
            self.register_buffer("is_digit", is_digit, persistent=False)
        self.wcp = None
        if config.shape.positions == "coupled":  # a number never has more places than the block has tokens
            self.wcp = nn.Embedding(config.block_size + config.shape.coupled_offset + 1, config.shape.n_embd)
        self.apply(self._init_weights)
        # Scaled init of the residual projections (GPT-2): keeps the residual stream's
        # variance from growing with depth.
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.shape.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        cache: KVCache | None = None,
        last_only: bool = False,
        pad: torch.Tensor | None = None,
        noise: dict | None = None,
        coords: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits for every position, and the mean cross-entropy where targets != -100.

        ``last_only`` (decoding): logits of the last position only; the last block then runs
        its attention output and MLP for that position alone, as no other one needs them.
        ``pad`` (B,): how many pad tokens start each row (prompts of several lengths in one
        batch); a row's positions then count from its first real token and no query sees a pad.
        ``noise`` (training only, from ``position_noise``): the scheme's random positions or
        Abacus place shift, which is how those schemes train every position the tests need.
        ``coords`` (B, T, 2): each token's (place, slot), which coupled positions need.
        """
        logits = self.lm_head(self.hidden(idx, cache, last_only, pad, noise, coords))  # (B, T, vocab)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)
        return logits, loss

    def hidden(
        self,
        idx: torch.Tensor,
        cache: KVCache | None = None,
        last_only: bool = False,
        pad: torch.Tensor | None = None,
        noise: dict | None = None,
        coords: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The final (normed) hidden states, (B, T, C): what the LM head reads, and a reward head too."""
        T = idx.size(1)
        start = cache.length if cache is not None else 0
        steps = torch.arange(start, start + T, device=idx.device)
        positions, mask = steps, None
        if pad is not None:
            positions = (steps[None, :] - pad[:, None]).clamp(min=0)  # (B, T)
            keys = torch.arange(start + T, device=idx.device)
            seen = (keys[None, :] <= steps[:, None])[None] & (keys[None, None, :] >= pad[:, None, None])
            mask = (seen | (keys[None, :] == steps[:, None])[None])[:, None]  # a pad sees itself: no empty row
        longest = start + T if pad is None else start + T - int(pad.min())  # no device sync unpadded
        coupled = self.config.shape.positions == "coupled"
        if coupled and (coords is None or coords.shape[:2] != idx.shape):
            raise ValueError(f"coupled positions need coords of shape {(*idx.shape, 2)} for every token")
        if longest > self.config.block_size:
            raise ValueError(f"sequence of {longest} tokens exceeds block_size={self.config.block_size}")
        if noise and "positions" in noise:
            positions = noise["positions"]
        x = self.wte(idx)  # (B, T, C)
        if self.wae is not None:
            runs = digit_runs(self.is_digit[idx], cache.run if cache is not None and start else None)
            if cache is not None:
                cache.run = runs[:, -1]
            if noise and "abacus_shift" in noise:
                runs = torch.where(runs > 0, runs + noise["abacus_shift"][:, None], 0)
            x = x + self.wae(runs.clamp(max=self.wae.num_embeddings - 1))
        rope = None
        if self.wpe is not None:
            x = x + self.wpe(positions)
        elif coupled:
            place = coords[..., 0]
            if noise and "coupled_shift" in noise:
                place = place + noise["coupled_shift"][:, None]
            x = x + self.wcp(place.clamp(max=self.wcp.num_embeddings - 1))
            slot = coords[..., 1].clamp(max=self.config.block_size - 1)
            rope = (self.rope_cos[slot][:, None], self.rope_sin[slot][:, None])
        elif self.config.shape.positions == "none":
            pass
        elif positions.dim() == 1:
            rope = (self.rope_cos[positions], self.rope_sin[positions])
        else:
            rope = (self.rope_cos[positions][:, None], self.rope_sin[positions][:, None])
        for i, block in enumerate(self.blocks):
            x = block(x, rope, cache, last_only and i == len(self.blocks) - 1, mask)
        if cache is not None:
            cache.length += T
        return self.ln_f(x)

    def position_noise(self, batch: int, length: int, generator: torch.Generator) -> dict:
        """Training's random positions for a (batch, length) batch, drawn from ``generator``
        (the trainer's, so a resumed run draws the same); empty when the scheme has none."""
        noise, device = {}, self.wte.weight.device
        if self.config.random_span:
            start = torch.randint(0, self.config.random_span - length + 1, (batch, 1), generator=generator)
            noise["positions"] = (start + torch.arange(length)).to(device)
        if self.config.shape.coupled_offset:
            shift = torch.randint(0, self.config.shape.coupled_offset + 1, (batch,), generator=generator)
            noise["coupled_shift"] = shift.to(device)
        if self.config.shape.abacus and self.config.shape.abacus_offset:
            shift = torch.randint(0, self.config.shape.abacus_offset + 1, (batch,), generator=generator)
            noise["abacus_shift"] = shift.to(device)
        return noise
