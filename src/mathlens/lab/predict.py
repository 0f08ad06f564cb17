"""Completions in an answer format from any backend: plain decoding, or with the interpreter for TIR."""

from __future__ import annotations

from collections.abc import Sequence

from ..backends import Backend, Sampling
from ..backends.tools import generate_with_tools
from ..formats import Format
from ..grading import final_answer
from ..sandbox import Sandbox

LAB_TOOL_CALLS = 2  # a lab target makes one call; one more lets a model retry


def complete(
    backend: Backend, prompts: Sequence[str], fmt: Format, max_new_tokens: int, sandbox: Sandbox | None = None
) -> list[dict]:
    """One greedy ``{"completion", "pred", "calls"?}`` per prompt, in order; TIR runs the
    model's code on ``sandbox`` (one is started when none is given)."""
    greedy = Sampling(max_tokens=max_new_tokens)
    if fmt.name != "tir":
        return [{"completion": c[0], "pred": final_answer(c[0])} for c in backend.generate(list(prompts), greedy)]
    solved = generate_with_tools(backend, prompts, greedy, sandbox, max_calls=LAB_TOOL_CALLS)
    return [{"completion": s.completion, "pred": final_answer(s.completion), "calls": s.calls} for (s,) in solved]
