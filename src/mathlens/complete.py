"""Completions in a given format from any generator: plain decoding, or with the interpreter for TIR."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from .formats import Format, final_answer
from .formats.tir import sandbox_runner, solve_with_tools
from .models import GPT, CharTokenizer, greedy_decode
from .sandbox import Sandbox

Generate = Callable[[list[str]], list[str]]  # texts → continuations, batched


def tiny_generator(model: GPT, tokenizer: CharTokenizer, max_new_tokens: int) -> Generate:
    return lambda texts: greedy_decode(model, tokenizer, texts, max_new_tokens)


def complete(
    generate: Generate,
    prompts: Sequence[str],
    fmt: Format,
    sandbox: Sandbox | None = None,
    alphabet: set[str] | None = None,
) -> list[dict]:
    """One ``{"completion", "pred", "calls"?}`` per prompt, in order.

    TIR runs the model's code on ``sandbox`` (a pool of this machine's size is started when
    none is given). ``alphabet``: the characters a char-level model can read; a tool output's
    other characters (an error's letters, say) are dropped from what it is fed back.
    """
    if fmt.name != "tir":
        return [{"completion": c, "pred": final_answer(c)} for c in generate(list(prompts))]

    if sandbox is None:
        with Sandbox(workers=min(4, os.cpu_count() or 1)) as box:
            return complete(generate, prompts, fmt, box, alphabet)
    run = sandbox_runner(sandbox)

    def run_readable(cells: list[list[str]]) -> list[str]:
        outputs = run(cells)
        return outputs if alphabet is None else ["".join(c for c in o if c in alphabet) for o in outputs]

    samples = solve_with_tools(generate, prompts, run_readable)
    return [{"completion": s.completion, "pred": final_answer(s.completion), "calls": s.calls} for s in samples]
