"""vLLM offline inference (``LLM.generate``), imported only when asked for; needs a GPU."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import MathlensError
from .base import Sampling


class VLLMBackend:
    name = "vllm"

    def __init__(self, model: str, **engine_args) -> None:
        try:
            from vllm import LLM
        except ImportError:
            raise MathlensError("the vllm backend needs vLLM: pip install vllm (a CUDA machine)") from None
        self.llm = LLM(model=model, **engine_args)

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
        results = self.llm.generate(prompts, params)
        return [[c.text for c in r.outputs] for r in results]
