"""vLLM offline inference (``LLM.generate``), imported only when asked for; needs a GPU.

Prompts arrive rendered (``chat.render`` with vLLM's own tokenizer, exactly as the hf backend
renders them), so a model fine-tuned through the chat template is sampled through it too.
A vLLM engine takes the GPU's memory for its KV cache and cannot share a device with a second
one, so a process keeps one engine: a backend asking for the same (model, options) gets it, and
one asking for another model releases it first (the improvement loop opens a backend per round);
``release_engine`` frees it before training in the same process.
"""

from __future__ import annotations

from collections.abc import Sequence
from ..errors import MathlensError
from ..models.hf import DTYPES, ModelArgs
from ..models.sources import resolve_source
from .base import BackendBase, Completion, Sampling


# The process's one engine, by (source, options): module state on purpose, as the GPU holds one.
_ENGINE: dict[tuple[str, ModelArgs], object] = {}


def release_engine() -> None:
    """Free the engine and the GPU memory its KV cache holds."""
    if _ENGINE:
        _ENGINE.clear()
        import gc

        gc.collect()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _engine(source: str, args: ModelArgs):
    key = (source, args)
    if key not in _ENGINE:
        try:
            from vllm import LLM
        except ImportError:
            raise MathlensError("the vllm backend needs vLLM: pip install vllm (a CUDA machine)") from None
        release_engine()  # before the new one takes its memory
        _ENGINE[key] = LLM(model=source, dtype=DTYPES[args.dtype], revision=args.revision,
                           trust_remote_code=args.trust_remote_code)  # fmt: skip
    return _ENGINE[key]


class VLLMBackend(BackendBase):
    name = "vllm"

    def __init__(self, model: str, model_args: ModelArgs | str | None = None) -> None:
        args = ModelArgs.parse(model_args)
        self.llm = _engine(resolve_source(model, args.cache), args)
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, prompts: list[str], sampling: Sampling, keys: Sequence[str] | None = None) -> list[list[str]]:
        from vllm import SamplingParams

        params = SamplingParams(
            n=sampling.n,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_tokens,
            stop=list(sampling.stop) or None,
            include_stop_str_in_output=True,
            seed=sampling.seed,
        )
        # Token ids, not text: vLLM would add special tokens the rendered text already holds;
        # the hf backend encodes with add_special_tokens=False too.
        ids = [{"prompt_token_ids": self.tokenizer(p, add_special_tokens=False)["input_ids"]} for p in prompts]
        results = self.llm.generate(ids, params)
        return [[Completion(c.text, c.finish_reason, len(c.token_ids)) for c in r.outputs] for r in results]
