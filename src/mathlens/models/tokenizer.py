"""Character tokenizer: one token per character, plus padding and end-of-answer.

Arithmetic needs nothing smarter, and one character per token keeps every digit its own
position, which is what the case-versus-rule question is about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

PAD = "<pad>"
EOS = "<eos>"


@dataclass(frozen=True)
class CharTokenizer:
    chars: tuple[str, ...]
    specials: tuple[str, ...] = (PAD, EOS)
    _index: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        vocab = list(self.specials) + list(self.chars)
        if len(set(vocab)) != len(vocab) or any(len(c) != 1 for c in self.chars):
            raise ValueError("tokenizer chars must be distinct single characters")
        object.__setattr__(self, "_index", {tok: i for i, tok in enumerate(vocab)})

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharTokenizer:
        return cls(chars=tuple(sorted(set().union(*map(set, texts)))))

    @property
    def vocab_size(self) -> int:
        return len(self.specials) + len(self.chars)

    @property
    def pad_id(self) -> int:
        return self._index[PAD]

    @property
    def eos_id(self) -> int:
        return self._index[EOS]

    def encode(self, text: str) -> list[int]:
        try:
            return [self._index[c] for c in text]
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the tokenizer's vocabulary") from None

    def decode(self, ids: Iterable[int]) -> str:
        """Text up to the first end-of-answer; padding is dropped."""
        out = []
        n_special = len(self.specials)
        for i in ids:
            if i == self.eos_id:
                break
            if i >= n_special:
                out.append(self.chars[i - n_special])
        return "".join(out)

    def to_dict(self) -> dict:
        return {"chars": "".join(self.chars)}

    @classmethod
    def from_dict(cls, d: dict) -> CharTokenizer:
        return cls(chars=tuple(d["chars"]))
