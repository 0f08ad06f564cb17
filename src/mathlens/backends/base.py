"""What every backend does: ``generate(prompts, params) -> n completions per prompt``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol


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


class Completion(str):
    """A completion's text that also says why decoding ended (``finish_reason``: "stop" at a
    stop string or the end of text, "length" out of tokens, None where the backend cannot tell)
    and how many tokens the model wrote (``tokens``, None where unknown).

    A ``str`` subclass so that every caller written for plain texts keeps working; what a run
    records per sample is read off with ``finish_of``."""

    finish_reason: str | None
    tokens: int | None

    def __new__(cls, text: str, finish_reason: str | None = None, tokens: int | None = None) -> Completion:
        made = super().__new__(cls, text)
        made.finish_reason, made.tokens = finish_reason, tokens
        return made


def finish_of(text: str) -> tuple[str | None, int | None]:
    """(finish reason, tokens) of a backend's completion; (None, None) for a plain string."""
    return getattr(text, "finish_reason", None), getattr(text, "tokens", None)


class Backend(Protocol):
    """What callers may rely on. Besides ``name`` and ``generate``, a backend may have (and
    ``BackendBase`` gives every built-in one, with these defaults):

    - ``per_sample_seeds`` (False): ``generate`` takes ``keys`` and seeds each sample by
      (seed, key, index), so a sample does not depend on the batch it came in (tiny);
    - ``tokenizer`` (None): a Hugging Face tokenizer that renders chat templates (hf, vllm);
    - ``api`` ("completions"): "chat" when the server applies its own chat template (openai);
    - ``readable`` (None): ``readable(text)`` keeps what the model can read (tiny: its
      alphabet), applied to tool outputs it must continue from.
    """

    name: str
    per_sample_seeds: bool
    tokenizer: Any
    api: str

    def generate(self, prompts: list[str], sampling: Sampling, keys: Sequence[str] | None = None) -> list[list[str]]:
        """``sampling.n`` completions for every prompt, each cut after its first stop string
        (kept). ``keys`` name each prompt's problem for backends that seed per sample (tiny);
        the others ignore them."""
        ...


class BackendBase:
    """The defaults of the optional parts of ``Backend``."""

    name = "backend"
    per_sample_seeds = False
    tokenizer: Any = None
    api = "completions"
    readable = None


def generate_keyed(backend: Backend, prompts: list, sampling: Sampling, keys: Sequence[str] | None) -> list[list[str]]:
    """``backend.generate``, with the problem keys for backends that seed per sample
    (``per_sample_seeds``); a backend written to the two-argument contract still works."""
    if keys is not None and getattr(backend, "per_sample_seeds", False):
        return backend.generate(prompts, sampling, keys=keys)
    return backend.generate(prompts, sampling)


def as_text(messages: list[dict], tokenizer: Any = None, chat_template: str = "auto") -> str:
    """The prompt a completion model reads (``chat.render``): by default the chat template if
    there is one, else plain turns."""
    from .chat import render

    return render(messages, tokenizer, chat_template)


def cut_at_stop(text: str, stop: tuple[str, ...] | list[str], keep: bool = False) -> str:
    """The text up to the earliest stop string (included when ``keep``, as TIR needs the fence)."""
    cuts = [(i, s) for s in stop if (i := text.find(s)) >= 0]
    if not cuts:
        return text
    i, s = min(cuts)
    return text[: i + len(s)] if keep else text[:i]
