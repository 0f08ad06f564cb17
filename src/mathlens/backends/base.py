"""What every backend does: ``generate(prompts, params) -> n completions per prompt``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol


@dataclass(frozen=True)
class Sampling:
    n: int = 1
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    max_tokens: int = 1024
    stop: tuple[str, ...] = field(default_factory=tuple)
    seed: int = 0


@dataclass(frozen=True)
class Conversation:
    """A chat prompt for chat APIs, which apply the model's template on the server.

    ``reply`` is the assistant's answer so far: TIR appends each tool output to it and asks
    the server to continue that message. ``conversation + text`` extends the reply, so the
    TIR loop treats it as it treats a text prompt.
    """

    messages: tuple[dict, ...]
    reply: str = ""

    def __add__(self, text: str) -> Conversation:
        return replace(self, reply=self.reply + text)


Prompt = str | Conversation


class Backend(Protocol):
    name: str

    def generate(self, prompts: list[str], sampling: Sampling) -> list[list[str]]:
        """``sampling.n`` completions for every prompt, each cut before its first stop string."""
        ...


def cut_at_stop(text: str, stop: tuple[str, ...] | list[str], keep: bool = False) -> str:
    """The text up to the earliest stop string (included when ``keep``, as TIR needs the fence)."""
    cuts = [(i, s) for s in stop if (i := text.find(s)) >= 0]
    if not cuts:
        return text
    i, s = min(cuts)
    return text[: i + len(s)] if keep else text[:i]
