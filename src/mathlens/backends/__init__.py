"""Generation backends behind one interface: tiny (ours), hf, vllm, openai."""

from __future__ import annotations

from ..errors import MathlensError
from .base import Backend, Conversation, Prompt, Sampling, as_text, cut_at_stop

BACKENDS = ("tiny", "hf", "vllm", "openai")


def make_backend(name: str, model: str, **options) -> Backend:
    """A backend by name; heavy stacks are imported only for the one asked for."""
    if name == "tiny":
        from .tiny import TinyBackend

        return TinyBackend(model, **options)
    if name == "hf":
        from .hf import HFBackend

        return HFBackend(model, **options)
    if name == "vllm":
        from .vllm import VLLMBackend

        return VLLMBackend(model, **options)
    if name == "openai":
        from .openai import OpenAIBackend

        return OpenAIBackend(model, **options)
    raise MathlensError(f"unknown backend {name!r}: one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "Conversation", "Prompt", "Sampling", "as_text", "cut_at_stop", "make_backend"]
