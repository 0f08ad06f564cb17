"""Completions in a given format from any generator: plain decoding, or with the interpreter for TIR."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .formats import Format, final_answer
from .formats.tir import run_python, solve_with_tools
from .models import GPT, CharTokenizer, greedy_decode

Generate = Callable[[list[str]], list[str]]  # texts → continuations, batched


def tiny_generator(model: GPT, tokenizer: CharTokenizer, max_new_tokens: int) -> Generate:
    return lambda texts: greedy_decode(model, tokenizer, texts, max_new_tokens)


def complete(
    generate: Generate,
    prompts: Sequence[str],
    fmt: Format,
    run: Callable[[str], str] = run_python,
    alphabet: set[str] | None = None,
) -> list[dict]:
    """One ``{"completion", "pred", "calls"?}`` per prompt, in order.

    ``alphabet``: the characters a char-level model can read; a tool output's other
    characters (an error's letters, say) are dropped from what it is fed back.
    """
    if fmt.name != "tir":
        return [{"completion": c, "pred": final_answer(c)} for c in generate(list(prompts))]

    def run_readable(code: str) -> str:
        output = run(code)
        return output if alphabet is None else "".join(c for c in output if c in alphabet)

    samples = solve_with_tools(generate, prompts, run_readable)
    return [{"completion": s.completion, "pred": final_answer(s.completion), "calls": s.calls} for s in samples]
