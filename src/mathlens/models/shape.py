"""The tiny GPT's shape as experiments configure it (no torch here: configs load fast)."""

from __future__ import annotations

from dataclasses import dataclass, field

POSITIONS = ("learned", "rope", "none", "coupled")


@dataclass(frozen=True)
class ModelConfig:
    """The tiny GPT's shape, as experiment configs set it (nested under ``model:`` in YAML).

    The one place these fields live and are checked: the network's ``GPTConfig`` (``gpt.py``)
    holds one as ``shape``, next to what the tokenizer and task fix (vocabulary, block, digit
    tokens), so a bad shape fails here, when a config is read, and nowhere else.

    The position schemes for length generalization: ``positions: none`` (no position signal
    but causal order), ``random_positions`` (in training, each row starts at a random
    position, so that every position of the block is trained; after Ruoss et al. 2023) and ``abacus`` (each digit's place in its number as an extra
    embedding, trained with a random 0..abacus_offset shift, McLeish et al. 2024), and
    ``positions: coupled`` (each token's (place, slot) from what it means: position coupling,
    Cho et al. 2024; ``formats/coupling.py``), places shifted in training by 0..coupled_offset.
    """

    n_layer: int = field(default=2, metadata={"help": "Transformer layers."})
    n_head: int = field(default=4, metadata={"help": "Attention heads."})
    n_embd: int = field(default=128, metadata={"help": "Width."})
    positions: str = field(default="learned", metadata={"help": "The position signal."})  # one of POSITIONS
    random_positions: bool = False
    abacus: bool = False
    abacus_offset: int = 0
    coupled_offset: int = 0  # coupled positions: places shifted in training by a random 0..coupled_offset

    def __post_init__(self) -> None:  # checked when the config is read, not after data is written
        from ..errors import MathlensError

        if self.positions not in POSITIONS:
            raise MathlensError(f"positions must be one of {', '.join(POSITIONS)}, not {self.positions!r}")
        if min(self.n_layer, self.n_head, self.n_embd) < 1 or self.n_embd % self.n_head:
            raise MathlensError(f"n_embd={self.n_embd} must be a positive multiple of n_head={self.n_head}")
        if self.abacus_offset < 0 or (self.abacus_offset and not self.abacus):
            raise MathlensError(f"abacus_offset={self.abacus_offset}: a shift of 0 or more, with abacus on")
        if self.positions == "coupled" and (self.random_positions or self.abacus):
            raise MathlensError("coupled positions carry places and lines already: no random_positions or abacus")
        if self.coupled_offset < 0 or (self.coupled_offset and self.positions != "coupled"):
            raise MathlensError(f"coupled_offset={self.coupled_offset}: a shift of 0 or more, with positions: coupled")
        if self.random_positions and self.positions != "learned":
            raise MathlensError("random_positions shifts learned positions (rope is shift-free): use positions: learned")
